from django.apps import AppConfig


class CollaborationConfig(AppConfig):
    name = "collaboration"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Processing is an engine: it tells us about finished jobs only through this hook.
        from collaboration.hooks import job_finished
        from processing.runner import after_finish

        after_finish(job_finished)
