"""The ingest pipeline: scan (when clamd is configured) → probe → thumbnail + transcode.

Each step is its own job row, run by the processing engine with a handler from
clips.ingest.steps. When a step finishes, `ingest_advance` (the finish hook registered with
each step's job type in ClipsConfig.ready()) enqueues the next one, or marks the clip `ready`
or `failed`, or discards its original when the step's verdict says the file is unusable (an
invalid format, a virus). It runs in the step's final transaction, so the next message leaves
after commit. A run id in every job's input_params ties the steps of one attempt together: a
retry starts a new run, and late news from an old run never changes the clip.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction

from clips.models import Clip
from clips.services.quota import charged_size, quota_free
from clips.storage import clip_files_delete
from common.errors import ErrorCode, ServiceError
from processing.engine import Verdict
from processing.models import ProcessingJob
from processing.scan import clamd_configured
from processing.services import job_cancel, job_enqueue
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


# The verdict of a step that found the original unusable: nothing of it is kept.
DISCARD_ORIGINAL = "discard_original"


def discard_original(error_code: str) -> Verdict:
    return Verdict(DISCARD_ORIGINAL, error_code)


def _enqueue_step(clip: Clip, job_type: str, run: str) -> ProcessingJob:
    return job_enqueue(
        owner=clip.owner,
        job_type=job_type,
        clip=clip,
        project=clip.project,
        input_params={"pipeline": PIPELINE, "run": run},
    )


def clip_ingest_start(*, clip: Clip) -> ProcessingJob:
    """Start the ingest of a clip whose original is stored: mark it `processing` and enqueue
    the first step of a new run (virus scan when clamd is configured, else probe), after
    commit. The clip stays `processing` until the pipeline marks it `ready` or `failed`."""
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


def clip_original_discard(*, clip: Clip, message: str, code: str) -> None:
    """Delete the clip's stored files, give its bytes back and mark it failed with `message`.

    For ingest when the file turns out unusable (invalid format, virus): nothing of it is
    kept, and the clip stays in the library to tell the user why.
    """
    with transaction.atomic():
        locked = Clip.objects.select_for_update().filter(pk=clip.pk).first()
        if locked is None:
            return
        charged = charged_size(locked)
        if charged:
            quota_free(user_id=locked.owner_id, size=charged)
        locked.file_path = ""
        locked.file_size = None
        locked.status = Clip.Status.FAILED
        locked.error_message = message
        locked.metadata = {**(locked.metadata or {}), "error_code": code}
        locked.save(
            update_fields=[
                "file_path",
                "file_size",
                "status",
                "error_message",
                "metadata",
                "updated_at",
            ]
        )
        clip_id = locked.pk
        transaction.on_commit(lambda: clip_files_delete(clip_id), robust=True)
    for field in ("file_path", "file_size", "status", "error_message", "metadata"):
        setattr(clip, field, getattr(locked, field))


def ingest_advance(job: ProcessingJob, verdict: Verdict | None) -> None:
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
            return  # deleted, or already failed
        if (clip.metadata or {}).get(RUN_KEY) != run:
            return  # a newer run owns the clip now
        if verdict is not None and verdict.action == DISCARD_ORIGINAL:
            clip_original_discard(clip=clip, message=job.error_message, code=verdict.error_code)
            return
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
