"""Before an export renders anything: will the processing disk hold it?

The estimate is deliberately generous. On the machine that finishes the export, the temp
folder holds the clips' originals (while chunks render there), every chunk's picture and
lossless sound (the mux reads them all) and the finished file. An export that cannot fit fails
at once with a clear message instead of filling the disk hours later.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exports.engine import JobFailed
from processing.ffmpeg.export.chunk import ChunkSpec

# Bits per pixel of an encoded frame: the top of what x264 at CRF 20 gives for camera footage.
BITS_PER_PIXEL = 0.15
# The chunks' sound before WavPack shrinks it: 32-bit float stereo at 48 kHz.
SOUND_BYTES_PER_SECOND = 48000 * 2 * 4
OUTPUT_SOUND_BYTES_PER_SECOND = 192_000 // 8
MARGIN = 1.1


@dataclass(frozen=True)
class SpaceNeeded:
    sources: int
    chunks: int
    output: int

    @property
    def total(self) -> int:
        return int((self.sources + self.chunks + self.output) * MARGIN)


def _copied_bytes(spec: ChunkSpec, sources: Mapping[str, Mapping[str, Any]]) -> float:
    """A copied chunk is as large as the stretch of the source it copies."""
    total = 0.0
    for piece in spec.pictures:
        info = sources[piece.source or ""]
        seconds = float(piece.frames / spec.rate)
        total += (
            float(info.get("size") or 0) / max(1e-3, float(info.get("duration") or 0)) * seconds
        )
    return total


def space_needed(
    specs: Sequence[ChunkSpec],
    sources: Mapping[str, Mapping[str, Any]],
    used: Iterable[str],
    *,
    either_way: bool = False,
) -> SpaceNeeded:
    """What the export will occupy; with `either_way`, each chunk at the larger of its encoded
    and copied size (before the smart path has decided which)."""
    pictures = 0.0
    seconds = 0.0
    for spec in specs:
        length = float(spec.frames / spec.rate)
        seconds += length
        encoded = spec.width * spec.height * float(spec.rate) * length * BITS_PER_PIXEL / 8
        copyable = all(piece.source for piece in spec.pictures)
        copied = _copied_bytes(spec, sources) if (spec.copy or either_way) and copyable else 0.0
        pictures += copied if spec.copy else max(encoded, copied)
    return SpaceNeeded(
        sources=sum(int(sources[key].get("size") or 0) for key in set(used)),
        chunks=int(pictures + seconds * SOUND_BYTES_PER_SECOND),
        output=int(pictures + seconds * OUTPUT_SOUND_BYTES_PER_SECOND),
    )


def human(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


def space_check(needed: SpaceNeeded, directory: Path) -> None:
    """A JobFailed when `directory`'s disk has less free space than the export needs."""
    directory.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(directory).free
    if needed.total > free:
        raise JobFailed(
            f"This export needs about {human(needed.total)} of temporary disk space on the "
            f"processing server, but only {human(free)} is free. Try again later, or export a "
            "shorter timeline or a smaller preset.",
            f"sources {needed.sources} B, chunks {needed.chunks} B, output {needed.output} B, "
            f"free {free} B in {directory}",
        )
