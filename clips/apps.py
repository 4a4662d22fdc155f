from django.apps import AppConfig


class ClipsConfig(AppConfig):
    name = "clips"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Tell the engines below what the clips app does with them: the job types it owns
        (ingest steps advance the pipeline when they finish) and its part of deleting a
        project (give the storage back, remove the files), and who issues links in job output."""
        from clips.ingest import extract, steps
        from clips.ingest.pipeline import ingest_advance
        from clips.media_links import media_links_for
        from clips.services.clips import project_clips_release
        from processing.engine import job_type_register
        from processing.links import link_issuer_register
        from processing.models import ProcessingJob
        from projects.services import project_delete_hook_register

        JobType = ProcessingJob.JobType
        for job_type, handler in (
            (JobType.SCAN, steps.scan),
            (JobType.PROBE, steps.probe),
            (JobType.THUMBNAIL, steps.thumbnail),
            (JobType.TRANSCODE, steps.transcode),
        ):
            job_type_register(job_type, handler=handler, on_finish=ingest_advance)
        job_type_register(JobType.NORMALIZE_AUDIO, handler=steps.normalize_audio)
        job_type_register(JobType.EXTRACT, handler=extract.extract)
        project_delete_hook_register(project_clips_release)
        # Job output (exports, extracts) gets links under the same access rule as clips.
        link_issuer_register(media_links_for)
