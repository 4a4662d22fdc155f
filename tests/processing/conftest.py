"""Fixtures for processing specs: real media, clips with a stored original, a Dramatiq worker
running jobs in this process, and a real clamd with a local EICAR signature database."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import F

from accounts.models import User
from clips.models import Clip
from clips.storage import clip_original_key
from processing.models import ProcessingJob
from projects.models import Project
from tests.conftest import in_ci
from tests.media import EICAR, MediaFactory
from tests.projects.factories import make_project


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> MediaFactory:
    return MediaFactory(tmp_path_factory.mktemp("test-media"))


@pytest.fixture
def project(owner: Any) -> Project:
    return make_project(owner)


@pytest.fixture
def stored_clip(project: Project) -> Callable[..., Clip]:
    """A clip whose original (a local file) is stored and charged to its owner, as the upload
    services leave it just before they start the ingest."""

    def make(path: Path, *, name: str | None = None, status: str = Clip.Status.PROCESSING) -> Clip:
        size = path.stat().st_size
        clip = Clip.objects.create(
            project=project,
            owner=project.owner,
            name=name or path.stem,
            original_filename=path.name,
            file_size=size,
            status=status,
        )
        key = clip_original_key(clip.pk)
        with open(path, "rb") as handle:
            stored = default_storage.save(key, File(handle, name=key))
        clip.file_path = stored
        clip.save(update_fields=["file_path"])
        User.objects.filter(pk=project.owner_id).update(storage_used=F("storage_used") + size)
        return clip

    return make


def wait_for(predicate: Callable[[], Any], *, timeout: float = 90, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or predicate}")
        time.sleep(0.1)


def clip_settled(clip: Clip) -> Callable[[], Clip | None]:
    def check() -> Clip | None:
        clip.refresh_from_db()
        return clip if clip.status in (Clip.Status.READY, Clip.Status.FAILED) else None

    return check


def job_finished(job: ProcessingJob) -> Callable[[], ProcessingJob | None]:
    def check() -> ProcessingJob | None:
        job.refresh_from_db()
        return job if job.status in ProcessingJob.FINISHED and job.completed_at else None

    return check


@pytest.fixture
def worker(transactional_db: None) -> Iterator[dramatiq.Broker]:
    """Dramatiq worker threads in this process, on the configured broker (the stub broker
    embedded, Redis in CI). Jobs run in other threads, so tests using it need
    `django_db(transaction=True)`."""
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        yield broker
    finally:
        worker.stop(timeout=20_000)
        broker.flush_all()


# --- clamd --------------------------------------------------------------------------------------

CLAMD_STREAM_MAX = 1024 * 1024


@pytest.fixture(scope="session")
def clamd_socket() -> Iterator[str]:
    """A real clamd with a local signature database holding only the EICAR test string, made
    with sigtool. Outside CI a machine without clamd fails these tests too: there is no skip."""
    clamd = shutil.which("clamd") or "/usr/sbin/clamd"
    sigtool = shutil.which("sigtool") or "/usr/bin/sigtool"
    # A short path: unix socket paths are limited to about 100 bytes.
    directory = Path(tempfile.mkdtemp(prefix="clamd-"))
    database = directory / "db"
    database.mkdir()
    hex_dump = (
        subprocess.run(
            [sigtool, "--hex-dump"], input=EICAR.encode(), capture_output=True, check=True
        )
        .stdout.decode()
        .strip()
    )
    (database / "eicar.ndb").write_text(f"Eicar-Test-Signature:0:*:{hex_dump}\n")
    socket_path = directory / "clamd.sock"
    config = directory / "clamd.conf"
    config.write_text(
        f"LocalSocket {socket_path}\n"
        f"DatabaseDirectory {database}\n"
        "Foreground yes\n"
        f"LogFile {directory / 'clamd.log'}\n"
        f"StreamMaxLength {CLAMD_STREAM_MAX}\n"
        f"TemporaryDirectory {directory}\n"
    )
    process = subprocess.Popen(
        [clamd, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while not _ping(socket_path):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (
                    (directory / "clamd.log").read_text()
                    if (directory / "clamd.log").exists()
                    else ""
                )
                pytest.fail(
                    f"clamd could not start (CI={in_ci()}): exit {process.poll()}\n{log[-2000:]}"
                )
            time.sleep(0.2)
        yield str(socket_path)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(directory, ignore_errors=True)


def _ping(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(path))
            sock.sendall(b"zPING\0")
            return sock.recv(16).startswith(b"PONG")
    except OSError:
        return False


@pytest.fixture
def clamd(settings: Any, clamd_socket: str) -> str:
    settings.CLAMD_SOCKET = clamd_socket
    settings.CLAMD_HOST = ""
    return clamd_socket


@pytest.fixture
def no_clamd(settings: Any) -> None:
    settings.CLAMD_SOCKET = ""
    settings.CLAMD_HOST = ""


def ffmpeg_pids(marker: str) -> list[int]:
    """Processes whose command line mentions `marker` (a job's temp folder) and run ffmpeg."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline and "ffmpeg" in cmdline and int(entry.name) != os.getpid():
            pids.append(int(entry.name))
    return pids


@pytest.fixture
def ready_clip(stored_clip: Callable[..., Clip]) -> Callable[..., Clip]:
    """A ready clip with a real stored original and the metadata a probe would have written."""
    from processing.media import duration_decimal, media_validate

    def make(path: Path, **kwargs: Any) -> Clip:
        clip = stored_clip(path, status=Clip.Status.READY, **kwargs)
        info = media_validate(path)
        clip.metadata = info
        clip.duration = duration_decimal(info["duration"])
        clip.resolution = f"{info['display_width']}x{info['display_height']}"
        clip.save(update_fields=["metadata", "duration", "resolution"])
        return clip

    return make
