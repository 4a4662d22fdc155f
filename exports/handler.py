"""The export job, in three kinds of steps on the `export` queue:

1. plan (the job's own message, run by the job runner): the timeline in chunks, each named by
   its content (exports/chunking.py). An export of an unchanged timeline with the same
   settings returns the earlier file at once. Chunks already in the cache are reused; the
   disk is checked; one message per missing chunk is sent, and the job is handed off.
2. chunk (one message per chunk, any worker): claim the chunk row, render it
   (exports/render.py), mark it ready. The worker whose chunk completes a run — decided by a
   conditional update whose row count is checked — sends the mux message.
3. mux (one message): join the chunks into the file (exports/mux.py), complete the job.

A worker killed mid-chunk loses that chunk only: its message comes back (the broker requeues
a dead worker's messages) and the chunk row, whose heartbeat has gone stale, is claimed again.
A cancel reaches every running chunk within a quarter second (each FFmpeg polls the job's
status); the first step to notice removes what the export rendered and runs the job's finish
hooks, once (another conditional update).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Exists, ExpressionWrapper, F, FloatField, OuterRef, Q, Sum
from django.utils import timezone

from clips.storage import storage_url
from config.api import ServiceError
from exports import engine
from exports.chunking import (
    chunk_key,
    ffmpeg_version,
    plan_chunks,
    result_key,
    source_identity,
)
from exports.engine import JobCancelled, JobFailed, Work
from exports.loudness import Loudness
from exports.models import ExportChunk, ExportPart, ExportRun
from exports.mux import MissingChunk, Part, export_key, export_mux, export_store
from exports.plan import (
    DEFAULT_FORMAT,
    DEFAULT_PRESET,
    check_limits,
    exportable_segments,
    timeline_plan,
)
from exports.render import CopyFailed, chunk_render
from exports.smart import copy_decisions
from exports.sources import job_folder, remove_job_folder
from exports.space import space_check, space_needed
from processing.ffmpeg.export.chunk import ChunkSpec, Encoding
from processing.ffmpeg.export.mux import audio_codec_args
from processing.ffmpeg.runner import FFmpegCancelled, FFmpegError
from processing.files import storage_delete_quietly

logger = logging.getLogger(__name__)

# Progress: planning, then the chunks (by frames), then the mux.
PLAN_DONE = 2.0
CHUNKS_DONE = 90.0
# Chunk progress reaches the database (and every listener) at most this often per chunk.
PROGRESS_INTERVAL = 2.0
# Bump when the mux makes something else of the same chunks.
MUX_FORMAT = 1
BATCH = 500


def _stale_before() -> Any:
    return timezone.now() - timedelta(seconds=settings.PROCESSING_STALE_AFTER_SECONDS)


def _encoding() -> Encoding:
    return Encoding(
        x264_preset=settings.EXPORT_X264_PRESET,
        x264_crf=settings.EXPORT_X264_CRF,
        vp9_crf=settings.EXPORT_VP9_CRF,
    )


def _batches(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


# --- Step 1: plan ------------------------------------------------------------------------------


def export_plan(work: Work) -> dict[str, Any]:
    """The job runner's handler: plan, reuse what exists, hand the rest to chunk messages.
    Nothing the plan fetched stays behind when it fails."""
    try:
        output = _plan(work)
    except BaseException:
        remove_job_folder(work.job.pk)
        raise
    if output is not None:
        return output
    engine.hand_off()


def _plan(work: Work) -> dict[str, Any] | None:
    """The earlier output when the same export exists, else None once chunk messages are on
    their way."""
    started = time.monotonic()
    job = work.job
    project = job.project
    if project is None:
        raise JobFailed("The project of this export no longer exists.")
    params = job.input_params or {}
    fmt = params.get("format", DEFAULT_FORMAT)
    try:
        segments = exportable_segments(project)
        check_limits(segments)
    except ServiceError as exc:
        raise JobFailed(exc.message) from exc
    timeline = timeline_plan(segments, params.get("preset", DEFAULT_PRESET))
    plan = timeline.plan
    if not plan.total_frames:
        raise JobFailed("The timeline is shorter than one frame; there is nothing to export.")
    encoding = _encoding()
    version = ffmpeg_version(settings.FFMPEG_BINARY)
    smart = bool(settings.EXPORT_SMART_PATH) and fmt == "mp4"
    loudness = {
        "target": float(params.get("loudness_target", settings.LOUDNESS_TARGET_LUFS)),
        "true_peak": settings.LOUDNESS_TRUE_PEAK_DBTP,
    }
    identities = {key: source_identity(clip) for key, clip in timeline.clips.items()}
    specs = plan_chunks(plan, timeline.sources)
    naming = {"identities": identities, "fmt": fmt, "encoding": encoding, "ffmpeg": version}
    finish = {
        "mux_format": MUX_FORMAT,
        "loudness": loudness,
        "audio": audio_codec_args(fmt, encoding),
        "smart": smart,
    }
    same = result_key(specs, finish=finish, **naming)
    earlier = _earlier_result(project, same)
    if earlier is not None:
        return {
            **earlier.output_data,
            "download_url": storage_url(earlier.output_data["storage_key"]),
            "download_endpoint": f"/api/process/export/{job.pk}/download",
            "reused_from": str(earlier.pk),
            "timings": {"plan": round(time.monotonic() - started, 3)},
        }
    work.progress(1)

    sources = {
        key: {
            **identities[key],
            "name": clip.name,
            "duration": float(clip.duration or 0),
        }
        for key, clip in timeline.clips.items()
    }
    refusal = None
    if fmt != "mp4":
        refusal = "the smart path applies to MP4 only"
    elif not smart:
        refusal = "the smart path is switched off (EXPORT_SMART_PATH)"
    # Before anything is fetched: counting every chunk as encoded and as copied, whichever
    # the smart path picks, the disk must hold it.
    space_check(
        space_needed(specs, sources, used=timeline.clips, either_way=smart),
        job_folder(job.pk).parent,
    )
    if smart:
        decisions, refusal = copy_decisions(
            job_id=job.pk,
            specs=specs,
            clips=timeline.clips,
            sources=sources,
            encoding=encoding,
        )
        specs = [dataclasses.replace(s, copy=d) for s, d in zip(specs, decisions, strict=True)]
    work.check_cancelled()
    run_settings = {
        "format": fmt,
        "preset": timeline.preset.name,
        "loudness": loudness,
        "encoding": dataclasses.asdict(encoding),
        "ffmpeg": version,
        "smart_refusal": refusal,
        "copying": any(s.copy for s in specs),
    }
    layout = {
        "width": plan.width,
        "height": plan.height,
        "rate": f"{plan.rate.numerator}/{plan.rate.denominator}",
        "frames": plan.total_frames,
        "samples": plan.total_samples,
        "segments": timeline.segments,
        "planned_at": time.time(),
        "plan_seconds": round(time.monotonic() - started, 3),
    }
    # Before the chunks start: from here on only they move the progress, and only forward.
    work.progress(PLAN_DONE)
    with transaction.atomic():
        run, _ = ExportRun.objects.update_or_create(
            job=job,
            defaults={
                "project": project,
                "stage": ExportRun.Stage.RENDERING,
                "settings": run_settings,
                "layout": layout,
                "sources": sources,
                "result_key": same,
                "heartbeat_at": None,
                "mux_attempts": 0,
            },
        )
        _lay_parts(run, specs)
    return None


def _earlier_result(project: Any, key: str) -> Any:
    """A completed export of the same timeline and settings whose file is still stored."""
    runs = (
        ExportRun.objects.filter(
            project=project,
            result_key=key,
            stage=ExportRun.Stage.DONE,
            job__status=engine.COMPLETED,
        )
        .select_related("job")
        .order_by("-job__completed_at")[:3]
    )
    for run in runs:
        stored = (run.job.output_data or {}).get("storage_key")
        if stored and default_storage.exists(stored):
            return run.job
    return None


def _naming(run: ExportRun) -> dict[str, Any]:
    encoding = Encoding(**run.settings["encoding"])
    identities = {
        key: {name: info.get(name) for name in ("file", "size", "sha256")}
        for key, info in run.sources.items()
    }
    return {
        "identities": identities,
        "fmt": run.settings["format"],
        "encoding": encoding,
        "ffmpeg": run.settings["ffmpeg"],
    }


def _lay_parts(run: ExportRun, specs: Sequence[ChunkSpec]) -> None:
    """The run's positions and their chunks (rows made for chunks not in the cache), then one
    message per chunk still to render, or the mux message when none is. In a transaction."""
    naming = _naming(run)
    keys = [chunk_key(spec, **naming) for spec in specs]
    distinct = list(dict.fromkeys(keys))
    by_key = dict(zip(keys, specs, strict=True))
    variant = {"preset": run.settings["preset"], "format": run.settings["format"]}
    ExportPart.objects.filter(run=run).delete()
    ExportChunk.objects.bulk_create(
        [
            ExportChunk(
                key=key,
                project_id=run.project_id,
                created_by_id=run.job_id,
                variant=variant,
                spec=by_key[key].describe(),
                frames=by_key[key].frames,
                samples=by_key[key].samples,
                copy=by_key[key].copy,
            )
            for key in distinct
        ],
        ignore_conflicts=True,
        batch_size=BATCH,
    )
    ExportPart.objects.bulk_create(
        [ExportPart(run=run, index=i, chunk_id=key) for i, key in enumerate(keys)],
        batch_size=BATCH,
    )
    now = timezone.now()
    waiting: list[str] = []
    for batch in _batches(distinct):
        ExportChunk.objects.filter(key__in=batch).update(last_used_at=now)
        waiting += (
            ExportChunk.objects.filter(key__in=batch)
            .exclude(status=ExportChunk.Status.READY)
            .values_list("key", flat=True)
        )
    job_id = str(run.job_id)
    if waiting:
        from exports.tasks import render_export_chunk

        def send() -> None:
            for key in waiting:
                render_export_chunk.send(job_id, key)

        transaction.on_commit(send)
    else:
        queue_mux_if_ready(run.pk)


# --- Shared: moving a run between stages, once ---------------------------------------------


def queue_mux_if_ready(run_id: Any) -> bool:
    """Send the mux message if every chunk of the run is ready; only one caller ever does."""
    unfinished = ExportPart.objects.filter(run_id=OuterRef("pk")).exclude(
        chunk__status=ExportChunk.Status.READY
    )
    queued = (
        ExportRun.objects.filter(pk=run_id, stage=ExportRun.Stage.RENDERING)
        .filter(~Exists(unfinished))
        .update(stage=ExportRun.Stage.MUX_QUEUED, updated_at=timezone.now())
    )
    if queued:
        from exports.tasks import mux_export

        job_id = str(run_id)
        transaction.on_commit(lambda: mux_export.send(job_id))
    return bool(queued)


def _discard(run: ExportRun, *, unfinished_only: bool) -> None:
    """Remove the chunks this export planned (all of them after a cancel: no partial output;
    only the unfinished ones after a failure: the rest is valid cache) and their files."""
    mine = ExportChunk.objects.filter(created_by_id=run.job_id)
    if unfinished_only:
        mine = mine.exclude(status=ExportChunk.Status.READY)
    for key, picture, sound in mine.values_list("key", "picture_key", "sound_key"):
        if ExportChunk.objects.filter(key=key).delete()[0]:
            storage_delete_quietly(picture, sound)


def stop_run(run: ExportRun) -> None:
    """The job is no longer running (cancelled, failed elsewhere, or deleted): the first step
    to notice cleans up, once."""
    status = engine.job_status(run.job_id)
    if status in (engine.CANCELLED, None):
        stopped = ExportRun.objects.filter(pk=run.pk, stage__in=ExportRun.ACTIVE).update(
            stage=ExportRun.Stage.CANCELLED
        )
        if stopped:
            _discard(run, unfinished_only=False)
            storage_delete_quietly(_output_key(run))
            if status is not None:
                engine.job_stopped(run.job_id)
    elif status != engine.COMPLETED:
        stopped = ExportRun.objects.filter(pk=run.pk, stage__in=ExportRun.ACTIVE).update(
            stage=ExportRun.Stage.FAILED
        )
        if stopped:
            _discard(run, unfinished_only=True)
    remove_job_folder(run.job_id)


def _fail(run: ExportRun, failure: JobFailed) -> None:
    if engine.job_status(run.job_id) != engine.RUNNING:
        stop_run(run)
        return
    failed = ExportRun.objects.filter(pk=run.pk, stage__in=ExportRun.ACTIVE).update(
        stage=ExportRun.Stage.FAILED
    )
    if failed:
        logger.warning("export %s failed: %s", run.job_id, failure.user_message)
        engine.job_fail(run.job_id, failure)
        _discard(run, unfinished_only=True)
    remove_job_folder(run.job_id)


def _failure(exc: Exception) -> JobFailed:
    if isinstance(exc, JobFailed):
        return exc
    if isinstance(exc, FFmpegError):
        return JobFailed(
            "The video could not be processed. Try again, or upload the file again if it "
            "keeps failing.",
            f"{exc}\n{exc.stderr}",
        )
    if isinstance(exc, OSError) and exc.errno == 28:  # ENOSPC
        return JobFailed(
            "The server ran out of temporary disk space while processing. Please try again later.",
            traceback.format_exc(),
        )
    if isinstance(exc, OSError):
        return JobFailed(
            "A file could not be read or written while processing. Please try again.",
            traceback.format_exc(),
        )
    logger.exception("export step crashed")
    return JobFailed(
        "Something went wrong on our side while processing. Please try again.",
        traceback.format_exc(),
    )


def _output_key(run: ExportRun) -> str:
    return export_key(run.project_id, run.job_id, run.settings.get("format", DEFAULT_FORMAT))


@contextlib.contextmanager
def _beating(model: Any, **row: Any) -> Iterator[None]:
    """Keep `heartbeat_at` of one row fresh while a step works on it: a row whose heartbeat
    goes stale belongs to a dead worker and may be claimed again."""
    stopped = threading.Event()

    def beat() -> None:
        try:
            while not stopped.wait(settings.PROCESSING_HEARTBEAT_SECONDS):
                model.objects.filter(**row).update(heartbeat_at=timezone.now())
        finally:
            connection.close()

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join()


def _run_progress(run_id: Any) -> None:
    """The job's one progress number: planning, then every chunk weighted by its frames."""
    done = ExpressionWrapper(F("chunk__frames") * F("chunk__progress"), output_field=FloatField())
    totals = ExportPart.objects.filter(run_id=run_id).aggregate(
        total=Sum("chunk__frames"), done=Sum(done)
    )
    if totals["total"]:
        share = float(totals["done"] or 0) / float(totals["total"])
        engine.job_progress(run_id, PLAN_DONE + (CHUNKS_DONE - PLAN_DONE) * share)


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
        _run_progress(run.pk)

    return Work(
        job=run.job,
        tmp_dir=job_folder(run.job_id),
        progress=progress,
        should_cancel=engine.job_cancelled(run.job_id),
    )


