"""The export's steps after planning, one Dramatiq message each (exports/tasks.py):

- a chunk: claim its row (pending, or rendering on a worker whose heartbeat stopped), render it
  (exports/render.py), mark it ready; the worker whose chunk completes the run queues the mux;
- the mux: claim the run, join the chunks into the export's file (exports/mux.py), complete
  the job.

Each checks first that the export still runs: a step of a cancelled or failed export only
cleans up.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from exports import engine
from exports.engine import JobCancelled, Work
from exports.loudness import Loudness
from exports.models import ExportChunk, ExportPart, ExportRun
from exports.mux import MissingChunk, Part, export_file_name, export_mux, export_store
from exports.render import CopyFailed, chunk_render
from exports.runs import (
    beating,
    discard,
    fail_run,
    failure,
    lay_parts,
    output_key,
    queue_mux_if_ready,
    run_naming,
    run_progress,
    stale_before,
    stop_run,
)
from exports.sources import job_folder, remove_job_folder
from processing.ffmpeg.export.chunk import ChunkSpec, Encoding
from processing.ffmpeg.runner import FFmpegCancelled
from processing.files import storage_delete_quietly

logger = logging.getLogger(__name__)

# Chunk progress reaches the database (and every listener) at most this often per chunk.
PROGRESS_INTERVAL = 2.0


def _chunk_work(run: ExportRun, key: str) -> Work:
    last = [0.0]

    def progress(percent: float) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_INTERVAL:
            return
        last[0] = now
        ExportChunk.objects.filter(key=key, status=ExportChunk.Status.RENDERING).update(
            progress=max(0.0, min(1.0, percent / 100))
        )
        run_progress(run.pk)

    return Work(
        job=run.job,
        tmp_dir=job_folder(run.job_id),
        progress=progress,
        should_cancel=engine.job_cancelled(run.job_id),
    )


def _claim_chunk(key: str, job_id: uuid.UUID) -> ExportChunk | None:
    """Take a chunk to render: pending, or rendering on a worker whose heartbeat stopped. The
    export that renders it owns it (its cancel removes it)."""
    claimable = Q(status=ExportChunk.Status.PENDING) | Q(
        status=ExportChunk.Status.RENDERING, heartbeat_at__lt=stale_before()
    )
    claimed = ExportChunk.objects.filter(claimable, key=key).update(
        status=ExportChunk.Status.RENDERING,
        heartbeat_at=timezone.now(),
        attempts=F("attempts") + 1,
        progress=0,
        created_by_id=job_id,
    )
    return ExportChunk.objects.get(key=key) if claimed else None


def _release(chunk: ExportChunk) -> None:
    ExportChunk.objects.filter(
        key=chunk.key, status=ExportChunk.Status.RENDERING, attempts=chunk.attempts
    ).update(status=ExportChunk.Status.PENDING, heartbeat_at=None, progress=0)


def _chunk_done(run: ExportRun, chunk: ExportChunk) -> None:
    """After a chunk is ready: every run it completes sends its mux message."""
    waiting = (
        ExportRun.objects.filter(stage=ExportRun.Stage.RENDERING, parts__chunk_id=chunk.key)
        .values_list("pk", flat=True)
        .distinct()
    )
    for run_id in list(waiting):
        queue_mux_if_ready(run_id)
    run_progress(run.pk)


def _replan_without_copy(run: ExportRun, reason: str) -> None:
    """A copied chunk came out wrong: encode every chunk instead (the video track has one set
    of codec parameters, so copied and encoded chunks mix only when they share it)."""
    with transaction.atomic():
        locked = ExportRun.objects.select_for_update().get(pk=run.pk)
        if locked.stage != ExportRun.Stage.RENDERING or not locked.settings.get("copying"):
            return
        logger.warning("export %s: smart path abandoned: %s", run.job_id, reason)
        parts = locked.parts.select_related("chunk").order_by("index")
        specs = [
            dataclasses.replace(ChunkSpec.from_description(part.chunk.spec), copy=False)
            for part in parts
        ]
        locked.settings = {**locked.settings, "copying": False, "smart_refusal": reason}
        locked.save(update_fields=["settings", "updated_at"])
        lay_parts(locked, specs)


def chunk_step(job_id: uuid.UUID, key: str) -> None:
    """The chunk message: render one chunk of a running export, unless another worker has
    it (a duplicate message), it is ready already, or the export stopped."""
    run = ExportRun.objects.select_related("job").filter(pk=job_id).first()
    if run is None or run.stage not in ExportRun.ACTIVE:
        remove_job_folder(job_id)
        return
    if engine.job_status(job_id) != engine.RUNNING:
        stop_run(run)
        return
    chunk = _claim_chunk(key, job_id)
    if chunk is None:
        chunk_row = ExportChunk.objects.filter(key=key).first()
        if chunk_row is not None and chunk_row.status == ExportChunk.Status.READY:
            _chunk_done(run, chunk_row)
        return
    work = _chunk_work(run, key)
    spec = ChunkSpec.from_description(chunk.spec)
    naming = run_naming(run)
    try:
        with beating(ExportChunk, key=key, status=ExportChunk.Status.RENDERING):
            rendered = chunk_render(
                work=work,
                key=key,
                spec=spec,
                project_id=run.project_id,
                fmt=naming["fmt"],
                encoding=naming["encoding"],
                sources=run.sources,
            )
    except (FFmpegCancelled, JobCancelled):
        _release(chunk)
        stop_run(run)
        return
    except CopyFailed as exc:
        _release(chunk)
        _replan_without_copy(run, str(exc))
        return
    except Exception as exc:
        _release(chunk)
        fail_run(run, failure(exc))
        return
    ready = ExportChunk.objects.filter(
        key=key, status=ExportChunk.Status.RENDERING, attempts=chunk.attempts
    ).update(
        status=ExportChunk.Status.READY,
        picture_key=rendered.picture_key,
        sound_key=rendered.sound_key,
        size=rendered.size,
        progress=1,
        heartbeat_at=None,
    )
    if not ready and not ExportChunk.objects.filter(key=key).exists():
        # The export was cancelled while this chunk was stored: it is nobody's now.
        storage_delete_quietly(rendered.picture_key, rendered.sound_key)
    if ready:
        _chunk_done(run, chunk)
    if engine.job_status(job_id) != engine.RUNNING:
        stop_run(run)


def _claim_mux(job_id: uuid.UUID) -> ExportRun | None:
    claimable = Q(stage=ExportRun.Stage.MUX_QUEUED) | Q(
        stage=ExportRun.Stage.MUXING, heartbeat_at__lt=stale_before()
    )
    claimed = ExportRun.objects.filter(claimable, pk=job_id).update(
        stage=ExportRun.Stage.MUXING,
        heartbeat_at=timezone.now(),
        mux_attempts=F("mux_attempts") + 1,
    )
    return ExportRun.objects.select_related("job", "project").get(pk=job_id) if claimed else None


def _render_again(run: ExportRun, key: str) -> None:
    """A chunk's stored file vanished: back to rendering that chunk, then muxing again."""
    with transaction.atomic():
        ExportChunk.objects.filter(key=key).update(
            status=ExportChunk.Status.PENDING, picture_key="", sound_key="", progress=0
        )
        moved = ExportRun.objects.filter(
            pk=run.pk, stage=ExportRun.Stage.MUXING, mux_attempts=run.mux_attempts
        ).update(stage=ExportRun.Stage.RENDERING, heartbeat_at=None)
        if moved:
            from exports.tasks import render_export_chunk

            job_id = str(run.job_id)
            transaction.on_commit(lambda: render_export_chunk.send(job_id, key))


