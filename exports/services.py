"""Export services: start an export, hand out its file, settle the project when it ends, and
the maintenance of runs and the chunk cache.

The project is `exporting` while an export is pending or running, then `exported`; after a
failed or cancelled export it goes back to what it was (`exported` when an earlier export
exists).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from clips.media_links import MediaLinks
from common.errors import ErrorCode, ServiceError
from exports import loudness
from exports.chunking import chunk_key, ffmpeg_version, plan_chunks, source_identity
from exports.models import ExportChunk, ExportPart, ExportRun
from exports.plan import (
    CAPTIONS_MODES,
    DEFAULT_CAPTIONS,
    DEFAULT_FORMAT,
    DEFAULT_PRESET,
    FORMATS,
    PRESET_NAMES,
    exportable_segments,
    timeline_plan,
)
from processing.ffmpeg.export.chunk import Encoding
from processing.files import storage_delete_quietly
from processing.models import ProcessingJob
from processing.services import job_enqueue
from projects.models import Project
from projects.templates import project_canvas

logger = logging.getLogger(__name__)

EXPORT = ProcessingJob.JobType.EXPORT
ACTIVE = (ProcessingJob.Status.PENDING, ProcessingJob.Status.RUNNING)
# A cached chunk no current timeline needs is kept this long after its last use (an undo, a
# quick re-export with the old cut).
CHUNK_CACHE_GRACE = timedelta(hours=24)
# A chunk queued this long without being claimed lost its message.
CHUNK_LOST_AFTER = timedelta(minutes=10)


def export_start(
    *,
    user: Any,
    project: Project,
    preset: str | None = None,
    fmt: str | None = None,
    loudness_target: float | None = None,
    captions: str | None = None,
) -> ProcessingJob:
    """Validate the timeline and enqueue an export job; the project becomes `exporting`.
    What the request leaves out comes from the project's settings (export_preset,
    export_format, export_captions), else the defaults."""
    defaults = project.settings if isinstance(project.settings, dict) else {}
    preset = preset or defaults.get("export_preset") or DEFAULT_PRESET
    fmt = fmt or defaults.get("export_format") or DEFAULT_FORMAT
    captions = captions or defaults.get("export_captions") or DEFAULT_CAPTIONS
    if captions not in CAPTIONS_MODES:
        raise ServiceError(
            f"Unknown captions {captions!r}: choose one of {', '.join(CAPTIONS_MODES)}.",
            {"field": "captions", "allowed": list(CAPTIONS_MODES)},
        )
    if preset not in PRESET_NAMES:
        raise ServiceError(
            f"Unknown preset {preset!r}: choose one of {', '.join(PRESET_NAMES)}.",
            {"field": "preset", "allowed": list(PRESET_NAMES)},
        )
    if fmt not in FORMATS:
        raise ServiceError(
            f"Unknown format {fmt!r}: choose one of {', '.join(FORMATS)}.",
            {"field": "format", "allowed": list(FORMATS)},
        )
    with transaction.atomic():
        # The row lock makes two export requests of one project queue up here, so the second
        # sees the first one's job and gets a 409.
        locked = Project.objects.select_for_update().get(pk=project.pk)
        running = ProcessingJob.objects.filter(
            project=locked, job_type=EXPORT, status__in=ACTIVE
        ).first()
        if running is not None:
            raise ServiceError(
                "An export of this project is already running. Wait for it to finish or "
                "cancel it first.",
                {"job_id": str(running.pk)},
                code=ErrorCode.CONFLICT,
            )
        target = loudness.loudness_target(locked, loudness_target)
        exportable_segments(locked)
        job = job_enqueue(
            owner=user,
            job_type=EXPORT,
            project=locked,
            input_params={
                "preset": preset,
                "format": fmt,
                "loudness_target": target,
                "captions": captions,
            },
        )
        locked.status = Project.Status.EXPORTING
        locked.save(update_fields=["status", "updated_at"])
    project.status = locked.status
    return job


def export_download_url(*, job: ProcessingJob, links: MediaLinks) -> str:
    """A fresh, short-lived link to a finished export's file, for the caller of `links`."""
    key = (job.output_data or {}).get("storage_key")
    if job.job_type != EXPORT:
        raise ServiceError("This job is not an export.", code=ErrorCode.NOT_FOUND)
    if job.status != ProcessingJob.Status.COMPLETED or not key:
        raise ServiceError(
            f"This export is {job.status}; its file can be downloaded once it has completed.",
            {"status": job.status},
            code=ErrorCode.CONFLICT,
        )
    if not default_storage.exists(key):
        raise ServiceError(
            "This export's file is no longer stored. Export the project again.",
            code=ErrorCode.NOT_FOUND,
        )
    name = (job.output_data or {}).get("file_name") or key.rsplit("/", 1)[-1]
    url = links.url(project_id=job.project_id, key=key, download_name=name)
    if url is None:
        raise ServiceError("No such job.", code=ErrorCode.NOT_FOUND)
    return url


