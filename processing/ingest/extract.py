"""The extract job: `{start, duration}` of a clip becomes a new clip in the same project.

The cut is re-encoded (frame-accurate, not snapped to keyframes). The new file counts in the
owner's storage like an upload and is ingested like one.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import F

from accounts.models import User
from clips.models import Clip
from clips.storage import clip_original_key
from common.errors import ServiceError
from processing.ffmpeg import commands
from processing.ffmpeg.runner import run_ffmpeg
from processing.files import storage_delete_quietly, storage_replace
from processing.ingest.common import download_original, fit_within, job_clip, media_info
from processing.models import ProcessingJob
from processing.runner import JobContext, JobFailed, register
from projects.models import Project

# The cut keeps the source's resolution up to 4K; beyond that it is scaled down to 4K.
EXTRACT_MAX_LONG = 3840
EXTRACT_MAX_SHORT = 2160


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1024**2):
            digest.update(block)
    return digest.hexdigest()


def extract_name(clip: Clip, start: float, duration: float) -> str:
    return f"{clip.name} ({start:g}–{start + duration:g} s)"[:255]


@register(ProcessingJob.JobType.EXTRACT)
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
    run_ffmpeg(
        commands.extract_args(
            source, output, start=start, duration=duration, width=width, height=height
        ),
        expected_duration=duration,
        on_progress=ctx.progress_callback(5, 90),
        should_cancel=ctx.should_cancel,
        cwd=ctx.tmp_dir,
    )
    if not output.exists() or output.stat().st_size == 0:
        raise JobFailed("Nothing could be extracted from this part of the clip.")
    ctx.check_cancelled()
    size = output.stat().st_size
    digest = _sha256(output)
    new_clip = _store_as_clip(
        source_clip=clip, path=output, size=size, sha256=digest, start=start, duration=duration
    )
    return {
        "clip_id": str(new_clip.pk),
        "name": new_clip.name,
        "start": start,
        "duration": duration,
        "file_size": size,
    }


def _store_as_clip(
    *, source_clip: Clip, path: Path, size: int, sha256: str, start: float, duration: float
) -> Clip:
    """Create the new clip, charge its bytes to the owner and start its ingest, all or nothing.
    Locks in the order project → user, like the clip services."""
    from clips.services import _reserve_quota
    from processing.services import clip_ingest_start
    from projects.services import project_clips_count_refresh

    stored_key = ""
    try:
        with transaction.atomic():
            project = Project.objects.select_for_update().filter(pk=source_clip.project_id).first()
            if project is None:
                raise JobFailed("The project of this clip no longer exists.")
            try:
                _reserve_quota(user_id=source_clip.owner_id, size=size)
            except ServiceError as exc:
                raise JobFailed(exc.message) from exc
            new_clip = Clip.objects.create(
                project=project,
                owner_id=source_clip.owner_id,
                name=extract_name(source_clip, start, duration),
                description=f"Extracted from “{source_clip.name}”.",
                original_filename=f"{Path(source_clip.original_filename or 'clip').stem}-extract.mp4",
                file_size=size,
                sha256=sha256,
                duration=Decimal(str(round(duration, 3))),
                status=Clip.Status.PROCESSING,
                tags=list(source_clip.tags or []),
                metadata={"extracted_from": {"clip_id": str(source_clip.pk), "start": start}},
            )
            stored_key = storage_replace(clip_original_key(new_clip.pk), path)
            new_clip.file_path = stored_key
            new_clip.save(update_fields=["file_path", "updated_at"])
            # The reservation becomes used storage in the same transaction.
            User.objects.filter(pk=source_clip.owner_id).update(
                storage_reserved=F("storage_reserved") - size,
                storage_used=F("storage_used") + size,
            )
            project_clips_count_refresh(project=project)
            clip_ingest_start(clip=new_clip)
    except Exception:
        storage_delete_quietly(stored_key)
        raise
    return new_clip
