"""Job handlers of clip work: scan, probe, thumbnail, transcode, normalize_audio (registered
with the processing engine in ClipsConfig.ready()).

Each handler works on a local copy of the original in its temp folder, writes its outputs
there, checks for a cancel, and only then stores them under the clip's deterministic keys, so
a cancelled or failed job leaves nothing half-written in storage. A handler never decides the
clip's fate: it reports its output, or fails with a verdict (the file is unusable) that the
ingest pipeline acts on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from clips.ingest.common import (
    PROXY_MAX_LONG,
    PROXY_MAX_SHORT,
    clip_save,
    download_original,
    job_clip,
    media_info,
)
from clips.ingest.pipeline import SCAN_DISABLED, discard_original
from clips.models import Clip
from clips.storage import clip_derived_key
from common.errors import ErrorCode, ServiceError
from processing.engine import JobContext, JobDeferred, JobFailed
from processing.ffmpeg import commands
from processing.ffmpeg.commands import fit_within, parse_loudnorm_json, scale_to_height
from processing.ffmpeg.runner import FFmpegError, run_ffprobe_lines
from processing.files import storage_replace
from processing.media import duration_decimal, media_validate
from processing.scan import ScanCancelled, ScannerUnavailable, clamd_configured, scan_file

KEYFRAMES_MAX = 2000
FILMSTRIP_TILES = 10
FILMSTRIP_TILE_HEIGHT = 160
POSTER_MAX_LONG = 1280
POSTER_MAX_SHORT = 720
WAVEFORM_SIZE = (1600, 120)
# Video codecs an MP4 can carry when audio normalisation copies the video stream.
MP4_VIDEO_CODECS = {"h264", "hevc", "mpeg4", "av1", "vp9", "mjpeg"}

SCAN_CLEAN = "clean"
SCAN_PENDING = "pending"
SCAN_TOO_LARGE = "unscanned (too large)"
SCAN_INFECTED = "infected"


# --- scan -------------------------------------------------------------------------------------


def scan(ctx: JobContext) -> dict[str, Any]:
    """Virus-scan the original with clamd. Unreachable → the job waits and is retried; it is
    never reported clean without clamd's verdict."""
    clip = job_clip(ctx)
    if not clamd_configured():
        clip_save(clip.pk, metadata={"scan": SCAN_DISABLED})
        return {"scan": SCAN_DISABLED}
    source = download_original(ctx, clip)
    ctx.progress(30, force=True)
    try:
        result = scan_file(source, should_cancel=ctx.should_cancel)
    except ScanCancelled:
        ctx.check_cancelled()
        raise
    except ScannerUnavailable as exc:
        clip_save(clip.pk, metadata={"scan": SCAN_PENDING, "scan_detail": str(exc)[:300]})
        raise JobDeferred(
            "The virus scanner is not reachable right now. The scan will be retried "
            "automatically; the clip stays in processing until then.",
            delay_seconds=settings.CLAMD_RETRY_SECONDS,
        ) from exc
    scanned_at = timezone.now().isoformat()
    if result.infected:
        clip_save(clip.pk, metadata={"scan": SCAN_INFECTED, "scanned_at": scanned_at})
        raise JobFailed(
            f"This file contains malware ({result.signature}) and was deleted. "
            "Scan your computer and upload a clean copy.",
            result.reply,
            verdict=discard_original(ErrorCode.VIRUS_DETECTED),
        )
    verdict = SCAN_CLEAN if result.verdict == "clean" else SCAN_TOO_LARGE
    clip_save(clip.pk, metadata={"scan": verdict, "scanned_at": scanned_at, "scan_detail": ""})
    return {"scan": verdict}


# --- probe ------------------------------------------------------------------------------------


def keyframe_times(source: Path) -> tuple[list[float], bool]:
    """Presentation times of the video keyframes (from packet flags, no decoding), at most
    KEYFRAMES_MAX of them; returns (times, truncated)."""

    def is_keyframe(line: str) -> bool:
        _, _, flags = line.partition(",")
        return "K" in flags

    lines, truncated = run_ffprobe_lines(
        commands.keyframes_probe_args(source), keep=is_keyframe, limit=KEYFRAMES_MAX
    )
    times: list[float] = []
    for line in lines:
        try:
            times.append(round(float(line.partition(",")[0]), 3))
        except ValueError:
            continue  # a packet without a timestamp
    return sorted(set(times)), truncated


def measure_loudness(ctx: JobContext, source: Path, duration: float) -> dict[str, Any]:
    """EBU R128 integrated loudness, true peak and loudness range of the first audio stream.

    Why the probe decodes the audio once: the figures go into the clip's metadata, so a client
    sees which clips are too quiet or too loud before it asks for normalize_audio. No other
    step reads them (normalize_audio and the export measure afresh, with their own targets)."""
    result = ctx.run_ffmpeg(
        commands.loudness_measure_args(
            source,
            target_lufs=settings.LOUDNESS_TARGET_LUFS,
            true_peak=settings.LOUDNESS_TRUE_PEAK_DBTP,
        ),
        duration=duration,
        span=(50, 95),
    )
    return parse_loudnorm_json(result.stderr)