def export_settle_project(job: ProcessingJob) -> None:
    """Once an export job ends: `exported` after success; after a failure or cancel, back to
    `exported` if an earlier export succeeded, else `draft`. Only a project still marked
    `exporting` changes (it may have been archived meanwhile). An after-finish hook."""
    if job.job_type != EXPORT or job.project_id is None:
        return
    jobs = ProcessingJob.objects.filter(project_id=job.project_id, job_type=EXPORT)
    if jobs.filter(status__in=ACTIVE).exists():
        return
    exported = jobs.filter(status=ProcessingJob.Status.COMPLETED).exists()
    status = Project.Status.EXPORTED if exported else Project.Status.DRAFT
    for project in Project.objects.filter(pk=job.project_id, status=Project.Status.EXPORTING):
        project.status = status
        project.save(update_fields=["status", "updated_at"])


# --- Maintenance --------------------------------------------------------------------------------


def exports_recover() -> dict[str, int]:
    """The safety net behind the broker's redelivery: re-send the messages of chunks whose
    worker died (stale heartbeat) or whose message was lost, and of muxes likewise; clean up
    runs whose job ended while no step was there to notice."""
    from exports.runs import queue_mux_if_ready, stop_run
    from exports.tasks import mux_export, render_export_chunk

    stale = timezone.now() - timedelta(seconds=settings.PROCESSING_STALE_AFTER_SECONDS)
    lost = timezone.now() - CHUNK_LOST_AFTER
    counts = {"chunks": 0, "muxes": 0, "stopped": 0}
    runs = ExportRun.objects.filter(stage__in=ExportRun.ACTIVE).select_related("job")
    for run in runs:
        if run.job.status != ProcessingJob.Status.RUNNING:
            stop_run(run)
            counts["stopped"] += 1
            continue
        if run.stage == ExportRun.Stage.RENDERING:
            waiting = ExportChunk.objects.filter(parts__run=run).filter(
                Q(status=ExportChunk.Status.RENDERING, heartbeat_at__lt=stale)
                | Q(status=ExportChunk.Status.PENDING, last_used_at__lt=lost)
            )
            for key in waiting.values_list("key", flat=True).distinct():
                render_export_chunk.send(str(run.pk), key)
                counts["chunks"] += 1
            with transaction.atomic():
                queue_mux_if_ready(run.pk)  # all ready, but the mux message was lost
        elif (run.stage == ExportRun.Stage.MUX_QUEUED and run.updated_at < lost) or (
            run.stage == ExportRun.Stage.MUXING and (run.heartbeat_at or run.updated_at) < stale
        ):
            mux_export.send(str(run.pk))
            counts["muxes"] += 1
    return counts


def export_chunks_prune(*, grace: timedelta = CHUNK_CACHE_GRACE) -> int:
    """Delete cached chunks (rows and files) that no current timeline can use: for each project
    with cached chunks, the chunks its timeline would need now, with each export setting its
    chunks were made for, are kept; so is anything an active export uses or that was used
    within `grace`. Returns how many were deleted."""
    cutoff = timezone.now() - grace
    active = ExportPart.objects.filter(chunk=OuterRef("pk"), run__stage__in=ExportRun.ACTIVE)
    candidates = ExportChunk.objects.filter(last_used_at__lt=cutoff).filter(~Exists(active))
    by_project: dict[Any, list[ExportChunk]] = defaultdict(list)
    for chunk in candidates.only("key", "project_id", "variant", "picture_key", "sound_key"):
        by_project[chunk.project_id].append(chunk)
    removed = 0
    for project_id, chunks in by_project.items():
        wanted = _wanted_keys(project_id, {_variant_key(c.variant) for c in chunks})
        for chunk in chunks:
            if chunk.key in wanted:
                continue
            deleted = (
                ExportChunk.objects.filter(key=chunk.key, last_used_at__lt=cutoff)
                .filter(~Exists(active))
                .delete()[0]
            )
            if deleted:
                storage_delete_quietly(chunk.picture_key, chunk.sound_key)
                removed += 1
    if removed:
        logger.info("pruned %d cached export chunks", removed)
    return removed


def _variant_key(variant: dict[str, Any]) -> tuple[str, str, str]:
    return (
        str(variant.get("preset") or DEFAULT_PRESET),
        str(variant.get("format") or DEFAULT_FORMAT),
        str(variant.get("captions") or DEFAULT_CAPTIONS),
    )


def _wanted_keys(project_id: Any, variants: set[tuple[str, str, str]]) -> set[str]:
    """The chunk names the project's current timeline would use, copied or encoded, for each
    (preset, format); nothing when it cannot be exported as it stands."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return set()
    try:
        segments = exportable_segments(project)
    except ServiceError:
        return set()
    encoding = Encoding(
        x264_preset=settings.EXPORT_X264_PRESET,
        x264_crf=settings.EXPORT_X264_CRF,
        vp9_crf=settings.EXPORT_VP9_CRF,
    )
    version = ffmpeg_version(settings.FFMPEG_BINARY)
    wanted: set[str] = set()
    for preset, fmt, captions in variants:
        timeline = timeline_plan(
            segments, preset, canvas=project_canvas(project.settings), captions=captions
        )
        identities = {key: source_identity(clip) for key, clip in timeline.clips.items()}
        for spec in plan_chunks(timeline.plan, timeline.sources):
            for copy in (False, True) if fmt == "mp4" else (False,):
                wanted.add(
                    chunk_key(
                        dataclasses.replace(spec, copy=copy),
                        identities=identities,
                        fmt=fmt,
                        encoding=encoding,
                        ffmpeg=version,
                    )
                )
    return wanted
