"""Rendering one chunk: its picture encoded (or stream-copied from the sources), its sound
written losslessly, both checked against the spec and stored under the chunk's name.

The FFmpeg run opens only the sources this chunk needs, so its memory does not grow with the
timeline. Frame and sample counts are checked before anything is stored: a chunk that is a
frame short would shift every chunk after it.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from django.conf import settings

from exports.engine import JobFailed, Work
from exports.sources import local_sources, work_folder
from processing.ffmpeg.export.chunk import (
    SOUND_CONTAINER,
    SOUND_EXTENSION,
    ChunkSpec,
    Encoding,
    LocalSource,
    chunk_copy_args,
    chunk_graph,
    chunk_join_args,
    chunk_render_args,
    chunk_sound_args,
    picture_container,
    picture_extension,
    stream_count_probe_args,
)
from processing.ffmpeg.export.mux import concat_input_args, concat_list
from processing.ffmpeg.runner import run_ffprobe_json
from processing.files import storage_replace


class CopyFailed(Exception):
    """Stream-copying a chunk's picture did not give exactly its frames."""


@dataclass(frozen=True)
class Rendered:
    picture_key: str
    sound_key: str
    size: int
    cpu_seconds: float


def chunk_storage_keys(project_id: Any, key: str, fmt: str) -> tuple[str, str]:
    """Where a chunk's files are stored: under the project's exports, so deleting the project
    deletes them; named by the chunk's hash, so a chunk rendered twice lands in one place."""
    base = f"exports/{project_id}/chunks/{key}"
    return f"{base}.{picture_extension(fmt)}", f"{base}.{SOUND_EXTENSION}"


def _counted(path: Path, kind: str, demuxer: str) -> tuple[int, Fraction]:
    """(packets, duration in seconds) of our own file's first `kind` stream."""
    data = run_ffprobe_json(
        stream_count_probe_args(settings.FFPROBE_BINARY, path, kind=kind, demuxer=demuxer)
    )
    stream = (data.get("streams") or [{}])[0]
    packets = int(stream.get("nb_read_packets") or 0)
    ticks = stream.get("duration_ts")
    base = stream.get("time_base") or "1/1"
    duration = Fraction(int(ticks)) * Fraction(base) if str(ticks).isdigit() else Fraction(-1)
    return packets, duration


def _check(picture: Path, sound: Path, spec: ChunkSpec, fmt: str) -> None:
    frames, _ = _counted(picture, "v", picture_container(fmt))
    _, seconds = _counted(sound, "a", SOUND_CONTAINER)
    samples = round(seconds * 48000)
    if frames != spec.frames or samples != spec.samples:
        raise JobFailed(
            "Part of the export came out the wrong length. Please try again.",
            f"chunk has {frames} frames and {samples} samples, expected {spec.frames} and "
            f"{spec.samples}",
        )


def _copy_picture(
    work: Work,
    spec: ChunkSpec,
    local: Mapping[str, LocalSource],
    folder: Path,
    picture: Path,
) -> float:
    parts = [folder / f"part{index:03d}.ts" for index in range(len(spec.pictures))]
    cpu = work.run_ffmpeg(
        chunk_copy_args(settings.FFMPEG_BINARY, spec, local, parts), cwd=folder
    ).cpu_seconds
    listing = folder / "parts.ffconcat"
    listing.write_text(
        concat_list(
            [
                (p.name, Fraction(piece.frames) / spec.rate)
                for p, piece in zip(parts, spec.pictures, strict=True)
            ]
        )
    )
    cpu += work.run_ffmpeg(
        chunk_join_args(settings.FFMPEG_BINARY, concat_input_args(listing), picture), cwd=folder
    ).cpu_seconds
    frames, _ = _counted(picture, "v", "mpegts")
    if frames != spec.frames:
        raise CopyFailed(f"stream copy gave {frames} frames instead of {spec.frames}")
    return cpu


def chunk_render(
    *,
    work: Work,
    key: str,
    spec: ChunkSpec,
    project_id: Any,
    fmt: str,
    encoding: Encoding,
    sources: Mapping[str, Mapping[str, Any]],
) -> Rendered:
    """Render (or copy) one chunk in its own folder and store its two files. `work.progress`
    hears the chunk's own progress, 0–100."""
    job_id = work.job.pk
    folder = work_folder(job_id, f"chunk-{key[:24]}")
    try:
        local = local_sources(job_id, spec.sources, sources)
        work.check_cancelled()
        picture = folder / f"picture.{picture_extension(fmt)}"
        sound = folder / f"sound.{SOUND_EXTENSION}"
        seconds = float(spec.frames / spec.rate)
        script = folder / "chunk.graph"
        if spec.copy:
            cpu = _copy_picture(work, spec, local, folder, picture)
            script.write_text(chunk_graph(spec, local, pictures=False))
            args = chunk_sound_args(
                settings.FFMPEG_BINARY, spec, local, graph_script=script, sound_out=sound
            )
        else:
            cpu = 0.0
            script.write_text(chunk_graph(spec, local, pictures=True))
            args = chunk_render_args(
                settings.FFMPEG_BINARY,
                spec,
                local,
                graph_script=script,
                picture_out=picture,
                sound_out=sound,
                fmt=fmt,
                encoding=encoding,
            )
        result = work.run_ffmpeg(args, duration=seconds, span=(0, 100), cwd=folder)
        cpu += result.cpu_seconds
        _check(picture, sound, spec, fmt)
        work.check_cancelled()
        picture_key, sound_key = chunk_storage_keys(project_id, key, fmt)
        storage_replace(picture_key, picture)
        storage_replace(sound_key, sound)
        return Rendered(picture_key, sound_key, picture.stat().st_size + sound.stat().st_size, cpu)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
