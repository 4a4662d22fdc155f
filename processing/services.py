"""Processing services: creating, enqueuing, cancelling and re-queuing jobs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from common.errors import ErrorCode, ServiceError
from processing.models import ProcessingJob
from processing.runner import STALE_AFTER, finished_message, job_groups, run_after_finish_hooks
from realtime.broadcast import broadcast

if TYPE_CHECKING:
    from clips.models import Clip

logger = logging.getLogger(__name__)

EXPORT_JOB_TYPES = {ProcessingJob.JobType.EXPORT}
# What POST /api/process/clip may start on a ready clip.
CLIP_OPERATIONS = ("transcode", "normalize_audio", "extract", "probe", "thumbnail")
RENDITION_FORMATS = ("mp4", "webm")
RENDITION_MIN_HEIGHT = 144
RENDITION_MAX_HEIGHT = 4320
EXTRACT_MIN_SECONDS = 0.1


def _send(job: ProcessingJob) -> None:
    job_send(job)


def job_send(job: ProcessingJob, *, delay_seconds: float | None = None) -> None:
    """Send a job's id to its queue (call after commit), optionally to run after a delay."""
    from processing.tasks import run_export_job, run_media_job

    actor = run_export_job if job.job_type in EXPORT_JOB_TYPES else run_media_job
    if delay_seconds:
        actor.send_with_options(args=(str(job.pk),), delay=int(delay_seconds * 1000))
    else:
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
        previous = (
            ProcessingJob.objects.select_for_update()
            .filter(pk=job.pk)
            .values_list("status", flat=True)
            .first()
        )
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
        broadcast(message, groups)
        if previous == ProcessingJob.Status.PENDING:
            # No worker will ever finish this job, so its pipeline moves on from here.
            transaction.on_commit(lambda: run_after_finish_hooks(job))
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
    """Start the ingest pipeline of a clip whose original is stored: virus scan (when clamd is
    configured) → probe → thumbnails and proxy, each a job enqueued after commit. The clip is
    `processing` until the pipeline marks it `ready` or `failed`. Returns the first job."""
    from processing.ingest.pipeline import ingest_start

    return ingest_start(clip=clip)


def _params_error(field: str, message: str) -> ServiceError:
    return ServiceError(
        f"Please correct the request: {message}", {"fields": {f"params.{field}": [message]}}
    )


def _number(params: dict[str, Any], field: str) -> float:
    value = params.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _params_error(field, f"{field} must be a number of seconds.")
    try:
        number = float(value)
    except ValueError as exc:
        raise _params_error(field, f"{field} must be a number of seconds.") from exc
    if number != number or number in (float("inf"), float("-inf")):
        raise _params_error(field, f"{field} must be a number of seconds.")
    return round(number, 3)


def clip_operation_params(*, clip: Clip, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """Check an operation's params against the clip; returns the params the job will carry."""
    allowed = {"transcode": {"height", "format"}, "extract": {"start", "duration"}}.get(
        operation, set()
    )
    unknown = sorted(set(params) - allowed)
    if unknown:
        expected = ", ".join(sorted(allowed)) or "none"
        raise _params_error(
            unknown[0], f"{operation} does not take {', '.join(unknown)} (it takes: {expected})."
        )
    info = clip.metadata or {}
    if operation == "transcode":
        if not params:
            return {}  # the editor's proxy
        height = params.get("height")
        if isinstance(height, bool) or not isinstance(height, int):
            raise _params_error(
                "height", "height must be a whole number of pixels, like 480 or 1080."
            )
        source_height = int(info.get("display_height") or RENDITION_MAX_HEIGHT)
        limit = min(RENDITION_MAX_HEIGHT, source_height)
        if not RENDITION_MIN_HEIGHT <= height <= limit:
            raise _params_error(
                "height",
                f"height must be between {RENDITION_MIN_HEIGHT} and {limit} pixels "
                f"(this clip is {source_height} pixels high).",
            )
        fmt = params.get("format", "mp4")
        if fmt not in RENDITION_FORMATS:
            raise _params_error("format", "format must be mp4 or webm.")
        return {"height": height, "format": fmt}
    if operation == "normalize_audio" and info.get("has_audio") is False:
        raise ServiceError(
            "This clip has no audio, so there is nothing to normalise.",
            {"clip_id": str(clip.pk)},
        )
    if operation == "extract":
        for field in ("start", "duration"):
            if field not in params:
                raise _params_error(field, f"extract needs {field} (seconds).")
        start, duration = _number(params, "start"), _number(params, "duration")
        if start < 0:
            raise _params_error("start", "start cannot be negative.")
        if duration < EXTRACT_MIN_SECONDS:
            raise _params_error(
                "duration", f"duration must be at least {EXTRACT_MIN_SECONDS:g} seconds."
            )
        clip_duration = float(clip.duration or 0)
        if start + duration > clip_duration + 0.0005:
            raise _params_error(
                "duration",
                f"start + duration ({start + duration:g} s) goes past the end of the clip "
                f"({clip_duration:g} s).",
            )
        return {"start": start, "duration": duration}
    return {}


def clip_process_start(
    *, user: Any, clip: Clip, operation: str, params: dict[str, Any]
) -> ProcessingJob:
    """Start one processing operation on a ready clip (POST /api/process/clip)."""
    from clips.models import Clip as ClipModel

    if operation not in CLIP_OPERATIONS:
        raise _params_error("operation", f"operation must be one of {', '.join(CLIP_OPERATIONS)}.")
    with transaction.atomic():
        locked = ClipModel.objects.select_for_update().select_related("project").get(pk=clip.pk)
        if locked.status != ClipModel.Status.READY or not locked.file_path:
            raise ServiceError(
                f"This clip is {locked.status}; it can be processed once it is ready."
                + (" Retry it first." if locked.status == ClipModel.Status.FAILED else ""),
                {"status": locked.status},
                code=ErrorCode.CONFLICT,
            )
        job_params = clip_operation_params(clip=locked, operation=operation, params=params)
        return job_enqueue(
            owner=user,
            job_type=operation,
            clip=locked,
            project=locked.project,
            input_params=job_params,
        )