def probe(ctx: JobContext) -> dict[str, Any]:
    """ffprobe decides what the file is. An unusable file fails the job with the verdict that
    its original be discarded (the ingest pipeline deletes it and gives the storage back)."""
    clip = job_clip(ctx)
    source = download_original(ctx, clip)
    ctx.progress(10, force=True)
    try:
        info = media_validate(source)
    except ServiceError as exc:
        raise JobFailed(
            exc.message,
            json.dumps(exc.details, default=str),
            verdict=discard_original(exc.code),
        ) from exc
    ctx.progress(30)
    if info["still"]:
        return _probe_still(clip, info)
    times, truncated = keyframe_times(source)
    ctx.progress(50)
    loudness: dict[str, Any] | None = None
    if info["has_audio"]:
        try:
            measured = measure_loudness(ctx, source, info["duration"])
        except (FFmpegError, ValueError) as exc:
            if ctx.should_cancel():
                raise
            loudness = {"error": "the audio could not be measured", "detail": str(exc)[:200]}
        else:
            loudness = {
                "integrated_lufs": measured.get("input_i"),
                "true_peak_dbtp": measured.get("input_tp"),
                "lra_lu": measured.get("input_lra"),
                "threshold_lufs": measured.get("input_thresh"),
            }
    metadata = {
        **info,
        "keyframes": times,
        "keyframe_count": len(times),
        "keyframes_truncated": truncated,
        "loudness": loudness,
        "probed_at": timezone.now().isoformat(),
    }
    resolution = f"{info['display_width']}x{info['display_height']}"
    clip_save(
        clip.pk,
        metadata=metadata,
        duration=duration_decimal(info["duration"]),
        resolution=resolution,
    )
    return {
        "duration": info["duration"],
        "resolution": resolution,
        "container": info["container"],
        "video_codec": info["video_codec"],
        "has_audio": info["has_audio"],
        "keyframe_count": len(times),
        "loudness": loudness,
    }


def _probe_still(clip: Clip, info: dict[str, Any]) -> dict[str, Any]:
    """A still image: no keyframes, no sound, no length (its segments may be of any length)."""
    resolution = f"{info['display_width']}x{info['display_height']}"
    clip_save(
        clip.pk,
        metadata={**info, "loudness": None, "probed_at": timezone.now().isoformat()},
        duration=None,
        resolution=resolution,
    )
    return {
        "duration": None,
        "resolution": resolution,
        "container": info["container"],
        "video_codec": info["video_codec"],
        "has_audio": False,
        "still": True,
        "animated": info["animated"],
    }


# --- thumbnails -------------------------------------------------------------------------------


def _require_output(path: Path, what: str) -> None:
    if not path.exists() or path.stat().st_size == 0:
        raise JobFailed(
            f"The {what} could not be made from this video. Try again, or upload the file again.",
            f"FFmpeg wrote no {path.name}",
        )


