from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from projects.selectors import may_see_project
        from realtime.access import project_access_register

        project_access_register(may_see_project)
