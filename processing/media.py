"""What a media file is, decided by ffprobe (never by its name), and whether we accept it."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from django.conf import settings

from common.errors import ErrorCode, ServiceError
from processing.ffmpeg.commands import decode_check_args, first_frame_probe_args
from processing.ffmpeg.runner import FFmpegError, ffprobe_args, run_ffmpeg, run_ffprobe_json
from processing.ffmpeg.safety import (
    IMAGE_DEMUXERS,
    MAX_HEIGHT,
    MAX_PIXELS,
    MAX_WIDTH,
    SOURCE_DEMUXERS,
)
from processing.images import image_header

MAX_FPS = 240
# Real video never carries less than this many bytes per second; a file that claims a duration
# its size cannot hold is a crafted or broken file (and would make FFmpeg decode for hours).
MIN_BYTES_PER_SECOND = 1000
# The same for frames: a file whose real frames (packets counted by ffprobe, nothing decoded)
# are under 1% of what duration x claimed rate promises, or that holds under a few bytes per
# claimed frame, is sparse by construction; any filter that fills the claimed rate (and many
# decoders' timing) would turn its few frames into hours of work.
MIN_REAL_FRAME_SHARE = 0.01
MIN_BYTES_PER_CLAIMED_FRAME = 4
PIXEL_CAP_RE = re.compile(
    r"Picture size (?P<width>\d+)x(?P<height>\d+) exceeds specified max pixel"
)


def _rate(value: str | None) -> float | None:
    if not value or value in ("0/0", "0"):
        return None
    try:
        rate = Fraction(value)
    except (ValueError, ZeroDivisionError):
        return None
    return float(rate) if rate > 0 else None


def _rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            try:
                return round(float(side["rotation"])) % 360
            except (TypeError, ValueError):
                return 0
    try:
        return int(stream.get("tags", {}).get("rotate", 0)) % 360
    except (TypeError, ValueError):
        return 0


def _float(value: Any) -> float | None:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if result == result else None  # NaN check


def describe_probe(data: dict[str, Any], *, file_size: int) -> dict[str, Any]:
    """Turn ffprobe's JSON into the clip metadata the API shows (pure, testable)."""
    fmt = data.get("format") or {}
    streams = data.get("streams") or []
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video"
        and not (s.get("disposition") or {}).get("attached_pic")
        and s.get("codec_name") not in (None, "none")
    ]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    video = videos[0] if videos else {}
    audio = audios[0] if audios else {}
    width = int(video.get("width") or 0)
    height = int(video.get("height") or 0)
    rotation = _rotation(video) if video else 0
    display_w, display_h = (height, width) if rotation in (90, 270) else (width, height)
    avg_fps = _rate(video.get("avg_frame_rate"))
    real_fps = _rate(video.get("r_frame_rate"))
    duration = _float(fmt.get("duration")) or _float(video.get("duration"))
    frames = _float(video.get("nb_read_packets")) or _float(video.get("nb_frames"))
    still = bool(set(str(fmt.get("format_name") or "").split(",")) & set(IMAGE_DEMUXERS))
    if still:
        # A picture has no length or rate of its own (image demuxers claim 25 fps); an
        # animated one becomes a still of its first frame.
        duration, avg_fps, real_fps = None, None, None
    return {
        "container": fmt.get("format_name", ""),
        "container_long_name": fmt.get("format_long_name", ""),
        "duration": duration,
        "bit_rate": int(_float(fmt.get("bit_rate")) or 0) or None,
        "file_size": file_size,
        "video_codec": video.get("codec_name"),
        "video_profile": video.get("profile"),
        "pix_fmt": video.get("pix_fmt"),
        "width": width,
        "height": height,
        "display_width": display_w,
        "display_height": display_h,
        "rotation": rotation,
        "fps": round(avg_fps or real_fps or 0, 3) or None,
        "r_frame_rate": video.get("r_frame_rate"),
        "avg_frame_rate": video.get("avg_frame_rate"),
        "variable_frame_rate": bool(
            avg_fps and real_fps and abs(avg_fps - real_fps) / real_fps > 0.01
        ),
        "time_base": video.get("time_base"),
        "frame_count": int(frames) if frames else None,
        "video_duration": _float(video.get("duration")),
        "has_audio": bool(audios),
        "audio_codec": audio.get("codec_name"),
        "audio_channels": audio.get("channels"),
        "audio_sample_rate": int(audio["sample_rate"]) if audio.get("sample_rate") else None,
        "video_streams": len(videos),
        "audio_streams": len(audios),
        "still": still,
        "animated": bool(still and frames and frames > 1),
    }


