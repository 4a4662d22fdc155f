"""Exporting a project's timeline into one finished video: the services and the job handler.

`export_start` validates and enqueues an `export` job (queue `export`); the handler renders
the timeline with FFmpeg in one pass (processing/ffmpeg/export.py builds every command):

1. local copies of the clips' originals (FFmpeg never reads a storage URL);
2. loudness pass 1: the mixed audio of the whole timeline measured by ebur128 (EBU R128);
3. the smart path when the video can be stream-copied (only audio is encoded), else the
   full render: every segment trimmed, fitted, on the frame grid, into one encoder;
4. the file is checked with ffprobe and stored under exports/<project_id>/<job_id>.<ext>.

The project is `exporting` while a job is pending or running, then `exported`; after a failed
or cancelled export it goes back to what it was (`exported` when an earlier export exists).
"""

from __future__ import annotations

import hashlib
import logging
import struct
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import connection, transaction

from clips.media_links import MediaLinks
from clips.models import Clip
from common.errors import ErrorCode, ServiceError
from processing.engine import JobCancelled, JobContext, JobFailed
from processing.ffmpeg import export as builders
from processing.ffmpeg.commands import keyframes_probe_args
from processing.ffmpeg.runner import (
    FFmpegError,
    ffprobe_args,
    run_ffmpeg,
    run_ffprobe_json,
    run_ffprobe_lines,
)
from processing.files import (
    storage_delete_quietly,
    storage_download,
    storage_replace,
)
from processing.models import ProcessingJob
from processing.services import job_enqueue
from projects.models import Project
from projects.storage import export_prefix
from timeline.models import TimelineSegment
from timeline.selectors import timeline_segments

logger = logging.getLogger(__name__)

EXPORT = ProcessingJob.JobType.EXPORT
ACTIVE = (ProcessingJob.Status.PENDING, ProcessingJob.Status.RUNNING)
LOUDNESS_TARGETS = (-14.0, -16.0)
# How many packets the smart path reads per source to find keyframes (about 2 h at 60 fps).
SMART_MAX_PACKETS = 500_000


# --- Services ---------------------------------------------------------------------------------


def _fraction(value: Decimal | float | str) -> Fraction:
    return Fraction(str(value))


def _loudness_target(project: Project, requested: float | None) -> float:
    if requested is not None:
        target = float(requested)
    else:
        stored = (project.settings or {}).get("loudness_target")
        target = float(stored) if stored is not None else settings.LOUDNESS_TARGET_LUFS
    if target not in (*LOUDNESS_TARGETS, settings.LOUDNESS_TARGET_LUFS):
        raise ServiceError(
            f"The loudness target must be one of {', '.join(f'{t:g}' for t in LOUDNESS_TARGETS)}"
            " LUFS.",
            {"field": "loudness_target", "allowed": list(LOUDNESS_TARGETS)},
        )
    return target


def _clip_of(segment: TimelineSegment) -> Clip:
    """The clip of a video or audio segment, the only ones this export reads."""
    if segment.clip is None:  # text and captions; segment_clip_iff_media_layer
        raise ValueError(f"segment {segment.pk} has no clip")
    return segment.clip


def _exportable_segments(project: Project) -> list[TimelineSegment]:
    """The project's segments, or a ServiceError saying what stops the export."""
    # Text and caption segments have no clip; this renderer draws no text yet.
    segments = list(
        timeline_segments(project_id=project.pk).filter(clip__isnull=False).select_related("clip")
    )
    if not any(s.layer == TimelineSegment.Layer.VIDEO for s in segments):
        raise ServiceError(
            "The timeline has no video segment yet. Place at least one clip on the video "
            "layer, then export.",
            {"reason": "empty_timeline"},
        )
    waiting = sorted(
        {
            _clip_of(s).name
            for s in segments
            if _clip_of(s).status != Clip.Status.READY or not _clip_of(s).file_path
        }
    )
    if waiting:
        raise ServiceError(
            f"These clips are not ready yet: {', '.join(waiting)}. Wait until they finish "
            "processing (or remove them from the timeline), then export.",
            {"reason": "clips_not_ready", "clips": waiting},
        )
    return segments


