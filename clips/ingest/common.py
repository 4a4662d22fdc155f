"""What the clip job handlers share: fetching the clip and its original, and updating the clip
row without losing another job's concurrent changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction

from clips.models import Clip
from processing.engine import JobContext, JobFailed
from processing.ffmpeg.runner import FFmpegError, ffprobe_args, run_ffprobe_json
from processing.files import storage_download
from processing.media import describe_probe

PROXY_MAX_LONG = 1280
PROXY_MAX_SHORT = 720


def job_clip(ctx: JobContext) -> Clip:
    clip = ctx.job.clip
    if clip is None:
        raise JobFailed("The clip of this job no longer exists.")
    return clip


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
    if info.get("display_width") and (info.get("duration") or info.get("still")):
        return info
    try:
        data = run_ffprobe_json(ffprobe_args(source))
    except FFmpegError as exc:
        raise JobFailed(
            "This clip's file cannot be read as a video.", f"{exc}\n{exc.stderr}"
        ) from exc
    return describe_probe(data, file_size=source.stat().st_size)
