"""Job services: creating, enqueuing, cancelling and re-sending jobs, whatever their type."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from common.errors import ErrorCode, ServiceError
from processing.engine import (
    STALE_AFTER,
    finished_message,
    job_finished,
    job_groups,
    job_type_of,
)
from processing.models import ProcessingJob
from processing.tasks import job_send
from realtime.broadcast import broadcast

logger = logging.getLogger(__name__)


def job_enqueue(
    *,
    owner: Any,
    job_type: str,
    clip: Any | None = None,
    project: Any | None = None,
    input_params: dict[str, Any] | None = None,
) -> ProcessingJob:
    """Create a pending job row and send it to its queue once the transaction commits. `clip`
    and `project` only attach the job (for cascades and the API's ids); the engine never reads
    them."""
    job_type_of(job_type)  # refuse a type nobody registered before anything is written
    if project is None and clip is not None:
        project = clip.project
    job = ProcessingJob.objects.create(
        owner=owner,
        clip=clip,
        project=project,
        job_type=job_type,
        input_params=input_params or {},
    )
    transaction.on_commit(lambda: job_send(job))
    return job


def job_cancel(*, job: ProcessingJob) -> ProcessingJob:
    """Cancel a pending or running job. A running FFmpeg notices within a quarter second and
    is stopped; the runner then removes partial outputs."""
    cancellable = (ProcessingJob.Status.PENDING, ProcessingJob.Status.RUNNING)
    with transaction.atomic():
        previous = (
            ProcessingJob.objects.select_for_update()
            .filter(pk=job.pk)
            .values_list("status", flat=True)
            .first()
        )
        updated = ProcessingJob.objects.filter(pk=job.pk, status__in=cancellable).update(
            status=ProcessingJob.Status.CANCELLED,
            completed_at=timezone.now(),
        )
        job.refresh_from_db()
        if not updated:
            raise ServiceError(
                f"This job is already {job.status} and cannot be cancelled.",
                {"status": job.status},
                code=ErrorCode.CONFLICT,
            )
        broadcast(finished_message(job), job_groups(job))
        if previous == ProcessingJob.Status.PENDING:
            # No worker will ever finish this job, so its type's hook hears of it from here.
            transaction.on_commit(lambda: job_finished(job))
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
        job_send(job)
    return len(stale)


def jobs_resend_lost(*, older_than: timedelta, busy_queues: set[str]) -> int:
    """Re-send pending jobs older than `older_than` whose message was lost (the broker was down
    when it was sent), except on `busy_queues`, where they may still be waiting their turn. The
    runner's conditional claim makes a duplicate harmless; at most one re-send an hour per job,
    so a long backlog in prefetch never piles up copies."""
    cutoff = timezone.now() - older_than
    lost = ProcessingJob.objects.filter(status=ProcessingJob.Status.PENDING, created_at__lt=cutoff)
    resent = 0
    for job in lost.only("pk", "job_type")[:500]:
        if job_type_of(job.job_type).queue in busy_queues:
            continue
        if cache.add(f"maintenance:resent:{job.pk}", 1, 3600):
            logger.warning("re-sending pending job %s whose message was lost", job.pk)
            job_send(job)
            resent += 1
    return resent
