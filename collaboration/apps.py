from django.apps import AppConfig


class CollaborationConfig(AppConfig):
    name = "collaboration"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Processing is an engine: it tells us about finished jobs (of every type, next to
        # each type's own finish hook) only through this observer.
        from collaboration.hooks import job_finished
        from processing.engine import job_finish_observe

        job_finish_observe(job_finished)
