"""Processing services: creating, enqueuing, cancelling and re-queuing jobs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from config.api import ErrorCode, ServiceError
from processing import events
from processing.models import ProcessingJob
from processing.runner import STALE_AFTER, finished_message, job_groups

if TYPE_CHECKING:
    from clips.models import Clip

logger = logging.getLogger(__name__)

EXPORT_JOB_TYPES = {ProcessingJob.JobType.EXPORT}


def _send(job: ProcessingJob) -> None:
    from processing.tasks import run_export_job, run_media_job

    actor = run_export_job if job.job_type in EXPORT_JOB_TYPES else run_media_job
    actor.send(str(job.pk))


def job_enqueue(
    *,
    owner: Any,
    job_type: str,
    clip: Clip | None = None,
    project: Any | None = None,
    input_params: dict[str, Any] | None = None,
) -> ProcessingJob:
    """Create a pending job row and send it to its queue once the transaction commits."""
    if project is None and clip is not None:
        project = clip.project
    job = ProcessingJob.objects.create(
        owner=owner,
        clip=clip,
        project=project,
        job_type=job_type,
        input_params=input_params or {},
    )
    transaction.on_commit(lambda: _send(job))
    return job


def job_cancel(*, job: ProcessingJob) -> ProcessingJob:
    """Cancel a pending or running job. A running FFmpeg notices within a quarter second and
    is stopped; the runner then removes partial outputs."""
    cancellable = (ProcessingJob.Status.PENDING, ProcessingJob.Status.RUNNING)
    with transaction.atomic():
        updated = ProcessingJob.objects.filter(pk=job.pk, status__in=cancellable).update(
            status=ProcessingJob.Status.CANCELLED,
            cancel_requested=True,
            completed_at=timezone.now(),
        )
        job.refresh_from_db()
        if not updated:
            raise ServiceError(
                f"This job is already {job.status} and cannot be cancelled.",
                {"status": job.status},
                code=ErrorCode.CONFLICT,
            )
        message = finished_message(job)
        groups = job_groups(job)
        transaction.on_commit(lambda: events.send_now(groups, message))
    return job


def jobs_requeue_stale() -> int:
    """Re-send jobs whose worker died (running, heartbeat too old): the runner re-claims them.
    Broker redelivery usually gets there first; this sweep is the safety net."""
    cutoff = timezone.now() - STALE_AFTER
    stale = list(
        ProcessingJob.objects.filter(
            status=ProcessingJob.Status.RUNNING, heartbeat_at__lt=cutoff
        ).only("pk", "job_type")
    )
    for job in stale:
        logger.warning("re-queuing job %s whose worker stopped sending heartbeats", job.pk)
        _send(job)
    return len(stale)


def clip_ingest_start(*, clip: Clip) -> ProcessingJob:
    """Create the clip's ingest job (scan, probe, thumbnails, proxy) and enqueue it on commit."""
    raise NotImplementedError("the ingest pipeline is being built")
