"""Rendering one chunk: its picture encoded (or stream-copied from the sources), its sound
written losslessly, both checked against the spec and stored under the chunk's name.

The FFmpeg run opens only the sources this chunk needs, so its memory does not grow with the
timeline. Frame and sample counts are checked before anything is stored: a chunk that is a
frame short would shift every chunk after it.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from django.conf import settings

from exports.engine import JobFailed, Work
from exports.sources import local_sources, work_folder
from processing.ffmpeg.export.chunk import (
    SOUND_EXTENSION,
    ChunkSpec,
    Encoding,
    LocalSource,
    chunk_copy_args,
    chunk_fonts,
    chunk_graph,
    chunk_join_args,
    chunk_render_args,
    chunk_sound_args,
    chunk_text_files,
    font_file_name,
    picture_extension,
)
from processing.ffmpeg.export.mux import concat_input_args, concat_list
from processing.files import storage_replace
from timeline.fonts import font_path


class CopyFailed(Exception):
    """Stream-copying a chunk's picture did not give exactly its frames."""


@dataclass(frozen=True)
class Rendered:
    picture_key: str
    sound_key: str
    size: int


def chunk_storage_keys(project_id: Any, key: str, fmt: str) -> tuple[str, str]:
    """Where a chunk's files are stored: under the project's exports, so deleting the project
    deletes them; named by the chunk's hash, so a chunk rendered twice lands in one place."""
    base = f"exports/{project_id}/chunks/{key}"
    return f"{base}.{picture_extension(fmt)}", f"{base}.{SOUND_EXTENSION}"


def wavpack_samples(path: Path) -> int | None:
    """The sample count in our own WavPack file's first block header (FFmpeg's muxer writes
    the total there when it closes the file): 40 bits, "wvpk" then size, version, the high
    byte at offset 11 and the low 32 bits at 12. None when the header says it is unknown."""
    with open(path, "rb") as handle:
        header = handle.read(16)
    if len(header) < 16 or header[:4] != b"wvpk":
        return None
    (low,) = struct.unpack("<I", header[12:16])
    if low == 0xFFFFFFFF:
        return None
    return header[11] << 32 | low


def _check(frames: int | None, sound: Path, spec: ChunkSpec) -> None:
    """A chunk a frame or a sample off would shift every chunk after it: refuse it."""
    samples = wavpack_samples(sound)
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
) -> None:
    parts = [folder / f"part{index:03d}.ts" for index in range(len(spec.pictures))]
    work.run_ffmpeg(chunk_copy_args(settings.FFMPEG_BINARY, spec, local, parts), cwd=folder)
    listing = folder / "parts.ffconcat"
    listing.write_text(
        concat_list(
            [
                (p.name, Fraction(piece.frames) / spec.rate)
                for p, piece in zip(parts, spec.pictures, strict=True)
            ]
        )
    )
    joined = work.run_ffmpeg(
        chunk_join_args(settings.FFMPEG_BINARY, concat_input_args(listing), picture), cwd=folder
    )
    if joined.frames != spec.frames:
        raise CopyFailed(f"stream copy gave {joined.frames} frames instead of {spec.frames}")


def write_text_assets(spec: ChunkSpec, folder: Path) -> None:
    """The files the chunk's drawtext filters read (its text lines and the bundled fonts),
    next to its graph: the graph names them by bare name, so nothing needs escaping."""
    for name, content in chunk_text_files(spec).items():
        (folder / name).write_text(content, encoding="utf-8")
    for font in chunk_fonts(spec):
        shutil.copyfile(font_path(font), folder / font_file_name(font))


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
        frames: int | None = spec.frames
        if spec.copy:
            _copy_picture(work, spec, local, folder, picture)
            script.write_text(chunk_graph(spec, local, pictures=False))
            args = chunk_sound_args(
                settings.FFMPEG_BINARY, spec, local, graph_script=script, sound_out=sound
            )
        else:
            write_text_assets(spec, folder)
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
        if not spec.copy:
            frames = result.frames
        _check(frames, sound, spec)
        work.check_cancelled()
        picture_key, sound_key = chunk_storage_keys(project_id, key, fmt)
        storage_replace(picture_key, picture)
        storage_replace(sound_key, sound)
        return Rendered(picture_key, sound_key, picture.stat().st_size + sound.stat().st_size)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