def _output(run: ExportRun, parts: Sequence[ExportPart], muxed: Any, size: int) -> dict[str, Any]:
    job_id = run.job_id
    key = output_key(run)
    fmt = run.settings["format"]
    copied = sum(1 for part in parts if part.chunk.copy)
    made_here = {p.chunk_id for p in parts if p.chunk.created_by_id == job_id}
    planned = run.layout.get("planned_at") or time.time()
    return {
        "download_endpoint": f"/api/process/export/{job_id}/download",
        "storage_key": key,
        # The downloaded file is named after the project (API.md "Canvas, …").
        "file_name": export_file_name(run.project.name if run.project else "", fmt),
        **run.settings.get("sidecar", {}),
        "duration": round(muxed.duration, 3),
        "frames": run.layout["frames"],
        "frame_rate": run.layout["rate"],
        "size": size,
        "format": fmt,
        "resolution": f"{run.layout['width']}x{run.layout['height']}",
        "preset": run.settings["preset"],
        "path": "smart" if copied == len(parts) else "full" if not copied else "mixed",
        "smart_path_refusal": run.settings.get("smart_refusal"),
        "chunks": {
            "count": len(parts),
            "distinct": len({p.chunk_id for p in parts}),
            "rendered": len(made_here),
            "reused": len({p.chunk_id for p in parts} - made_here),
            "copied": copied,
        },
        "timings": {
            "plan": run.layout.get("plan_seconds"),
            "chunks": round(max(0.0, time.time() - planned - sum(muxed.timings.values())), 3),
            **muxed.timings,
        },
        "loudness": muxed.loudness.report(),
    }