def _reject(reason: str, **details: Any) -> ServiceError:
    return ServiceError(
        f"This file cannot be used as a video clip: {reason}",
        {"reason": reason, **details},
        code=ErrorCode.INVALID_FILE_FORMAT,
    )


def _check_picture_size(width: int, height: int) -> None:
    if (
        max(width, height) > MAX_WIDTH
        or min(width, height) > MAX_HEIGHT
        or width * height > MAX_PIXELS
    ):
        raise _reject(
            f"its picture ({width}x{height}) is larger than 8K ({MAX_WIDTH}x{MAX_HEIGHT}).",
            width=width,
            height=height,
        )


def check_image_header(path: Path) -> None:
    """Refuse, from its header alone, an image whose declared size is over the cap (a
    decompression bomb) or that no decoder here can read (an animated WebP, a GIF)."""
    header = image_header(path)
    if header is None:
        return
    _check_picture_size(header.width, header.height)
    if header.kind == "gif":
        raise _reject(
            "GIF images are not supported. Save it as PNG (a still) or MP4 (an animation).",
            image_format="gif",
        )
    if header.kind == "webp" and header.animated:
        raise _reject(
            "animated WebP images are not supported. Save it as MP4, or as a still PNG or WebP.",
            image_format="webp",
            animated=True,
        )


def check_probe(info: dict[str, Any]) -> None:
    """Raise INVALID_FILE_FORMAT when the probed file is outside what we accept (pure)."""
    container_names = set(str(info.get("container") or "").split(","))
    if not container_names & set(SOURCE_DEMUXERS):
        raise _reject(f"its container ({info.get('container') or 'unknown'}) is not supported.")
    if not info.get("video_streams"):
        raise _reject("it has no video stream.")
    width, height = info.get("width") or 0, info.get("height") or 0
    if width <= 0 or height <= 0:
        what = "image" if info.get("still") else "video"
        raise _reject(f"its {what} has no picture size.")
    _check_picture_size(width, height)
    if info.get("still"):
        return  # one picture: no rate, length or frame density to check
    fps = info.get("fps") or 0
    if fps > MAX_FPS:
        raise _reject(f"its frame rate ({fps:g} fps) is above {MAX_FPS} fps.")
    duration = info.get("duration")
    if not duration or duration <= 0:
        raise _reject("its duration is unknown or zero.")
    max_duration = settings.MEDIA_MAX_DURATION_SECONDS
    if duration > max_duration:
        raise _reject(
            f"it is longer than the {max_duration / 3600:g} hours a clip may last.",
            duration=duration,
        )
    if info.get("file_size", 0) / duration < MIN_BYTES_PER_SECOND:
        raise _reject(
            "it claims a duration its size cannot hold (the file is damaged or crafted).",
            duration=duration,
        )
    # The video's own span (a cover picture over a long audio track is one frame, not sparse).
    _check_frame_density(info, min(info.get("video_duration") or duration, duration))


def _check_frame_density(info: dict[str, Any], duration: float) -> None:
    claimed_fps = _rate(info.get("r_frame_rate")) or info.get("fps") or 0
    claimed_frames = duration * claimed_fps
    if claimed_frames <= 0:
        return
    frames = info.get("frame_count")
    if frames and frames < claimed_frames * MIN_REAL_FRAME_SHARE:
        raise _reject(
            f"it holds {frames} frames but claims {claimed_frames:.0f} "
            f"({duration:g} s at {claimed_fps:g} fps); the file is damaged or crafted.",
            duration=duration,
            frame_count=frames,
        )
    if info.get("file_size", 0) / claimed_frames < MIN_BYTES_PER_CLAIMED_FRAME:
        raise _reject(
            "it claims more frames than its size can hold (the file is damaged or crafted).",
            duration=duration,
        )


