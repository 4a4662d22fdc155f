"""The smart path, per chunk: when a chunk's picture can be stream-copied from its sources.

Copying is exact only when every piece starts on a keyframe and ends on one (or at the end of
its clip): a cut anywhere else would need frames of a group of pictures we do not copy. The
copied packets are joined with other chunks into one video track, which has one set of codec
parameters (SPS/PPS), so a copied chunk must share them with the rest of the export.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from processing.ffmpeg.export.chunk import Encoding, Picture, video_codec_args
from processing.ffmpeg.safety import base_ffmpeg_args, safe_input_args


@dataclass(frozen=True)
class VideoStream:
    """A source's video stream as the smart path judges it."""

    codec: str
    profile: str
    pix_fmt: str
    width: int
    height: int
    fps: Fraction
    sar: str
    rotation: int
    extradata_hash: str
    frame_count: int
    keyframes: frozenset[int]


def copy_refusal(
    pictures: Sequence[Picture],
    streams: Sequence[VideoStream | None],
    *,
    width: int,
    height: int,
    rate: Fraction,
) -> str | None:
    """Why a chunk's picture cannot be stream-copied, or None when it can. `streams[i]`
    describes the source of pictures[i]; all must share one set of codec parameters."""
    if not pictures:
        return "the chunk is empty"
    first = streams[0]
    for piece, stream in zip(pictures, streams, strict=True):
        if piece.source is None:
            return "the timeline has gaps"
        if stream is None:
            return "a source could not be probed"
        if stream.codec != "h264" or stream.pix_fmt != "yuv420p":
            return "a source is not H.264 yuv420p"
        if (stream.width, stream.height) != (width, height) or stream.rotation:
            return "a source would need scaling or rotating"
        if stream.sar not in ("1:1", "0:1", "", "N/A"):
            return "a source has non-square pixels"
        if stream.fps != rate:
            return "a source has another frame rate"
        assert first is not None
        if (stream.extradata_hash, stream.profile) != (first.extradata_hash, first.profile):
            return "the sources were encoded with different parameters"
        start = round(piece.origin * stream.fps) + piece.offset
        end = start + piece.frames
        if start not in stream.keyframes:
            return "an in-point is not on a keyframe"
        if end > stream.frame_count:
            return "a segment runs past the end of its clip"
        if end != stream.frame_count and end not in stream.keyframes:
            return "an out-point is not on a keyframe"
    return None


def video_stream_probe_args(binary: str, path: Path) -> list[str]:
    """ffprobe of a source's first video stream with a hash of its codec parameters (SPS/PPS):
    two files can be joined without re-encoding only when the hashes match."""
    return [
        binary, "-hide_banner", "-loglevel", "error", "-print_format", "json",
        "-select_streams", "v:0", "-show_data_hash", "MD5", "-show_streams",
        *safe_input_args(path),
    ]  # fmt: skip


def parse_video_stream(
    data: dict[str, Any],
    *,
    keyframe_times: Sequence[Fraction],
    packet_times: Sequence[Fraction] | None = None,
) -> VideoStream | None:
    """A VideoStream from the header probe and the keyframe times (seconds from the start of
    the clip). The frame count comes from the packet list when there is one, else from the
    header (`nb_frames`, which MP4/MOV carry); None when neither knows it."""
    streams = data.get("streams") or []
    if not streams:
        return None
    stream = streams[0]
    try:
        fps = Fraction(stream.get("r_frame_rate") or "0")
    except (ValueError, ZeroDivisionError):
        return None
    if fps <= 0:
        return None
    rotation = 0
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            rotation = round(float(side["rotation"])) % 360
    rotation = rotation or int((stream.get("tags") or {}).get("rotate", 0) or 0) % 360
    if packet_times:
        frame_count = len(packet_times)
        origin = min(packet_times)
    elif str(stream.get("nb_frames", "")).isdigit():
        frame_count = int(stream["nb_frames"])
        origin = (
            Fraction(str(stream.get("start_time") or 0))
            if stream.get("start_time") != "N/A"
            else Fraction(0)
        )
    else:
        return None
    return VideoStream(
        codec=stream.get("codec_name", ""),
        profile=stream.get("profile", ""),
        pix_fmt=stream.get("pix_fmt", ""),
        width=int(stream.get("width") or 0),
        height=int(stream.get("height") or 0),
        fps=fps,
        sar=stream.get("sample_aspect_ratio", ""),
        rotation=rotation,
        extradata_hash=stream.get("extradata_hash", ""),
        frame_count=frame_count,
        keyframes=frozenset(round((t - origin) * fps) for t in keyframe_times),
    )


def encoder_probe_args(
    binary: str, *, width: int, height: int, rate: Fraction, encoding: Encoding, output: Path
) -> list[str]:
    """One black frame through the chunk encoder into an MP4. Its codec parameters (avcC) are
    those of every chunk we encode: x264 derives them from the settings and the size only."""
    source = f"color=c=black:s={width}x{height}:r={rate.numerator}/{rate.denominator}"
    return [
        *base_ffmpeg_args(binary),
        "-f", "lavfi", "-i", source,
        "-frames:v", "1", *video_codec_args("mp4", rate, encoding),
        "-f", "mp4", f"file:{Path(output).resolve()}",
    ]  # fmt: skip
