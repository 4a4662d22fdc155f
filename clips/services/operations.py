"""Processing operations a user starts on a ready clip (POST /api/process/clip): checking their
params against the clip and enqueuing the job."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from clips.models import Clip
from common.errors import ErrorCode, ServiceError
from processing.models import ProcessingJob
from processing.services import job_enqueue

# What POST /api/process/clip may start on a ready clip.
CLIP_OPERATIONS = ("transcode", "normalize_audio", "extract", "probe", "thumbnail")
RENDITION_FORMATS = ("mp4", "webm")
RENDITION_MIN_HEIGHT = 144
RENDITION_MAX_HEIGHT = 4320
EXTRACT_MIN_SECONDS = 0.1


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
    if info.get("still") and operation in ("extract", "transcode") and params:
        raise ServiceError(
            f"This clip is a still image: it has no length to {operation}. Place it on the "
            "timeline for as long as it should show.",
            {"clip_id": str(clip.pk), "field": "operation"},
        )
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
    if operation not in CLIP_OPERATIONS:
        raise _params_error("operation", f"operation must be one of {', '.join(CLIP_OPERATIONS)}.")
    with transaction.atomic():
        locked = Clip.objects.select_for_update().select_related("project").get(pk=clip.pk)
        if locked.status != Clip.Status.READY or not locked.file_path:
            raise ServiceError(
                f"This clip is {locked.status}; it can be processed once it is ready."
                + (" Retry it first." if locked.status == Clip.Status.FAILED else ""),
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