def still_oriented(info: dict[str, Any], frame: dict[str, Any]) -> dict[str, Any]:
    """A still's metadata with the orientation its first frame carries (a photo's EXIF
    Orientation arrives as the frame's display matrix, not the stream's): FFmpeg turns the
    picture upright when decoding, so the display size swaps for a quarter turn (pure)."""
    rotation = _rotation(frame)
    if not rotation:
        return info
    width, height = info["width"], info["height"]
    display = (height, width) if rotation in (90, 270) else (width, height)
    return {
        **info,
        "rotation": rotation,
        "display_width": display[0],
        "display_height": display[1],
    }


def _first_frame(path: Path) -> dict[str, Any]:
    """ffprobe's report of the first decoded frame (only called once the header checks
    passed: decoding a picture within the pixel cap is bounded)."""
    try:
        data = run_ffprobe_json(first_frame_probe_args(path))
    except FFmpegError as exc:
        raise _reject("its picture cannot be decoded.", decode_error=exc.stderr[-500:]) from exc
    frames = data.get("frames") or [{}]
    return frames[0]


@contextmanager
def _without_extension(path: Path) -> Iterator[Path]:
    """`path` under a name without an extension (a hard link, or a copy across file systems,
    when it has one; not a symlink, as inputs are opened by their resolved path): FFmpeg's
    image2 demuxer claims any file named *.jpg, so a name could decide what a file is."""
    if not path.suffix:
        yield path
        return
    directory = Path(settings.PROCESSING_TMP_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as folder:
        link = Path(folder) / "source"
        try:
            os.link(path, link)
        except OSError:
            shutil.copyfile(path, link)
        yield link


def media_validate(path: Path) -> dict[str, Any]:
    """Probe a local file (a video or a still image) and decode its first video frame; return
    its metadata or raise ServiceError(INVALID_FILE_FORMAT) with a plain reason. Nothing is
    decoded before the header checks pass, so pixel bombs and absurd durations never reach a
    decoder. A still image comes back with `still` true and `duration` None."""
    if not path.exists() or path.stat().st_size == 0:
        raise _reject("the file is empty.")
    check_image_header(path)
    with _without_extension(path) as source:
        return _probe_and_decode(source)


def _probe_and_decode(path: Path) -> dict[str, Any]:
    try:
        # -count_packets reads the container (no decoding) for the real frame count.
        data = run_ffprobe_json(ffprobe_args(path, extra=["-count_packets"]))
    except FFmpegError as exc:
        # -max_pixels stops ffprobe's stream analysis of a pixel bomb: say so plainly.
        oversized = PIXEL_CAP_RE.search(exc.stderr)
        if oversized:
            width, height = int(oversized["width"]), int(oversized["height"])
            raise _reject(
                f"its picture ({width}x{height}) is larger than 8K ({MAX_WIDTH}x{MAX_HEIGHT}).",
                width=width,
                height=height,
            ) from exc
        raise _reject("it is not a video file we can read.", probe_error=exc.stderr[-500:]) from exc
    info = describe_probe(data, file_size=path.stat().st_size)
    check_probe(info)
    if info["still"]:
        info = still_oriented(info, _first_frame(path))
    try:
        run_ffmpeg(decode_check_args(path), timeout=120)
    except FFmpegError as exc:
        raise _reject(
            "its video stream cannot be decoded.", decode_error=exc.stderr[-500:]
        ) from exc
    return info


def duration_decimal(seconds: float | None) -> Decimal | None:
    if seconds is None:
        return None
    return Decimal(str(round(seconds, 3)))
