from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Answer what the apps below ask: whether a user may watch a project's socket
        (realtime), who may follow or cancel a project's jobs (processing), and what goes
        with a deleted user (accounts)."""
        from accounts.services import user_delete_hook_register
        from processing.access import job_access_register
        from projects.selectors import job_project_check, may_see_project, project_ids_visible_to
        from projects.services import projects_delete_for_owner
        from realtime.access import project_access_register

        project_access_register(may_see_project)
        job_access_register(check=job_project_check, visible=project_ids_visible_to)
        user_delete_hook_register(projects_delete_for_owner)
