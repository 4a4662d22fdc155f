"""Builders of FFmpeg argument lists for clip work (probe checks, posters, filmstrips, proxies,
renditions, loudness, extracts), and the picture-size and loudness arithmetic around them.
Each takes local paths and numbers and returns a list; tests read them as lists and pin the
safety flags on every one. They run nothing; the only outside input they read is settings:
the binaries (FFMPEG_BINARY, FFPROBE_BINARY) and FFMPEG_THREADS.

Every input is opened through `safe_input_args` (file protocol only, a demuxer allow-list, a
pixel cap) and every ffmpeg call starts with `base_ffmpeg_args` (no stdin, progress on stdout).
FFmpeg's autorotate is left on: decoded frames arrive upright, so sizes here are display sizes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django.conf import settings

from processing.ffmpeg.safety import base_ffmpeg_args, safe_input_args

# Decoding only keyframes makes filmstrips of long clips fast; short clips decode everything
# so their tiles sit at exact times.
FILMSTRIP_KEYFRAMES_ONLY_AFTER = 120.0
LOUDNORM_LRA = 11.0
WEBM_CONTAINER = "webm"
MP4_CONTAINER = "mp4"
ALPHA_PIX_FMT_PREFIXES = ("rgba", "bgra", "argb", "abgr", "ya", "yuva", "gbrap")


def _ffmpeg(loglevel: str = "error") -> list[str]:
    return base_ffmpeg_args(settings.FFMPEG_BINARY, loglevel=loglevel)


def _threads() -> list[str]:
    return ["-threads", str(settings.FFMPEG_THREADS)] if settings.FFMPEG_THREADS else []


def _seconds(value: float) -> str:
    return f"{max(0.0, value):.3f}"


def _out(path: Path) -> str:
    # "file:" keeps a name starting with a dash or holding a colon from being read as an option
    # or a protocol.
    return f"file:{Path(path).resolve()}"


def decode_check_args(source: Path) -> list[str]:
    """Decode the first video frame only: proves the stream is decodable, cheaply."""
    return [
        *_ffmpeg(),
        *safe_input_args(source),
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-f",
        "null",
        "-",
    ]


def keyframes_probe_args(source: Path) -> list[str]:
    """ffprobe listing the first video stream's packets as `pts_time,flags` lines (no decoding);
    keyframe packets carry `K` in their flags."""
    return [
        settings.FFPROBE_BINARY,
        "-hide_banner",
        "-loglevel",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "packet=pts_time,flags",
        "-of",
        "csv=print_section=0",
        *safe_input_args(source),
    ]


def first_frame_probe_args(source: Path) -> list[str]:
    """ffprobe JSON of the first video frame's size and side data (a photo's EXIF orientation
    reaches FFmpeg as the frame's display matrix). Decodes that one frame."""
    return [
        settings.FFPROBE_BINARY,
        "-hide_banner",
        "-loglevel",
        "error",
        "-print_format",
        "json",
        "-select_streams",
        "v:0",
        "-read_intervals",
        "%+#1",
        "-show_entries",
        "frame=width,height:frame_side_data",
        *safe_input_args(source),
    ]


def _loudnorm(target_lufs: float, true_peak: float, extra: str = "") -> str:
    return (
        f"loudnorm=I={target_lufs:g}:TP={true_peak:g}:LRA={LOUDNORM_LRA:g}{extra}:print_format=json"
    )


def loudness_measure_args(source: Path, *, target_lufs: float, true_peak: float) -> list[str]:
    """First loudnorm pass: measures integrated loudness, true peak and LRA of the first audio
    stream (EBU R128) and prints them as JSON on stderr, hence the `info` log level."""
    return [
        *_ffmpeg(loglevel="info"),
        *safe_input_args(source),
        "-map",
        "0:a:0",
        "-vn",
        "-sn",
        "-dn",
        "-af",
        _loudnorm(target_lufs, true_peak),
        "-f",
        "null",
        "-",
    ]


def poster_args(source: Path, dest: Path, *, at: float, width: int, height: int) -> list[str]:
    """One JPEG frame at `at` seconds (input seek: fast, lands on the right frame)."""
    return [
        *_ffmpeg(),
        "-ss",
        _seconds(at),
        *safe_input_args(source),
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-vf",
        f"scale={width}:{height}:flags=bicubic,setsar=1",
        "-q:v",
        "3",
        "-update",
        "1",
        "-f",
        "image2",
        _out(dest),
    ]


