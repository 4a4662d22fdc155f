"""Local copies of the clips an export reads, shared by its chunks on one machine.

FFmpeg never reads a storage URL. Every chunk of an export that runs on this machine uses one
folder, PROCESSING_TMP_DIR/export-<job id>/: a clip is copied there once (under a lock, to a
temporary name, then renamed), whichever chunk needs it first, and its format start time is
probed once and kept beside it. The folder goes when the export ends here; the hourly temp
sweep removes what a machine that stopped rendering left behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import threading
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


def _start_time(path: Path) -> Fraction:
    """The format start time of a local copy, probed once per copy: the answer is kept next to
    it, so the chunks after the first (in any process on this machine) start no ffprobe."""
    kept = path.with_name(f"{path.name}.start")
    try:
        return Fraction(kept.read_text())
    except (OSError, ValueError, ZeroDivisionError):
        pass
    data = run_ffprobe_json(start_time_probe_args(settings.FFPROBE_BINARY, path))
    value = (data.get("format") or {}).get("start_time")
    try:
        start = Fraction(str(value)) if value not in (None, "N/A") else Fraction(0)
    except (ValueError, ZeroDivisionError):
        start = Fraction(0)
    partial = kept.with_name(f"{kept.name}.{os.getpid()}.{threading.get_ident()}")
    partial.write_text(str(start))
    os.replace(partial, kept)
    return start


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
        found[key] = LocalSource(path, _start_time(path))
    return found