def thumbnail(ctx: JobContext) -> dict[str, Any]:
    """A poster JPEG (at about 10 % of the clip), a filmstrip sprite sheet for the timeline and
    a waveform PNG (none for a clip without audio)."""
    clip = job_clip(ctx)
    source = download_original(ctx, clip)
    info = media_info(clip, source)
    if info.get("still"):
        return _thumbnail_still(ctx, clip, source, info)
    duration = float(info["duration"])
    display_w, display_h = int(info["display_width"]), int(info["display_height"])
    ctx.progress(10, force=True)

    poster = ctx.tmp_dir / "poster.jpg"
    poster_w, poster_h = fit_within(
        display_w, display_h, max_long=POSTER_MAX_LONG, max_short=POSTER_MAX_SHORT
    )
    ctx.run_ffmpeg(
        commands.poster_args(source, poster, at=duration * 0.1, width=poster_w, height=poster_h),
        duration=None,
        span=(10, 30),
    )
    if not poster.exists() or poster.stat().st_size == 0:
        # A duration the container overstates can put 10 % past the last frame.
        ctx.run_ffmpeg(
            commands.poster_args(source, poster, at=0, width=poster_w, height=poster_h),
            duration=None,
            span=(10, 30),
        )
    _require_output(poster, "poster")
    ctx.progress(30)

    filmstrip = ctx.tmp_dir / "filmstrip.jpg"
    tile_h = min(FILMSTRIP_TILE_HEIGHT, display_h - display_h % 2)
    tile_w = scale_to_height(display_w, display_h, tile_h)[0]
    interval = duration / FILMSTRIP_TILES
    ctx.run_ffmpeg(
        commands.filmstrip_args(
            source,
            filmstrip,
            interval=interval,
            tiles=FILMSTRIP_TILES,
            tile_width=tile_w,
            tile_height=tile_h,
            keyframes_only=duration > commands.FILMSTRIP_KEYFRAMES_ONLY_AFTER,
        ),
        duration=duration,
        span=(30, 75),
    )
    _require_output(filmstrip, "filmstrip")

    waveform: Path | None = None
    if info.get("has_audio"):
        waveform = ctx.tmp_dir / "waveform.png"
        width, height = WAVEFORM_SIZE
        ctx.run_ffmpeg(
            commands.waveform_args(source, waveform, width=width, height=height),
            duration=duration,
            span=(75, 95),
        )
        _require_output(waveform, "waveform")

    ctx.check_cancelled()
    keys = {
        "poster": storage_replace(clip_derived_key(clip.pk, "poster.jpg"), poster),
        "filmstrip": storage_replace(clip_derived_key(clip.pk, "filmstrip.jpg"), filmstrip),
    }
    if waveform is not None:
        keys["waveform"] = storage_replace(clip_derived_key(clip.pk, "waveform.png"), waveform)
    metadata = {
        "poster": {"width": poster_w, "height": poster_h, "time": round(duration * 0.1, 3)},
        "filmstrip": {
            "tiles": FILMSTRIP_TILES,
            "columns": FILMSTRIP_TILES,
            "rows": 1,
            "tile_width": tile_w,
            "tile_height": tile_h,
            "interval": round(interval, 3),
        },
        "waveform": (
            {"width": WAVEFORM_SIZE[0], "height": WAVEFORM_SIZE[1]}
            if waveform is not None
            else "none (the clip has no audio)"
        ),
    }
    clip_save(
        clip.pk,
        metadata=metadata,
        thumbnail_path=keys["poster"],
        filmstrip_path=keys["filmstrip"],
        waveform_path=keys.get("waveform", ""),
    )
    # No URL in the stored output: the API issues short-lived links when it shows the job.
    return {name: {"key": key, **_metadata_of(metadata, name)} for name, key in keys.items()}


def _thumbnail_still(
    ctx: JobContext, clip: Clip, source: Path, info: dict[str, Any]
) -> dict[str, Any]:
    """A still's poster is the picture itself, scaled down; a still has no filmstrip (the
    timeline repeats the poster along its segments) and no waveform."""
    display_w, display_h = int(info["display_width"]), int(info["display_height"])
    poster = ctx.tmp_dir / "poster.jpg"
    poster_w, poster_h = fit_within(
        display_w, display_h, max_long=POSTER_MAX_LONG, max_short=POSTER_MAX_SHORT
    )
    ctx.run_ffmpeg(
        commands.still_poster_args(source, poster, width=poster_w, height=poster_h),
        duration=None,
        span=(10, 90),
    )
    _require_output(poster, "poster")
    ctx.check_cancelled()
    key = storage_replace(clip_derived_key(clip.pk, "poster.jpg"), poster)
    metadata = {
        "poster": {"width": poster_w, "height": poster_h, "time": 0},
        "filmstrip": "none (a still image)",
        "waveform": "none (a still image has no sound)",
    }
    clip_save(clip.pk, metadata=metadata, thumbnail_path=key, filmstrip_path="", waveform_path="")
    return {"poster": {"key": key, "width": poster_w, "height": poster_h}}


def _metadata_of(metadata: dict[str, Any], name: str) -> dict[str, Any]:
    value = metadata.get(name)
    return value if isinstance(value, dict) else {}


# --- transcode --------------------------------------------------------------------------------


def rendition_name(height: int, container: str) -> str:
    return f"rendition_{height}p.{container}"


def transcode(ctx: JobContext) -> dict[str, Any]:
    """Without params: the editor's proxy (H.264/AAC MP4, faststart, at most 720p). With
    `{height, format}`: a rendition at that height, MP4 or WebM (VP9/Opus)."""
    clip = job_clip(ctx)
    params = ctx.job.input_params or {}
    source = download_original(ctx, clip)
    info = media_info(clip, source)
    if info.get("still"):
        if params.get("height"):
            raise JobFailed("A still image has no video renditions; it is shown as it is.")
        return _proxy_still(ctx, clip, source, info)
    duration = float(info["duration"])
    display_w, display_h = int(info["display_width"]), int(info["display_height"])
    ctx.progress(5, force=True)

    if params.get("height"):
        container = str(params.get("format") or commands.MP4_CONTAINER)
        width, height = scale_to_height(display_w, display_h, int(params["height"]))
        name = rendition_name(int(params["height"]), container)
        output = ctx.tmp_dir / name
        args = commands.transcode_args(
            source, output, width=width, height=height, container=container
        )
    else:
        container = commands.MP4_CONTAINER
        width, height = fit_within(
            display_w, display_h, max_long=PROXY_MAX_LONG, max_short=PROXY_MAX_SHORT
        )
        name = "proxy.mp4"
        output = ctx.tmp_dir / name
        args = commands.proxy_args(source, output, width=width, height=height)
    ctx.run_ffmpeg(args, duration=duration, span=(5, 97))
    _require_output(output, "video")
    ctx.check_cancelled()

    details = _store_derived(clip, output, name, width=width, height=height, fmt=container)
    if name == "proxy.mp4":
        clip_save(clip.pk, metadata={"proxy": details}, proxy_path=details["key"])
    else:
        clip_save(clip.pk, nested={"renditions": {name: details}})
    return details