def still_poster_args(source: Path, dest: Path, *, width: int, height: int) -> list[str]:
    """A JPEG poster of a still image's (first) picture, transparency flattened onto black."""
    return [
        *_ffmpeg(),
        *safe_input_args(source),
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-vf",
        f"scale={width}:{height}:flags=bicubic,setsar=1,format=yuvj420p",
        "-q:v",
        "3",
        "-update",
        "1",
        "-f",
        "image2",
        _out(dest),
    ]


def has_alpha(pix_fmt: str) -> bool:
    """Whether FFmpeg's pixel format `pix_fmt` carries transparency (rgba, ya8, yuva420p…);
    a palette (pal8) may, so it counts too."""
    return pix_fmt == "pal8" or pix_fmt.startswith(ALPHA_PIX_FMT_PREFIXES)


def still_proxy_args(
    source: Path, dest: Path, *, width: int, height: int, image_format: str
) -> list[str]:
    """The editor's picture of a still image: its first frame as PNG (`image_format` "png",
    keeping transparency) or JPEG, scaled to width x height, without the source's metadata."""
    if image_format == "png":
        codec = ["-c:v", "png", "-pix_fmt", "rgba"]
    else:
        codec = ["-c:v", "mjpeg", "-pix_fmt", "yuvj444p", "-q:v", "2"]
    return [
        *_ffmpeg(),
        *safe_input_args(source),
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-vf",
        f"scale={width}:{height}:flags=lanczos,setsar=1",
        *codec,
        "-map_metadata",
        "-1",
        "-update",
        "1",
        "-f",
        "image2",
        _out(dest),
    ]


def filmstrip_args(
    source: Path,
    dest: Path,
    *,
    interval: float,
    tiles: int,
    tile_width: int,
    tile_height: int,
    keyframes_only: bool = False,
) -> list[str]:
    """A sprite sheet: `tiles` frames, one every `interval` seconds, side by side in one JPEG."""
    decoder = ["-skip_frame", "nokey"] if keyframes_only else []
    return [
        *_ffmpeg(),
        *decoder,
        *safe_input_args(source),
        "-map",
        "0:v:0",
        "-vf",
        (
            f"fps=1/{max(interval, 0.001):.6f},"
            f"scale={tile_width}:{tile_height}:flags=bicubic,setsar=1,tile={tiles}x1"
        ),
        "-frames:v",
        "1",
        "-q:v",
        "4",
        "-update",
        "1",
        "-f",
        "image2",
        _out(dest),
    ]


def waveform_args(source: Path, dest: Path, *, width: int, height: int) -> list[str]:
    """A PNG picture of the first audio stream's waveform, mixed down to mono."""
    return [
        *_ffmpeg(),
        *safe_input_args(source),
        "-filter_complex",
        (
            f"[0:a:0]aformat=channel_layouts=mono,"
            f"showwavespic=s={width}x{height}:colors=0x4f8cff:split_channels=0[wave]"
        ),
        "-map",
        "[wave]",
        "-frames:v",
        "1",
        "-update",
        "1",
        "-f",
        "image2",
        _out(dest),
    ]


def _h264(crf: int, preset: str) -> list[str]:
    return [
        "-c:v",
        "libx264",
        "-preset",
        preset,
        "-crf",
        str(crf),
        "-profile:v",
        "high",
        "-pix_fmt",
        "yuv420p",
    ]


def _video_filter(width: int, height: int) -> list[str]:
    return ["-vf", f"scale={width}:{height}:flags=bicubic,setsar=1,format=yuv420p"]


def _clean_metadata() -> list[str]:
    # Outputs carry no user metadata (GPS, names) and no chapters of the source.
    return ["-map_metadata", "-1", "-map_chapters", "-1", "-sn", "-dn"]


def transcode_args(
    source: Path,
    dest: Path,
    *,
    width: int,
    height: int,
    container: str = MP4_CONTAINER,
    crf: int | None = None,
) -> list[str]:
    """The browser proxy or a rendition: H.264/AAC MP4 with the index up front (faststart), or
    VP9/Opus WebM. `0:a:0?` maps the first audio stream when there is one, so a silent clip gets
    a file without an audio track."""
    maps = ["-map", "0:v:0", "-map", "0:a:0?"]
    if container == WEBM_CONTAINER:
        codecs = [
            "-c:v",
            "libvpx-vp9",
            "-crf",
            str(crf if crf is not None else 33),
            "-b:v",
            "0",
            "-deadline",
            "good",
            "-cpu-used",
            "4",
            "-row-mt",
            "1",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "libopus",
            "-b:a",
            "96k",
            "-ac",
            "2",
            "-ar",
            "48000",
            "-f",
            "webm",
        ]
    else:
        codecs = [
            *_h264(crf if crf is not None else 23, "veryfast"),
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-ac",
            "2",
            "-ar",
            "48000",
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
        ]
    return [
        *_ffmpeg(),
        *safe_input_args(source),
        *maps,
        *_video_filter(width, height),
        *codecs,
        # One output frame per source frame: never duplicate frames to fill a constant rate the
        # source only claims (a sparse file would otherwise cost hours); browsers play VFR.
        "-fps_mode",
        "passthrough",
        *_clean_metadata(),
        *_threads(),
        _out(dest),
    ]