def mux_step(job_id: uuid.UUID) -> None:
    """The mux message: join a run's chunks into the export's file and complete the job."""
    run = _claim_mux(job_id)
    if run is None:
        existing = ExportRun.objects.filter(pk=job_id).first()
        if existing is not None and engine.job_status(job_id) != engine.RUNNING:
            stop_run(existing)
        return
    if engine.job_status(job_id) != engine.RUNNING:
        stop_run(run)
        return
    parts = list(run.parts.select_related("chunk").order_by("index"))
    work = Work(
        job=run.job,
        tmp_dir=job_folder(job_id),
        progress=lambda percent: engine.job_progress(job_id, percent),
        should_cancel=engine.job_cancelled(job_id),
    )
    fmt = run.settings["format"]
    target = run.settings["loudness"]
    try:
        with beating(ExportRun, pk=job_id, stage=ExportRun.Stage.MUXING):
            muxed = export_mux(
                work=work,
                parts=[
                    Part(
                        p.chunk_id,
                        p.chunk.picture_key,
                        p.chunk.sound_key,
                        p.chunk.frames,
                        p.chunk.samples,
                    )
                    for p in parts
                ],
                fmt=fmt,
                rate=ChunkSpec.from_description(parts[0].chunk.spec).rate,
                total_frames=run.layout["frames"],
                total_samples=run.layout["samples"],
                loudness=Loudness(target["target"], target["true_peak"]),
                encoding=Encoding(**run.settings["encoding"]),
            )
            work.check_cancelled()
            size = export_store(muxed, output_key(run))
    except MissingChunk as exc:
        logger.warning("export %s: chunk %s is missing from storage", job_id, exc.key)
        _render_again(run, exc.key)
        return
    except (FFmpegCancelled, JobCancelled):
        stop_run(run)
        return
    except Exception as exc:
        fail_run(run, failure(exc))
        return
    done = ExportRun.objects.filter(
        pk=job_id, stage=ExportRun.Stage.MUXING, mux_attempts=run.mux_attempts
    ).update(stage=ExportRun.Stage.DONE, heartbeat_at=None)
    if not done:
        return  # cancelled meanwhile (that step removed the file) or taken over
    job = engine.job_complete(job_id, _output(run, parts, muxed, size))
    if job.status != engine.COMPLETED:
        # Cancelled between the mux and completing: no file stays behind.
        storage_delete_quietly(output_key(run))
        discard(run, unfinished_only=False)
    remove_job_folder(job_id)