# --- Step 2: one chunk -------------------------------------------------------------------------


def _claim_chunk(key: str, job_id: uuid.UUID) -> ExportChunk | None:
    """Take a chunk to render: pending, or rendering on a worker whose heartbeat stopped. The
    export that renders it owns it (its cancel removes it)."""
    claimable = Q(status=ExportChunk.Status.PENDING) | Q(
        status=ExportChunk.Status.RENDERING, heartbeat_at__lt=_stale_before()
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
    _run_progress(run.pk)


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
        _lay_parts(locked, specs)


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
    naming = _naming(run)
    try:
        with _beating(ExportChunk, key=key, status=ExportChunk.Status.RENDERING):
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
        _fail(run, _failure(exc))
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


# --- Step 3: the mux ----------------------------------------------------------------------------


def _claim_mux(job_id: uuid.UUID) -> ExportRun | None:
    claimable = Q(stage=ExportRun.Stage.MUX_QUEUED) | Q(
        stage=ExportRun.Stage.MUXING, heartbeat_at__lt=_stale_before()
    )
    claimed = ExportRun.objects.filter(claimable, pk=job_id).update(
        stage=ExportRun.Stage.MUXING,
        heartbeat_at=timezone.now(),
        mux_attempts=F("mux_attempts") + 1,
    )
    return ExportRun.objects.select_related("job").get(pk=job_id) if claimed else None


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
    key = _output_key(run)
    fmt = run.settings["format"]
    copied = sum(1 for part in parts if part.chunk.copy)
    made_here = {p.chunk_id for p in parts if p.chunk.created_by_id == job_id}
    planned = run.layout.get("planned_at") or time.time()
    return {
        "download_url": storage_url(key),
        "download_endpoint": f"/api/process/export/{job_id}/download",
        "storage_key": key,
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
        with _beating(ExportRun, pk=job_id, stage=ExportRun.Stage.MUXING):
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
            size = export_store(muxed, _output_key(run))
    except MissingChunk as exc:
        logger.warning("export %s: chunk %s is missing from storage", job_id, exc.key)
        _render_again(run, exc.key)
        return
    except (FFmpegCancelled, JobCancelled):
        stop_run(run)
        return
    except Exception as exc:
        _fail(run, _failure(exc))
        return
    done = ExportRun.objects.filter(
        pk=job_id, stage=ExportRun.Stage.MUXING, mux_attempts=run.mux_attempts
    ).update(stage=ExportRun.Stage.DONE, heartbeat_at=None)
    if not done:
        return  # cancelled meanwhile (that step removed the file) or taken over
    job = engine.job_complete(job_id, _output(run, parts, muxed, size))
    if job.status != engine.COMPLETED:
        # Cancelled between the mux and completing: no file stays behind.
        storage_delete_quietly(_output_key(run))
        _discard(run, unfinished_only=False)
    remove_job_folder(job_id)
