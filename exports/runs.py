"""An export run's state, moved on exactly once: its positions laid out and their chunks' messages
sent, the mux queued when the last chunk is ready, and what happens when the export fails or
is cancelled. Every move is a conditional update whose row count says who moved it; the
steps that call these (exports/handler.py, exports/steps.py) may run on any worker, twice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, ExpressionWrapper, F, FloatField, OuterRef, Sum
from django.utils import timezone

from exports import engine
from exports.chunking import (
    chunk_key,
)
from exports.engine import JobFailed
from exports.models import ExportChunk, ExportPart, ExportRun
from exports.mux import export_key
from exports.plan import (
    DEFAULT_FORMAT,
)
from exports.sources import remove_job_folder
from processing.ffmpeg.export.chunk import ChunkSpec, Encoding
from processing.ffmpeg.runner import FFmpegError
from processing.files import storage_delete_quietly

logger = logging.getLogger(__name__)

# Progress: planning, then the chunks (by frames), then the mux.
PLAN_DONE = 2.0
CHUNKS_DONE = 90.0
BATCH = 500


def stale_before() -> Any:
    return timezone.now() - timedelta(seconds=settings.PROCESSING_STALE_AFTER_SECONDS)


def batches(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def run_naming(run: ExportRun) -> dict[str, Any]:
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


def lay_parts(run: ExportRun, specs: Sequence[ChunkSpec]) -> None:
    """The run's positions and their chunks (rows made for chunks not in the cache), then one
    message per chunk still to render, or the mux message when none is. In a transaction."""
    naming = run_naming(run)
    keys = [chunk_key(spec, **naming) for spec in specs]
    distinct = list(dict.fromkeys(keys))
    by_key = dict(zip(keys, specs, strict=True))
    variant = {
        "preset": run.settings["preset"],
        "format": run.settings["format"],
        "captions": run.settings.get("captions", "none"),
    }
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
    for batch in batches(distinct):
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


def discard(run: ExportRun, *, unfinished_only: bool) -> None:
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
            discard(run, unfinished_only=False)
            storage_delete_quietly(output_key(run), *run.settings.get("sidecar", {}).values())
            if status is not None:
                engine.job_stopped(run.job_id)
    elif status != engine.COMPLETED:
        stopped = ExportRun.objects.filter(pk=run.pk, stage__in=ExportRun.ACTIVE).update(
            stage=ExportRun.Stage.FAILED
        )
        if stopped:
            discard(run, unfinished_only=True)
            storage_delete_quietly(*run.settings.get("sidecar", {}).values())
    remove_job_folder(run.job_id)


def fail_run(run: ExportRun, problem: JobFailed) -> None:
    if engine.job_status(run.job_id) != engine.RUNNING:
        stop_run(run)
        return
    failed = ExportRun.objects.filter(pk=run.pk, stage__in=ExportRun.ACTIVE).update(
        stage=ExportRun.Stage.FAILED
    )
    if failed:
        logger.warning("export %s failed: %s", run.job_id, problem.user_message)
        engine.job_fail(run.job_id, problem)
        discard(run, unfinished_only=True)
    remove_job_folder(run.job_id)


def failure(exc: Exception) -> JobFailed:
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


def output_key(run: ExportRun) -> str:
    return export_key(run.project_id, run.job_id, run.settings.get("format", DEFAULT_FORMAT))


@contextlib.contextmanager
def beating(model: Any, **row: Any) -> Iterator[None]:
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


def run_progress(run_id: Any) -> None:
    """The job's one progress number: planning, then every chunk weighted by its frames."""
    done = ExpressionWrapper(F("chunk__frames") * F("chunk__progress"), output_field=FloatField())
    totals = ExportPart.objects.filter(run_id=run_id).aggregate(
        total=Sum("chunk__frames"), done=Sum(done)
    )
    if totals["total"]:
        share = float(totals["done"] or 0) / float(totals["total"])
        engine.job_progress(run_id, PLAN_DONE + (CHUNKS_DONE - PLAN_DONE) * share)
