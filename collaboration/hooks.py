"""Finished processing jobs become notifications.

Registered with processing.engine.job_finish_observe in CollaborationConfig.ready(): the engine
calls it in the job's final transaction, after the job type's own finish hook, so processing
never imports this app. It may run again for one job (a redelivered message), hence the
notification keys.
"""

from __future__ import annotations

import uuid

from django.db import transaction

from clips.models import Clip
from collaboration.models import Notification
from collaboration.services.notifications import notification_create
from processing.models import ProcessingJob


def job_finished(job: ProcessingJob) -> None:
    if job.job_type == ProcessingJob.JobType.EXPORT:
        _export_finished(job)
    elif job.clip_id is not None:
        # The ingest pipeline's own hook decides the clip's status in this same transaction;
        # read it once everything is committed, whichever hook runs first.
        clip_id = job.clip_id
        transaction.on_commit(lambda: clip_settled_notify(clip_id=clip_id), robust=True)


def _export_finished(job: ProcessingJob) -> None:
    if job.project is None or job.status == ProcessingJob.Status.CANCELLED:
        return
    output = job.output_data or {}
    data = {
        "job_id": str(job.pk),
        "download_endpoint": f"/api/process/export/{job.pk}/download",
        "format": output.get("format"),
        "size": output.get("size"),
    }
    if job.status == ProcessingJob.Status.COMPLETED:
        notification_create(
            user_id=job.owner_id,
            kind=Notification.Kind.EXPORT_COMPLETED,
            level=Notification.Level.SUCCESS,
            message=f"The export of “{job.project.name}” is ready to download.",
            project_id=job.project_id,
            data=data,
            key=f"export:{job.pk}",
        )
    elif job.status == ProcessingJob.Status.FAILED:
        notification_create(
            user_id=job.owner_id,
            kind=Notification.Kind.EXPORT_FAILED,
            level=Notification.Level.ERROR,
            message=f"The export of “{job.project.name}” failed: {job.error_message}",
            project_id=job.project_id,
            data={"job_id": str(job.pk)},
            key=f"export:{job.pk}",
        )


def clip_settled_notify(*, clip_id: uuid.UUID) -> None:
    """Tell the clip's owner (whose storage it uses: the project's owner) that it is ready or
    failed, once per processing run."""
    clip = Clip.objects.select_related("project").filter(pk=clip_id).first()
    if clip is None or clip.status not in (Clip.Status.READY, Clip.Status.FAILED):
        return
    run = (clip.metadata or {}).get("ingest_run", "")
    data = {"clip_id": str(clip.pk), "clip_name": clip.name}
    if clip.status == Clip.Status.READY:
        notification_create(
            user_id=clip.owner_id,
            kind=Notification.Kind.CLIP_READY,
            level=Notification.Level.SUCCESS,
            message=f"“{clip.name}” is ready in “{clip.project.name}”.",
            project_id=clip.project_id,
            data=data,
            key=f"clip:{clip.pk}:{run}:ready",
        )
    else:
        notification_create(
            user_id=clip.owner_id,
            kind=Notification.Kind.CLIP_FAILED,
            level=Notification.Level.ERROR,
            message=f"“{clip.name}” could not be processed: {clip.error_message}",
            project_id=clip.project_id,
            data=data,
            key=f"clip:{clip.pk}:{run}:failed",
        )
