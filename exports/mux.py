"""The last step of an export: every chunk fetched, the joined sound measured, then the pictures
joined by stream copy and muxed with the sound, normalised and encoded once, checked and
stored as the export's file.

Two FFmpeg runs, each reading the chunks one after another through the concat demuxer, so
memory stays flat however many chunks there are.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from django.conf import settings

from exports.engine import JobFailed, Work
from exports.loudness import Loudness
from exports.sources import work_folder
from processing.ffmpeg.export.chunk import (
    SOUND_EXTENSION,
    Encoding,
    picture_container,
    picture_extension,
)
from processing.ffmpeg.export.mux import (
    concat_list,
    loudness_measure_args,
    mux_args,
    mux_graph,
    parse_ebur128,
)
from processing.ffmpeg.runner import ffprobe_args, run_ffprobe_json
from processing.files import storage_download, storage_replace
from projects.storage import export_prefix


def export_key(project_id: Any, job_id: Any, fmt: str) -> str:
    return f"{export_prefix(project_id)}{job_id}.{fmt}"


def export_file_name(project_name: str, fmt: str) -> str:
    """The name a download is saved under: the project's, in characters every browser and
    file system takes."""
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "", project_name).strip(" .") or "export"
    return f"{stem[:80]}.{fmt}"


class MissingChunk(Exception):
    """A chunk's stored file is gone (deleted behind the cache's back): render it again."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Part:
    """One position of the timeline: the chunk there and its length."""

    key: str
    picture_key: str
    sound_key: str
    frames: int
    samples: int


@dataclass(frozen=True)
class Muxed:
    path: Path
    loudness: Loudness
    duration: float
    timings: dict[str, float]


def _fetch(parts: Sequence[Part], folder: Path, fmt: str) -> dict[str, tuple[str, str]]:
    """Local copies of each distinct chunk (a chunk repeated in the timeline is fetched once)."""
    names: dict[str, tuple[str, str]] = {}
    for part in parts:
        if part.key in names:
            continue
        number = len(names)
        picture = f"p{number:05d}.{picture_extension(fmt)}"
        sound = f"s{number:05d}.{SOUND_EXTENSION}"
        try:
            storage_download(part.picture_key, folder / picture)
            storage_download(part.sound_key, folder / sound)
        except FileNotFoundError as exc:
            raise MissingChunk(part.key) from exc
        names[part.key] = (picture, sound)
    return names


def _duration(path: Path) -> float | None:
    """The finished file's duration from its header (the index is at the front: faststart)."""
    duration = (run_ffprobe_json(ffprobe_args(path)).get("format") or {}).get("duration")
    return float(duration) if duration else None


def export_mux(
    *,
    work: Work,
    parts: Sequence[Part],
    fmt: str,
    rate: Fraction,
    total_frames: int,
    total_samples: int,
    loudness: Loudness,
    encoding: Encoding,
) -> Muxed:
    """Join the parts into the finished file in this step's folder (the caller stores it)."""
    timings: dict[str, float] = {}
    clock = time.monotonic()
    folder = work_folder(work.job.pk, "mux")
    names = _fetch(parts, folder, fmt)
    timings["fetch"] = round(time.monotonic() - clock, 3)
    work.check_cancelled()
    pictures = folder / "pictures.ffconcat"
    pictures.write_text(concat_list([(names[p.key][0], Fraction(p.frames) / rate) for p in parts]))
    sounds = folder / "sounds.ffconcat"
    sounds.write_text(concat_list([(names[p.key][1], Fraction(p.samples, 48000)) for p in parts]))
    seconds = float(Fraction(total_frames) / rate)

    clock = time.monotonic()
    result = work.run_ffmpeg(
        loudness_measure_args(settings.FFMPEG_BINARY, sounds),
        duration=seconds,
        span=(90, 93),
        cwd=folder,
    )
    try:
        measured = parse_ebur128(result.stderr)
    except ValueError as exc:
        raise JobFailed(
            "The loudness of the timeline's audio could not be measured. Please try again.",
            result.stderr[-2000:],
        ) from exc
    loudness = Loudness(loudness.target_i, loudness.true_peak, measured)
    timings["loudness"] = round(time.monotonic() - clock, 3)

    clock = time.monotonic()
    script = folder / "mux.graph"
    script.write_text(
        mux_graph(samples=total_samples, gain_db=loudness.gain_db, limit=loudness.limit)
    )
    output = folder / f"export.{fmt}"
    muxed = work.run_ffmpeg(
        mux_args(
            settings.FFMPEG_BINARY,
            picture_list=pictures,
            picture_demuxer=picture_container(fmt),
            sound_list=sounds,
            graph_script=script,
            output=output,
            fmt=fmt,
            rate=rate,
            encoding=encoding,
        ),
        duration=seconds,
        span=(93, 99),
        cwd=folder,
    )
    if muxed.frames != total_frames:
        raise JobFailed(
            "The export came out the wrong length. Please try again.",
            f"the joined file has {muxed.frames} frames, the timeline {total_frames}",
        )
    duration = _duration(output)
    timings["mux"] = round(time.monotonic() - clock, 3)
    return Muxed(output, loudness, duration or seconds, timings)


def export_store(muxed: Muxed, key: str) -> int:
    storage_replace(key, muxed.path)
    return muxed.path.stat().st_size