def _store_derived(
    clip: Clip, output: Path, name: str, *, width: int, height: int, fmt: str
) -> dict[str, Any]:
    """Store a proxy or rendition under the clip's derived key; what the clip records of it."""
    key = storage_replace(clip_derived_key(clip.pk, name), output)
    return {
        "key": key,
        "width": width,
        "height": height,
        "format": fmt,
        "size": output.stat().st_size,
    }


def _proxy_still(ctx: JobContext, clip: Clip, source: Path, info: dict[str, Any]) -> dict[str, Any]:
    """A still's proxy is a web-safe picture within the proxy size the editor shows: PNG when
    the source has transparency (a logo over video), else JPEG."""
    display_w, display_h = int(info["display_width"]), int(info["display_height"])
    width, height = fit_within(
        display_w, display_h, max_long=PROXY_MAX_LONG, max_short=PROXY_MAX_SHORT
    )
    image_format = "png" if commands.has_alpha(str(info.get("pix_fmt") or "")) else "jpeg"
    name = f"proxy.{'png' if image_format == 'png' else 'jpg'}"
    output = ctx.tmp_dir / name
    ctx.run_ffmpeg(
        commands.still_proxy_args(
            source, output, width=width, height=height, image_format=image_format
        ),
        duration=None,
        span=(5, 97),
    )
    _require_output(output, "preview picture")
    ctx.check_cancelled()
    details = _store_derived(clip, output, name, width=width, height=height, fmt=image_format)
    clip_save(clip.pk, metadata={"proxy": details}, proxy_path=details["key"])
    return details


# --- normalize_audio --------------------------------------------------------------------------


def normalize_audio(ctx: JobContext) -> dict[str, Any]:
    """Two-pass loudnorm to the configured target: measure, then apply one linear gain. The
    video stream is copied untouched."""
    clip = job_clip(ctx)
    source = download_original(ctx, clip)
    info = media_info(clip, source)
    if not info.get("has_audio"):
        raise JobFailed("This clip has no audio to normalise.")
    duration = float(info["duration"])
    target, peak = settings.LOUDNESS_TARGET_LUFS, settings.LOUDNESS_TRUE_PEAK_DBTP
    measured_run = ctx.run_ffmpeg(
        commands.loudness_measure_args(source, target_lufs=target, true_peak=peak),
        duration=duration,
        span=(5, 45),
    )
    try:
        measured = parse_loudnorm_json(measured_run.stderr)
    except ValueError as exc:
        raise JobFailed(
            "The loudness of this clip could not be measured.", measured_run.stderr
        ) from exc
    needed = ("input_i", "input_tp", "input_lra", "input_thresh", "target_offset")
    if any(measured.get(key) is None for key in needed):
        raise JobFailed("This clip's audio is silent, so there is nothing to normalise.")

    codec = info.get("video_codec") or ""
    container = "mp4" if codec in MP4_VIDEO_CODECS else "mkv"
    name = f"normalized_audio.{container}"
    output = ctx.tmp_dir / name
    applied = ctx.run_ffmpeg(
        commands.normalize_audio_args(
            source,
            output,
            measured=measured,
            target_lufs=target,
            true_peak=peak,
            container=container,
        ),
        duration=duration,
        span=(45, 97),
    )
    _require_output(output, "normalised file")
    try:
        result = parse_loudnorm_json(applied.stderr)
    except ValueError:
        result = {}
    ctx.check_cancelled()
    key = storage_replace(clip_derived_key(clip.pk, name), output)
    details = {
        "key": key,
        "format": container,
        "size": output.stat().st_size,
        "target_lufs": target,
        "target_true_peak_dbtp": peak,
        "input_integrated_lufs": measured.get("input_i"),
        "input_true_peak_dbtp": measured.get("input_tp"),
        "output_integrated_lufs": result.get("output_i"),
        "output_true_peak_dbtp": result.get("output_tp"),
    }
    clip_save(clip.pk, metadata={"normalized_audio": details})
    return details