def proxy_args(source: Path, dest: Path, *, width: int, height: int) -> list[str]:
    """The editor's proxy: H.264/AAC MP4, faststart, at most 720p."""
    return transcode_args(source, dest, width=width, height=height, container=MP4_CONTAINER)


def normalize_audio_args(
    source: Path,
    dest: Path,
    *,
    measured: dict[str, Any],
    target_lufs: float,
    true_peak: float,
    container: str,
) -> list[str]:
    """Second loudnorm pass: linear gain from the first pass's measurements (no dynamic
    compression), video copied untouched. Prints the result as JSON on stderr."""
    extra = (
        f":measured_I={measured['input_i']}:measured_TP={measured['input_tp']}"
        f":measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}"
        f":offset={measured['target_offset']}:linear=true"
    )
    faststart = ["-movflags", "+faststart"] if container == MP4_CONTAINER else []
    return [
        *_ffmpeg(loglevel="info"),
        *safe_input_args(source),
        "-map",
        "0:v:0?",
        "-map",
        "0:a:0",
        "-c:v",
        "copy",
        "-af",
        _loudnorm(target_lufs, true_peak, extra),
        "-c:a",
        "aac",
        "-b:a",
        "192k",
        "-ar",
        "48000",
        *faststart,
        *_clean_metadata(),
        "-f",
        "matroska" if container == "mkv" else container,
        _out(dest),
    ]


def extract_args(
    source: Path, dest: Path, *, start: float, duration: float, width: int, height: int
) -> list[str]:
    """`duration` seconds from `start`, re-encoded so the cut is frame-accurate: an input seek
    while transcoding decodes from the keyframe before `start` and drops frames up to it."""
    return [
        *_ffmpeg(),
        "-ss",
        _seconds(start),
        "-accurate_seek",
        *safe_input_args(source),
        "-t",
        _seconds(duration),
        "-map",
        "0:v:0",
        "-map",
        "0:a:0?",
        *_video_filter(width, height),
        *_h264(18, "veryfast"),
        "-c:a",
        "aac",
        "-b:a",
        "192k",
        "-ar",
        "48000",
        # No -avoid_negative_ts: the MP4 muxer's edit list already starts both streams at 0,
        # while shifting timestamps would push the start (and duration) out by the B-frame delay.
        "-movflags",
        "+faststart",
        *_clean_metadata(),
        *_threads(),
        "-f",
        "mp4",
        _out(dest),
    ]


# --- sizes and measurements ----------------------------------------------------------------


def even(value: float) -> int:
    """Rounded down to an even number (H.264 4:2:0 needs even sides), so never above `value`."""
    return max(2, int(value + 1e-6) // 2 * 2)


def fit_within(width: int, height: int, *, max_long: int, max_short: int) -> tuple[int, int]:
    """The largest even size with the aspect of width x height whose long side is at most
    `max_long` and short side at most `max_short`; never larger than the source."""
    if width <= 0 or height <= 0:
        raise ValueError("a picture size must be positive")
    long_side, short_side = max(width, height), min(width, height)
    scale = min(1.0, max_long / long_side, max_short / short_side)
    return even(width * scale), even(height * scale)


def scale_to_height(width: int, height: int, target_height: int) -> tuple[int, int]:
    """An even size of height `target_height` (at most the source's) keeping the aspect."""
    target = min(target_height, height)
    return even(width * target / height), even(target)


def parse_loudnorm_json(stderr: str) -> dict[str, Any]:
    """The last JSON object loudnorm printed (print_format=json), values as floats where
    they are numbers; FFmpeg prints them as strings, "-inf" for silence."""
    matches = re.findall(r"\{[^{}]*\"input_i\"[^{}]*\}", stderr, flags=re.S)
    if not matches:
        raise ValueError("no loudnorm measurement in FFmpeg's output")
    raw = json.loads(matches[-1])
    result: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            result[key] = value
            continue
        result[key] = number if number not in (float("inf"), float("-inf")) else None
    return result
