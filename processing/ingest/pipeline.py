"""The ingest pipeline: scan (when clamd is configured) → probe → thumbnail + transcode.

Each step is its own job row. When a step finishes, the runner's after_finish hook below
enqueues the next one (inside a transaction, so the message leaves after commit). A run id in
every job's input_params ties the steps of one attempt together: a retry starts a new run, and
late news from an old run never changes the clip.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction

from clips.models import Clip
from common.errors import ErrorCode, ServiceError
from processing.models import ProcessingJob
from processing.runner import after_finish
from processing.scan import clamd_configured
from realtime import messages
from realtime.broadcast import broadcast, user_group

logger = logging.getLogger(__name__)

PIPELINE = "ingest"
RUN_KEY = "ingest_run"
SCAN_QUEUED = "queued"
# Said plainly in the clip's metadata: no scanner means the file was not checked.
SCAN_DISABLED = "unscanned (no scanner configured)"
FINAL_STEPS = (ProcessingJob.JobType.THUMBNAIL, ProcessingJob.JobType.TRANSCODE)
NEXT_STEPS: dict[str, tuple[str, ...]] = {
    ProcessingJob.JobType.SCAN: (ProcessingJob.JobType.PROBE,),
    ProcessingJob.JobType.PROBE: FINAL_STEPS,
}


def _enqueue_step(clip: Clip, job_type: str, run: str) -> ProcessingJob:
    from processing.services import job_enqueue

    return job_enqueue(
        owner=clip.owner,
        job_type=job_type,
        clip=clip,
        project=clip.project,
        input_params={"pipeline": PIPELINE, "run": run},
    )


def ingest_start(*, clip: Clip) -> ProcessingJob:
    """Mark the clip `processing` and enqueue the first step of a new run (see services)."""
    with transaction.atomic():
        locked = Clip.objects.select_for_update().select_related("project", "owner").get(pk=clip.pk)
        if not locked.file_path:
            raise ServiceError(
                "This clip has no stored file to process. Upload the file again.",
                {"clip_id": str(locked.pk)},
                code=ErrorCode.CONFLICT,
            )
        run = uuid.uuid4().hex
        metadata = {k: v for k, v in (locked.metadata or {}).items() if k != "error_code"}
        metadata[RUN_KEY] = run
        first = ProcessingJob.JobType.PROBE
        metadata["scan"] = SCAN_DISABLED
        if clamd_configured():
            first = ProcessingJob.JobType.SCAN
            metadata["scan"] = SCAN_QUEUED
        locked.metadata = metadata
        locked.status = Clip.Status.PROCESSING
        locked.error_message = ""
        locked.save(update_fields=["metadata", "status", "error_message", "updated_at"])
        job = _enqueue_step(locked, first, run)
    for field in ("metadata", "status", "error_message"):
        setattr(clip, field, getattr(locked, field))
    return job


def _run_jobs(clip: Clip, run: str) -> Any:
    return ProcessingJob.objects.filter(clip=clip, input_params__run=run)


def _clip_failed(clip: Clip, job: ProcessingJob, run: str) -> None:
    from processing.services import job_cancel

    if job.status == ProcessingJob.Status.CANCELLED:
        message = "Processing was cancelled. Retry the clip to process it again."
    else:
        message = job.error_message or "The video could not be processed."
    clip.status = Clip.Status.FAILED
    clip.error_message = message
    clip.metadata = {**(clip.metadata or {}), "error_code": ErrorCode.PROCESSING_FAILED}
    clip.save(update_fields=["status", "error_message", "metadata", "updated_at"])
    # The other half of the run (thumbnail or transcode) has no clip to finish any more.
    for sibling in _run_jobs(clip, run).filter(
        status__in=(ProcessingJob.Status.PENDING, ProcessingJob.Status.RUNNING)
    ):
        try:
            job_cancel(job=sibling)
        except ServiceError:
            pass  # it finished in between
    broadcast(
        messages.notification(level="error", message=f"“{clip.name}”: {message}"),
        [user_group(clip.owner_id)],
    )


def _clip_ready(clip: Clip) -> None:
    clip.status = Clip.Status.READY
    clip.error_message = ""
    clip.save(update_fields=["status", "error_message", "updated_at"])
    broadcast(
        messages.notification(level="success", message=f"“{clip.name}” is ready."),
        [user_group(clip.owner_id)],
    )


@after_finish
def ingest_advance(job: ProcessingJob) -> None:
    """Move a clip's ingest on after one of its steps finished."""
    params = job.input_params or {}
    if params.get("pipeline") != PIPELINE or job.clip_id is None or not job.is_finished:
        return
    run = str(params.get("run") or "")
    with transaction.atomic():
        clip = (
            Clip.objects.select_for_update()
            .select_related("project", "owner")
            .filter(pk=job.clip_id)
            .first()
        )
        if clip is None or clip.status != Clip.Status.PROCESSING:
            return  # deleted, or already failed (e.g. the file was discarded by the step)
        if (clip.metadata or {}).get(RUN_KEY) != run:
            return  # a newer run owns the clip now
        if job.status != ProcessingJob.Status.COMPLETED:
            _clip_failed(clip, job, run)
            return
        if job.job_type in NEXT_STEPS:
            existing = set(_run_jobs(clip, run).values_list("job_type", flat=True))
            for step in NEXT_STEPS[job.job_type]:
                # A redelivered message must not start the next steps twice.
                if step not in existing:
                    _enqueue_step(clip, step, run)
            return
        if job.job_type in FINAL_STEPS:
            statuses = dict(
                _run_jobs(clip, run)
                .filter(job_type__in=FINAL_STEPS)
                .values_list("job_type", "status")
            )
            if all(statuses.get(step) == ProcessingJob.Status.COMPLETED for step in FINAL_STEPS):
                _clip_ready(clip)
