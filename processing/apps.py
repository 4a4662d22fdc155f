from django.apps import AppConfig


class ProcessingConfig(AppConfig):
    name = "processing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The export modules still live in processing while they are being reworked; they
        # register their job type here, like any app would in its own ready().
        from processing import export
        from processing.engine import EXPORT_QUEUE, job_type_register
        from processing.models import ProcessingJob

        job_type_register(
            ProcessingJob.JobType.EXPORT,
            handler=export.export_job,
            queue=EXPORT_QUEUE,
            on_finish=lambda job, verdict: export.export_settle_project(job),
        )
