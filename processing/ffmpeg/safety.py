"""Flags that keep a hostile media file from making FFmpeg open anything but the file itself.

A playlist (HLS, concat, …) disguised as `.mp4` can make FFmpeg read other local files or fetch
URLs. Every input therefore carries:
- `-protocol_whitelist file`: only the local file protocol, never http/tcp/data/…;
- `-format_whitelist <demuxers>`: only container and single-image demuxers we accept (no hls,
  concat, image2 …);
- `-max_pixels N`: decoders refuse pictures larger than 8K, so a pixel bomb fails fast.
FFmpeg only ever reads a local temp copy of a stored file, never an S3 or HTTP URL.
"""

from __future__ import annotations

from pathlib import Path

# Demuxer short names (matched against FFmpeg's demuxer name lists, e.g. "mov,mp4,m4a,…").
VIDEO_DEMUXERS = ("mov", "mp4", "matroska", "webm", "avi", "mpegts", "flv", "mpeg", "ogg")
# Still images: one file, one picture (an APNG's frames all come from the file itself). Never
# image2, which opens sequences of other files by pattern.
IMAGE_DEMUXERS = ("png_pipe", "jpeg_pipe", "webp_pipe", "apng")
SOURCE_DEMUXERS = (*VIDEO_DEMUXERS, *IMAGE_DEMUXERS)
# What our own derived files use (images and audio we wrote ourselves).
DERIVED_DEMUXERS = (*SOURCE_DEMUXERS, "wav", "image2")
MAX_WIDTH = 7680
MAX_HEIGHT = 4320
MAX_PIXELS = MAX_WIDTH * MAX_HEIGHT


def safe_input_args(path: Path | str, *, demuxers: tuple[str, ...] = SOURCE_DEMUXERS) -> list[str]:
    """The arguments that open one local media file safely (for ffmpeg and ffprobe alike)."""
    path_str = str(path)
    if "://" in path_str or path_str.startswith(("-", "pipe:", "http", "concat:")):
        raise ValueError(f"Refusing to open a non-local input: {path_str!r}")
    return [
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        ",".join(demuxers),
        "-max_pixels",
        str(MAX_PIXELS),
        "-i",
        f"file:{Path(path_str).resolve()}",
    ]


def base_ffmpeg_args(binary: str, *, loglevel: str = "error") -> list[str]:
    """The start of every ffmpeg call: no stdin, machine-readable progress, quiet stderr.

    Measuring filters (loudnorm, ebur128) print their results at `info` level, so their
    builders ask for it."""
    return [
        binary,
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-loglevel",
        loglevel,
        "-progress",
        "pipe:1",
        "-stats_period",
        "0.5",
        "-y",
    ]
