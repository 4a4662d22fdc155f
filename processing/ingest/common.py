"""What the ingest handlers share: fetching the clip and its original, updating the clip row
without losing another job's concurrent changes, and picture-size arithmetic."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django.db import transaction

from clips.models import Clip
from processing.ffmpeg.runner import FFmpegError, ffprobe_args, run_ffprobe_json
from processing.files import storage_download
from processing.media import describe_probe
from processing.runner import JobContext, JobFailed

PROXY_MAX_LONG = 1280
PROXY_MAX_SHORT = 720


def job_clip(ctx: JobContext) -> Clip:
    clip = ctx.job.clip
    if clip is None:
        raise JobFailed("The clip of this job no longer exists.")
    return clip


def is_pipeline(ctx: JobContext) -> bool:
    return (ctx.job.input_params or {}).get("pipeline") == "ingest"


def download_original(ctx: JobContext, clip: Clip) -> Path:
    """A local copy of the clip's original in the job's temp folder (the only thing FFmpeg
    reads). The name carries no user input and no extension: ffprobe decides what it is."""
    if not clip.file_path:
        raise JobFailed(
            "The original file of this clip is no longer stored. Upload the file again."
        )
    dest = ctx.tmp_dir / "source"
    try:
        storage_download(clip.file_path, dest)
    except FileNotFoundError as exc:
        raise JobFailed(
            "The original file of this clip is missing from storage. Upload the file again.",
            str(exc),
        ) from exc
    ctx.check_cancelled()
    return dest


def clip_save(
    clip_id: Any,
    *,
    metadata: dict[str, Any] | None = None,
    nested: dict[str, dict[str, Any]] | None = None,
    **fields: Any,
) -> Clip:
    """Merge `metadata` (and `nested` one level deeper, e.g. one more rendition) into the clip's
    metadata and set `fields`, under the row lock: thumbnail and transcode jobs of one clip run
    in parallel and must not overwrite each other's keys."""
    with transaction.atomic():
        clip = Clip.objects.select_for_update().get(pk=clip_id)
        metadata = dict(metadata or {})
        for key, values in (nested or {}).items():
            current = (clip.metadata or {}).get(key)
            metadata[key] = {**(current if isinstance(current, dict) else {}), **values}
        if metadata:
            clip.metadata = {**(clip.metadata or {}), **metadata}
        for name, value in fields.items():
            setattr(clip, name, value)
        clip.save(update_fields=[*(["metadata"] if metadata else []), *fields, "updated_at"])
    return clip


def media_info(clip: Clip, source: Path) -> dict[str, Any]:
    """What the probe stored about the clip, or a fresh header probe when it stored nothing."""
    info = clip.metadata or {}
    if info.get("display_width") and info.get("duration"):
        return info
    try:
        data = run_ffprobe_json(ffprobe_args(source))
    except FFmpegError as exc:
        raise JobFailed(
            "This clip's file cannot be read as a video.", f"{exc}\n{exc.stderr}"
        ) from exc
    return describe_probe(data, file_size=source.stat().st_size)


def even(value: float) -> int:
    """Rounded down to an even number (H.264 4:2:0 needs even sides), so never above `value`."""
    return max(2, int(value + 1e-6) // 2 * 2)


def fit_within(width: int, height: int, *, max_long: int, max_short: int) -> tuple[int, int]:
    """The largest even size with the aspect of width x height whose long side is at most
    `max_long` and short side at most `max_short`; never larger than the source."""
    if width <= 0 or height <= 0:
        raise ValueError("a picture size must be positive")
    long_side, short_side = max(width, height), min(width, height)
    scale = min(1.0, max_long / long_side, max_short / short_side)
    return even(width * scale), even(height * scale)


def scale_to_height(width: int, height: int, target_height: int) -> tuple[int, int]:
    """An even size of height `target_height` (at most the source's) keeping the aspect."""
    target = min(target_height, height)
    return even(width * target / height), even(target)


def parse_loudnorm_json(stderr: str) -> dict[str, Any]:
    """The last JSON object loudnorm printed (print_format=json), values as floats where
    they are numbers; FFmpeg prints them as strings, "-inf" for silence."""
    matches = re.findall(r"\{[^{}]*\"input_i\"[^{}]*\}", stderr, flags=re.S)
    if not matches:
        raise ValueError("no loudnorm measurement in FFmpeg's output")
    raw = json.loads(matches[-1])
    result: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            result[key] = value
            continue
        result[key] = number if number not in (float("inf"), float("-inf")) else None
    return result
