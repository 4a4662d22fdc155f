"""The export job, in three kinds of steps on the `export` queue:

1. plan (the job's own message, run by the job runner; this module): the timeline in chunks,
   each named by its content (exports/chunking.py). An export of an unchanged timeline with
   the same settings returns the earlier file at once. Chunks already in the cache are
   reused; the disk is checked; one message per missing chunk is sent, and the job is handed
   off.
2. chunk (one message per chunk, any worker; exports/steps.py): claim the chunk row, render it
   (exports/render.py), mark it ready. The worker whose chunk completes a run — decided by a
   conditional update whose row count is checked — sends the mux message.
3. mux (one message; exports/steps.py): join the chunks into the file (exports/mux.py),
   complete the job.

A worker killed mid-chunk loses that chunk only: its message comes back (the broker requeues
a dead worker's messages) and the chunk row, whose heartbeat has gone stale, is claimed again.
A cancel reaches every running chunk within a quarter second (each FFmpeg polls the job's
status); the first step to notice removes what the export rendered and runs the job's finish
hooks, once (another conditional update).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction

from common.errors import ServiceError
from exports import engine
from exports.chunking import (
    ffmpeg_version,
    plan_chunks,
    result_key,
    source_identity,
)
from exports.engine import JobFailed, Work
from exports.models import ExportRun
from exports.plan import (
    CAPTIONS_SIDECAR,
    DEFAULT_CAPTIONS,
    DEFAULT_FORMAT,
    DEFAULT_PRESET,
    check_limits,
    exportable_segments,
    timeline_plan,
)
from exports.runs import PLAN_DONE, lay_parts
from exports.sidecar import captions_sidecar, store_sidecar
from exports.smart import copy_decisions
from exports.sources import job_folder, remove_job_folder
from exports.space import space_check, space_needed
from processing.ffmpeg.export.chunk import Encoding
from processing.ffmpeg.export.mux import audio_codec_args
from projects.templates import project_canvas

logger = logging.getLogger(__name__)

# Bump when the mux makes something else of the same chunks.
MUX_FORMAT = 1


def _encoding() -> Encoding:
    return Encoding(
        x264_preset=settings.EXPORT_X264_PRESET,
        x264_crf=settings.EXPORT_X264_CRF,
        vp9_crf=settings.EXPORT_VP9_CRF,
    )


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
    captions = params.get("captions", DEFAULT_CAPTIONS)
    timeline = timeline_plan(
        segments,
        params.get("preset", DEFAULT_PRESET),
        canvas=project_canvas(project.settings),
        captions=captions,
    )
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
    sidecar = captions_sidecar(project) if captions == CAPTIONS_SIDECAR else None
    if sidecar is not None:
        finish["captions"] = {
            name: hashlib.sha256(text.encode()).hexdigest() for name, text in sidecar.items()
        }
    same = result_key(specs, finish=finish, **naming)
    earlier = _earlier_result(project, same)
    if earlier is not None:
        return {
            # A link is issued per request from storage_key; an older row may still hold one.
            **{k: v for k, v in earlier.output_data.items() if k != "download_url"},
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
            # A still image (duration null) is read as one picture, shown for as long as needed.
            **({"still": True} if clip.duration is None else {}),
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
    sidecar_keys = store_sidecar(project.pk, job.pk, sidecar) if sidecar else {}
    run_settings = {
        "captions": captions,
        "sidecar": sidecar_keys,
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
        lay_parts(run, specs)
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
