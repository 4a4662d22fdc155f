"""The extract job: `{start, duration}` of a clip becomes a new clip in the same project.

The cut is re-encoded (frame-accurate, not snapped to keyframes). The new file counts in the
owner's storage like an upload and is ingested like one (clip_create_from_local_file).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from clips.ingest.common import download_original, job_clip, media_info
from clips.models import Clip
from clips.services.clips import clip_create_from_local_file
from common.errors import ServiceError
from processing.engine import JobContext, JobFailed
from processing.ffmpeg import commands
from processing.ffmpeg.commands import fit_within

# The cut keeps the source's resolution up to 4K; beyond that it is scaled down to 4K.
EXTRACT_MAX_LONG = 3840
EXTRACT_MAX_SHORT = 2160


def extract_name(clip: Clip, start: float, duration: float) -> str:
    return f"{clip.name} ({start:g}–{start + duration:g} s)"[:255]


def extract(ctx: JobContext) -> dict[str, Any]:
    clip = job_clip(ctx)
    params = ctx.job.input_params or {}
    start, duration = float(params["start"]), float(params["duration"])
    source = download_original(ctx, clip)
    info = media_info(clip, source)
    if start + duration > float(info["duration"]) + 0.001:
        raise JobFailed(
            f"The part to extract ends after the clip, which lasts {float(info['duration']):g} s."
        )
    width, height = fit_within(
        int(info["display_width"]),
        int(info["display_height"]),
        max_long=EXTRACT_MAX_LONG,
        max_short=EXTRACT_MAX_SHORT,
    )
    ctx.progress(5, force=True)
    output = ctx.tmp_dir / "extract.mp4"
    ctx.run_ffmpeg(
        commands.extract_args(
            source, output, start=start, duration=duration, width=width, height=height
        ),
        duration=duration,
        span=(5, 90),
    )
    if not output.exists() or output.stat().st_size == 0:
        raise JobFailed("Nothing could be extracted from this part of the clip.")
    ctx.check_cancelled()
    try:
        new_clip = clip_create_from_local_file(
            project_id=clip.project_id,
            path=output,
            name=extract_name(clip, start, duration),
            original_filename=f"{Path(clip.original_filename or 'clip').stem}-extract.mp4",
            description=f"Extracted from “{clip.name}”.",
            duration=Decimal(str(round(duration, 3))),
            tags=list(clip.tags or []),
            metadata={"extracted_from": {"clip_id": str(clip.pk), "start": start}},
        )
    except ServiceError as exc:  # no room left in the owner's storage, or the project is gone
        raise JobFailed(exc.message) from exc
    return {
        "clip_id": str(new_clip.pk),
        "name": new_clip.name,
        "start": start,
        "duration": duration,
        "file_size": new_clip.file_size,
    }
