"""Pure builders of FFmpeg argument lists for ingest work. Each takes local paths and numbers and
returns a list; tests read them as lists and pin the safety flags on every one."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from processing.ffmpeg.safety import base_ffmpeg_args, safe_input_args


def decode_check_args(source: Path) -> list[str]:
    """Decode the first video frame only: proves the stream is decodable, cheaply."""
    return [
        *base_ffmpeg_args(settings.FFMPEG_BINARY),
        *safe_input_args(source),
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-f",
        "null",
        "-",
    ]
