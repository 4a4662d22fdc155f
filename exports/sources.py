"""Local copies of the clips an export reads, shared by its chunks on one machine.

FFmpeg never reads a storage URL. Every chunk of an export that runs on this machine uses one
folder, PROCESSING_TMP_DIR/export-<job id>/: a clip is copied there once (under a lock, to a
temporary name, then renamed), whichever chunk needs it first. The folder goes when the export
ends here; the hourly temp sweep removes what a machine that stopped rendering left behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import shutil
from collections.abc import Iterator, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from django.conf import settings

from exports.engine import JobFailed
from processing.ffmpeg.export.chunk import LocalSource, start_time_probe_args
from processing.ffmpeg.runner import run_ffprobe_json
from processing.files import storage_download


def job_folder(job_id: Any) -> Path:
    return Path(settings.PROCESSING_TMP_DIR) / f"export-{job_id}"


def work_folder(job_id: Any, name: str) -> Path:
    """A fresh folder for one step (a chunk, the mux): leftovers of an attempt that died here
    go first. Names carry no user input."""
    folder = job_folder(job_id) / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def remove_job_folder(job_id: Any) -> None:
    shutil.rmtree(job_folder(job_id), ignore_errors=True)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def local_copy(job_id: Any, key: str, source: Mapping[str, Any]) -> Path:
    """This machine's copy of one clip's original (downloaded the first time)."""
    folder = job_folder(job_id) / "sources"
    path = folder / key
    with _locked(folder / f"{key}.lock"):
        if path.exists():
            os.utime(path)  # in use: the temp sweep goes by modification time
            return path
        partial = folder / f"{key}.part"
        try:
            storage_download(str(source["file"]), partial)
        except FileNotFoundError as exc:
            partial.unlink(missing_ok=True)
            raise JobFailed(
                f"The file of clip “{source.get('name', key)}” is missing from storage. Upload "
                "it again or remove it from the timeline.",
                str(exc),
            ) from exc
        os.replace(partial, path)
    return path


@functools.lru_cache(maxsize=256)
def _start_time(path: str, size: int, mtime: float) -> Fraction:
    data = run_ffprobe_json(start_time_probe_args(settings.FFPROBE_BINARY, Path(path)))
    value = (data.get("format") or {}).get("start_time")
    try:
        return Fraction(str(value)) if value not in (None, "N/A") else Fraction(0)
    except (ValueError, ZeroDivisionError):
        return Fraction(0)


def local_sources(
    job_id: Any, keys: list[str], sources: Mapping[str, Mapping[str, Any]]
) -> dict[str, LocalSource]:
    """Local copies of `keys` with their format start times (what `-ss 0` means)."""
    found = {}
    for key in keys:
        path = local_copy(job_id, key, sources[key])
        if sources[key].get("still"):
            found[key] = LocalSource(path)  # one picture: no timestamps to line up
            continue
        stat = path.stat()
        found[key] = LocalSource(path, _start_time(str(path), stat.st_size, stat.st_mtime))
    return found