def export_start(
    *,
    user: Any,
    project: Project,
    preset: str | None = None,
    fmt: str | None = None,
    loudness_target: float | None = None,
) -> ProcessingJob:
    """Validate the timeline and enqueue an export job; the project becomes `exporting`."""
    preset = preset or builders.DEFAULT_PRESET
    fmt = fmt or builders.DEFAULT_FORMAT
    if preset not in builders.PRESET_NAMES:
        raise ServiceError(
            f"Unknown preset {preset!r}: choose one of {', '.join(builders.PRESET_NAMES)}.",
            {"field": "preset", "allowed": list(builders.PRESET_NAMES)},
        )
    if fmt not in builders.FORMATS:
        raise ServiceError(
            f"Unknown format {fmt!r}: choose one of {', '.join(builders.FORMATS)}.",
            {"field": "format", "allowed": list(builders.FORMATS)},
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
        target = _loudness_target(locked, loudness_target)
        _exportable_segments(locked)
        job = job_enqueue(
            owner=user,
            job_type=EXPORT,
            project=locked,
            input_params={"preset": preset, "format": fmt, "loudness_target": target},
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
    from django.core.files.storage import default_storage

    if not default_storage.exists(key):
        raise ServiceError(
            "This export's file is no longer stored. Export the project again.",
            code=ErrorCode.NOT_FOUND,
        )
    url = links.url(project_id=job.project_id, key=key, download_name=key.rsplit("/", 1)[-1])
    if url is None:
        raise ServiceError("No such job.", code=ErrorCode.NOT_FOUND)
    return url


def export_settle_project(job: ProcessingJob) -> None:
    """Once an export job ends: `exported` after success; after a failure or cancel, back to
    `exported` if an earlier export succeeded, else `draft`. Only a project still marked
    `exporting` changes (it may have been archived meanwhile)."""
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


# --- The job handler --------------------------------------------------------------------------


def export_key(project_id: uuid.UUID | str, job_id: uuid.UUID | str, fmt: str) -> str:
    return f"{export_prefix(project_id)}{job_id}.{fmt}"


def _source(clip: Clip) -> builders.Source:
    meta = clip.metadata or {}
    fps = Fraction(0)
    for key in ("r_frame_rate", "avg_frame_rate"):
        try:
            fps = Fraction(str(meta.get(key) or "0"))
        except (ValueError, ZeroDivisionError):
            continue
        if fps > 0:
            break
    if fps <= 0 and meta.get("fps"):
        fps = Fraction(str(meta["fps"])).limit_denominator(1001)
    return builders.Source(
        key=str(clip.pk),
        fps=fps,
        has_audio=bool(meta.get("has_audio")),
        duration=_fraction(clip.duration or 0),
        width=int(meta.get("display_width") or meta.get("width") or 0),
        height=int(meta.get("display_height") or meta.get("height") or 0),
    )


def _cuts(segments: list[TimelineSegment]) -> list[builders.Cut]:
    return [
        builders.Cut(
            source=str(s.clip_id),
            layer=s.layer,
            start=_fraction(s.start_time),
            source_start=_fraction(s.source_start),
            duration=_fraction(s.duration),
            name=s.name,
        )
        for s in segments
    ]


def _preset(
    name: str, cuts: list[builders.Cut], sources: dict[str, builders.Source]
) -> builders.Preset:
    if name != builders.SOURCE_PRESET:
        return builders.PRESETS[name]
    first = min((c for c in cuts if c.layer == "video"), key=lambda c: c.start)
    return builders.source_preset(sources[first.source])


def _encoding(plan: builders.ExportPlan) -> builders.Encoding:
    return builders.Encoding(
        x264_preset=settings.EXPORT_X264_PRESET,
        x264_crf=settings.EXPORT_X264_CRF,
        vp9_crf=settings.EXPORT_VP9_CRF,
        # Every segment is an input with its own decoder; with many of them, single-threaded
        # decoders keep memory and thread count flat (the encoder is the bottleneck anyway).
        input_threads=1 if len(plan.inputs) >= 4 else None,
    )


def _mix(ctx: JobContext) -> Path:
    return ctx.tmp_dir / "mix.wav"


def _measure(
    ctx: JobContext,
    plan: builders.ExportPlan,
    paths: dict[str, Path],
    loudness: builders.Loudness,
    encoding: builders.Encoding,
) -> builders.Loudness:
    """Loudness pass 1: the timeline's mixed sound measured and stored in ctx.tmp_dir as
    mix.wav (no video decoded). Runs in its own thread, beside the smart-path checks."""
    script = ctx.tmp_dir / "mix.graph"
    script.write_text(builders.mix_graph(plan))
    try:
        result = ctx.run_ffmpeg(
            builders.measure_args(settings.FFMPEG_BINARY, plan, paths, script, _mix(ctx), encoding),
            duration=plan.duration,
            span=(3, 10),
        )
    finally:
        connection.close()  # the thread's own database connection
    try:
        measured = builders.parse_ebur128(result.stderr)
    except ValueError as exc:
        raise JobFailed(
            "The loudness of the timeline's audio could not be measured. Please try again.",
            result.stderr[-2000:],
        ) from exc
    return builders.Loudness(loudness.target_i, loudness.true_peak, measured)


def _keyframe_times(clip: Clip) -> list[Fraction] | None:
    """The keyframe times the ingest probe stored, unless it had to stop counting."""
    meta = clip.metadata or {}
    times = meta.get("keyframes")
    if not isinstance(times, list) or meta.get("keyframes_truncated"):
        return None
    return [Fraction(str(t)) for t in times]


def _mp4_boxes(handle: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the MP4 boxes between start and end."""
    position = start
    while position + 8 <= end:
        handle.seek(position)
        header = handle.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header)
        payload = position + 8
        if size == 1:
            size = struct.unpack(">Q", handle.read(8))[0]
            payload += 8
        elif size == 0:
            size = end - position
        if size < 8 or position + size > end:
            return
        yield kind, payload, position + size
        position += size


def _mp4_track(handle: BinaryIO, start: int, end: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for kind, payload, box_end in _mp4_boxes(handle, start, end):
        if kind in (b"mdia", b"minf", b"stbl"):
            found.update(_mp4_track(handle, payload, box_end))
        elif kind == b"hdlr":
            handle.seek(payload + 8)
            found["handler"] = handle.read(4)
        elif kind == b"stsz":
            handle.seek(payload + 8)
            found["samples"] = struct.unpack(">I", handle.read(4))[0]
        elif kind == b"stsd":
            handle.seek(payload + 8)
            entry_size, entry_kind = struct.unpack(">I4s", handle.read(8))
            if entry_kind not in (b"avc1", b"avc3"):
                continue
            # A visual sample entry's own fields take 78 bytes before its child boxes.
            entry = payload + 8
            for child, child_payload, child_end in _mp4_boxes(
                handle, entry + 8 + 78, entry + entry_size
            ):
                if child == b"avcC":
                    handle.seek(child_payload)
                    found["avcc"] = handle.read(child_end - child_payload)
                elif child == b"pasp":
                    handle.seek(child_payload)
                    found["pasp"] = struct.unpack(">II", handle.read(8))
    return found


def _mp4_video_track(path: Path) -> dict[str, Any] | None:
    """The first video track's avcC (the H.264 codec parameters), pixel aspect and sample
    count, read from the MP4/MOV index in a few small reads: what the smart path needs,
    without starting ffprobe once per source. None for anything else (ffprobe then decides)."""
    try:
        with open(path, "rb") as handle:
            for kind, payload, box_end in _mp4_boxes(handle, 0, path.stat().st_size):
                if kind != b"moov":
                    continue
                for child, child_payload, child_end in _mp4_boxes(handle, payload, box_end):
                    if child != b"trak":
                        continue
                    track = _mp4_track(handle, child_payload, child_end)
                    if track.get("handler") == b"vide":
                        return track if "avcc" in track and "samples" in track else None
    except (OSError, struct.error):
        return None
    return None


def _stream_from_metadata(path: Path, clip: Clip) -> builders.VideoStream | None:
    """The smart-path view of an MP4 source from the ingest metadata and its own index."""
    meta = clip.metadata or {}
    keyframes = _keyframe_times(clip)
    track = _mp4_video_track(path)
    if keyframes is None or track is None or not meta.get("r_frame_rate"):
        return None
    h, v = track.get("pasp", (1, 1))
    try:
        fps = Fraction(str(meta["r_frame_rate"]))
    except (ValueError, ZeroDivisionError):
        return None
    return builders.VideoStream(
        codec=str(meta.get("video_codec") or ""),
        profile=str(meta.get("video_profile") or ""),
        pix_fmt=str(meta.get("pix_fmt") or ""),
        width=int(meta.get("width") or 0),
        height=int(meta.get("height") or 0),
        fps=fps,
        sar="1:1" if h == v else f"{h}:{v}",
        rotation=int(meta.get("rotation") or 0),
        extradata_hash=hashlib.md5(track["avcc"], usedforsecurity=False).hexdigest(),
        frame_count=int(track["samples"]),
        keyframes=frozenset(round(t * fps) for t in keyframes),
    )


def _video_stream(path: Path, clip: Clip) -> builders.VideoStream | None:
    """One source's video stream for the smart-path check: from the ingest metadata and the
    MP4 index when they tell everything, else the ffprobe header (codec parameters and their
    hash), with keyframes from the metadata or, when those miss, a packet scan."""
    quick = _stream_from_metadata(path, clip)
    if quick is not None:
        return quick
    data = run_ffprobe_json(builders.video_stream_probe_args(settings.FFPROBE_BINARY, path))
    keyframes = _keyframe_times(clip)
    if keyframes is not None:
        stream = builders.parse_video_stream(data, keyframe_times=keyframes)
        if stream is not None:
            return stream
    packets: list[Fraction] = []
    key_packets: list[Fraction] = []

    def keep(line: str) -> bool:
        time, _, flags = line.partition(",")
        try:
            value = Fraction(time)
        except (ValueError, ZeroDivisionError):
            return False
        packets.append(value)
        if "K" in flags:
            key_packets.append(value)
        return False  # counted here; nothing to keep

    _, truncated = run_ffprobe_lines(keyframes_probe_args(path), keep=keep, limit=SMART_MAX_PACKETS)
    if truncated or not packets:
        return None
    return builders.parse_video_stream(data, keyframe_times=key_packets, packet_times=packets)


def _smart_refusal(
    plan: builders.ExportPlan, paths: dict[str, Path], clips: dict[str, Clip], fmt: str
) -> tuple[str | None, list[str]]:
    """Whether the smart path applies; cheap checks first, then the sources' headers."""
    if not settings.EXPORT_SMART_PATH:
        return "the smart path is switched off (EXPORT_SMART_PATH)", []
    if fmt != "mp4" or plan.has_gaps:
        return builders.smart_refusal(plan, [None] * len(plan.pieces), fmt=fmt), []
    piece_sources = [plan.inputs[p.input].source for p in plan.pieces if p.input is not None]
    used = list(dict.fromkeys(piece_sources))
    # ffprobe mostly waits on the disk: probe the sources side by side.
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = dict(
            zip(used, pool.map(lambda k: _video_stream(paths[k], clips[k]), used), strict=True)
        )
    per_piece = [found.get(key) for key in piece_sources]
    return builders.smart_refusal(plan, per_piece, fmt=fmt), piece_sources


def _copy_parts(
    ctx: JobContext, plan: builders.ExportPlan, paths: dict[str, Path], piece_sources: list[str]
) -> list[tuple[str, int]]:
    parts = [
        (paths[key], piece, ctx.tmp_dir / f"part{index:05d}.ts")
        for index, (piece, key) in enumerate(zip(plan.pieces, piece_sources, strict=True))
    ]
    run_ffmpeg(
        builders.copy_parts_args(settings.FFMPEG_BINARY, parts),
        should_cancel=ctx.should_cancel,
        cwd=ctx.tmp_dir,
    )
    return [(output.name, piece.frames) for _, piece, output in parts]


def _encode_audio(
    ctx: JobContext,
    plan: builders.ExportPlan,
    loudness: builders.Loudness,
    encoding: builders.Encoding,
) -> Path:
    """Smart path, in its own thread beside the video copy: the mix normalised into AAC."""
    script = ctx.tmp_dir / "audio.graph"
    script.write_text(builders.loudness_chain(plan, loudness, 0) + "\n")
    audio = ctx.tmp_dir / "audio.m4a"
    try:
        ctx.run_ffmpeg(
            builders.audio_encode_args(
                settings.FFMPEG_BINARY, _mix(ctx), script, audio, encoding=encoding
            ),
            duration=plan.duration,
            span=(10, 90),
        )
    finally:
        connection.close()  # the thread's own database connection
    return audio


def _render_smart(
    ctx: JobContext, parts: list[tuple[str, int]], rate: Fraction, audio: Path, output: Path
) -> None:
    """Join the copied parts and mux them with the encoded audio, both copied."""
    list_path = ctx.tmp_dir / "parts.ffconcat"
    list_path.write_text(builders.concat_list(parts, rate))
    run_ffmpeg(
        builders.smart_mux_args(settings.FFMPEG_BINARY, audio, list_path, output),
        should_cancel=ctx.should_cancel,
        cwd=ctx.tmp_dir,
    )


def _render_full(
    ctx: JobContext,
    plan: builders.ExportPlan,
    paths: dict[str, Path],
    loudness: builders.Loudness,
    encoding: builders.Encoding,
    output: Path,
    fmt: str,
) -> None:
    script = ctx.tmp_dir / "export.graph"
    script.write_text(builders.video_graph(plan, loudness=loudness, mix_input=len(plan.inputs)))
    ctx.run_ffmpeg(
        builders.render_args(
            settings.FFMPEG_BINARY,
            plan,
            paths,
            script,
            _mix(ctx),
            output,
            fmt=fmt,
            encoding=encoding,
        ),
        duration=plan.duration,
        span=(10, 95),
    )


def _video_frames(path: Path) -> int:
    data = run_ffprobe_json(
        ffprobe_args(path, extra=["-count_packets", "-select_streams", "v:0"]), timeout=600
    )
    streams = data.get("streams") or [{}]
    return int(streams[0].get("nb_read_packets") or 0)


def _download_sources(
    ctx: JobContext, plan: builders.ExportPlan, clips: dict[str, Clip]
) -> dict[str, Path]:
    paths: dict[str, Path] = {}
    needed = dict.fromkeys(item.source for item in plan.inputs)
    for index, key in enumerate(needed):
        # Each clip is copied once, however many segments use it; names carry no user input.
        dest = ctx.tmp_dir / f"source-{index:04d}"
        try:
            storage_download(clips[key].file_path, dest)
        except FileNotFoundError as exc:
            raise JobFailed(
                f"The file of clip “{clips[key].name}” is missing from storage. Upload it again "
                "or remove it from the timeline.",
                str(exc),
            ) from exc
        paths[key] = dest
        ctx.check_cancelled()
        ctx.progress(3 * (index + 1) / max(1, len(needed)))
    return paths


class _Stopwatch:
    """Seconds spent in each phase, kept in output_data so slow exports can be explained."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps[name] = round(self.laps.get(name, 0.0) + now - self._last, 3)
        self._last = now


def export_job(ctx: JobContext) -> dict[str, Any]:
    job = ctx.job
    project = job.project
    if project is None:
        raise JobFailed("The project of this export no longer exists.")
    params = job.input_params or {}
    fmt = params.get("format", builders.DEFAULT_FORMAT)
    try:
        segments = _exportable_segments(project)
    except ServiceError as exc:
        raise JobFailed(exc.message) from exc
    clips = {str(s.clip_id): _clip_of(s) for s in segments}
    cuts = _cuts(segments)
    sources = {key: _source(clip) for key, clip in clips.items()}
    preset = _preset(params.get("preset", builders.DEFAULT_PRESET), cuts, sources)
    plan = builders.plan_export(cuts, sources, preset)
    if not plan.total_frames:
        raise JobFailed("The timeline is shorter than one frame; there is nothing to export.")
    encoding = _encoding(plan)
    loudness = builders.Loudness(
        float(params.get("loudness_target", settings.LOUDNESS_TARGET_LUFS)),
        settings.LOUDNESS_TRUE_PEAK_DBTP,
    )

    clock = _Stopwatch()
    paths = _download_sources(ctx, plan, clips)
    clock.lap("download")
    output = ctx.tmp_dir / f"export.{fmt}"
    path = "full"
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Pass 1 (the mix, measured) runs beside the smart-path checks; on the smart path the
        # audio is then encoded beside the video copy. Each runs where the other waits on disk.
        measuring = pool.submit(_measure, ctx, plan, paths, loudness, encoding)
        refusal, piece_sources = _smart_refusal(plan, paths, clips, fmt)
        clock.lap("smart_path_check")
        loudness = measuring.result()
        clock.lap("loudness_pass")
        if refusal is None:
            encoding_audio = pool.submit(_encode_audio, ctx, plan, loudness, encoding)
            try:
                parts = _copy_parts(ctx, plan, paths, piece_sources)
                audio = encoding_audio.result()
                _render_smart(ctx, parts, plan.rate, audio, output)
                frames = _video_frames(output)
            except FFmpegError as exc:
                if ctx.should_cancel():
                    raise
                refusal, frames = f"stream copy failed ({exc})", -1
            if frames == plan.total_frames:
                path = "smart"
            elif refusal is None:
                refusal = f"stream copy gave {frames} frames instead of {plan.total_frames}"
            if path != "smart":
                logger.warning("export %s: smart path abandoned: %s", job.pk, refusal)
    ctx.check_cancelled()
    if path == "full":
        output.unlink(missing_ok=True)
        _render_full(ctx, plan, paths, loudness, encoding, output, fmt)
    clock.lap("render")
    ctx.check_cancelled()

    probe = run_ffprobe_json(ffprobe_args(output))
    key = export_key(project.pk, job.pk, fmt)
    storage_replace(key, output)
    clock.lap("store")
    if ctx.should_cancel():
        # Cancelled while storing: leave nothing behind.
        storage_delete_quietly(key)
        raise JobCancelled()
    size = output.stat().st_size
    duration = float((probe.get("format") or {}).get("duration") or plan.duration)
    return {
        "download_endpoint": f"/api/process/export/{job.pk}/download",
        "storage_key": key,
        "duration": round(duration, 3),
        "frames": plan.total_frames,
        "frame_rate": f"{plan.rate.numerator}/{plan.rate.denominator}",
        "size": size,
        "format": fmt,
        "resolution": plan.resolution,
        "preset": preset.name,
        "path": path,
        "smart_path_refusal": refusal,
        "timings": clock.laps,
        "loudness": {
            "target_lufs": loudness.target_i,
            "true_peak_ceiling_dbtp": loudness.true_peak,
            "measured_lufs": (loudness.measured or {}).get("input_i"),
            "normalized": not loudness.skip,
            "mode": "none" if loudness.skip else "linear" if loudness.linear else "dynamic",
        },
    }
