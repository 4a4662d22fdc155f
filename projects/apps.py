from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Answer what the apps below ask: whether a user may watch a project's socket
        (realtime), and what goes with a deleted user (accounts)."""
        from accounts.services import user_delete_hook_register
        from projects.selectors import may_see_project
        from projects.services import projects_delete_for_owner
        from realtime.access import project_access_register

        project_access_register(may_see_project)
        user_delete_hook_register(projects_delete_for_owner)
