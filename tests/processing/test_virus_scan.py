"""Virus scanning with a real clamd (started by the clamd_socket fixture with an EICAR-only
signature database): infected files are deleted, an unreachable scanner makes the clip wait,
a file over clamd's stream limit is marked unscanned, never clean."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import transaction

from accounts.models import User
from clips.ingest.pipeline import clip_ingest_start
from clips.models import Clip
from processing import scan
from processing.models import ProcessingJob
from tests.media import EICAR, MediaFactory
from tests.processing.conftest import CLAMD_STREAM_MAX, clip_settled, wait_for


def start(clip: Clip) -> None:
    with transaction.atomic():
        clip_ingest_start(clip=clip)


def test_it_finds_eicar_and_passes_clean_bytes(clamd: str, tmp_path: Path) -> None:
    infected = tmp_path / "eicar.bin"
    infected.write_bytes(b"\0" * 100_000 + EICAR.encode() + b"\0" * 10)

    assert scan.clamd_ping()
    assert scan.scan_file(infected).infected
    assert scan.scan_stream([b"just some harmless bytes"]).verdict == "clean"


def test_it_reports_a_stream_over_clamds_limit_as_too_large(clamd: str) -> None:
    blocks = [os.urandom(256 * 1024)] * (CLAMD_STREAM_MAX // (256 * 1024) + 2)

    assert scan.scan_stream(blocks).verdict == "too_large"


def test_it_raises_when_clamd_is_unreachable(settings: Any, tmp_path: Path) -> None:
    settings.CLAMD_SOCKET = str(tmp_path / "nobody-listens.sock")

    assert not scan.clamd_ping()
    with pytest.raises(scan.ScannerUnavailable):
        scan.scan_stream([b"bytes"])


@pytest.mark.parametrize(
    "reply", ["", "stream: Can't allocate memory ERROR", "UNKNOWN COMMAND", "stream: O"]
)
def test_it_never_reads_an_unclear_answer_as_clean(reply: str) -> None:
    with pytest.raises(scan.ScannerUnavailable):
        scan.parse_reply(reply)


@pytest.mark.django_db(transaction=True)
def test_it_deletes_an_infected_upload_and_tells_the_user(
    worker: Any,
    clamd: str,
    media: MediaFactory,
    stored_clip: Callable[..., Clip],
    owner: Any,
) -> None:
    clip = stored_clip(media.eicar())

    start(clip)
    job = wait_for(lambda: ProcessingJob.objects.filter(clip=clip, status="failed").first())
    clip.refresh_from_db()

    assert clip.status == Clip.Status.FAILED
    assert clip.metadata["error_code"] == "VIRUS_DETECTED"
    assert clip.metadata["scan"] == "infected"
    assert "malware (Eicar-Test-Signature" in clip.error_message
    assert clip.file_path == ""
    # The file goes once the clip row is committed as failed (never before: a rollback would
    # leave a clip without its file).
    wait_for(
        lambda: not default_storage.exists(f"clips/{clip.pk}/original"),
        timeout=30,
        what="the infected original to be deleted",
    )
    assert User.objects.get(pk=owner.pk).storage_used == 0
    assert job.job_type == "scan"
    # Nothing after the scan ever saw the file.
    assert not ProcessingJob.objects.filter(clip=clip).exclude(job_type="scan").exists()


@pytest.mark.django_db(transaction=True)
def test_it_scans_a_clean_clip_before_processing_it(
    worker: Any, clamd: str, media: MediaFactory, stored_clip: Callable[..., Clip]
) -> None:
    clip = stored_clip(media.normal())

    start(clip)
    clip = wait_for(clip_settled(clip))

    assert clip.status == Clip.Status.READY, clip.error_message
    assert clip.metadata["scan"] == "clean"
    scan_job = ProcessingJob.objects.get(clip=clip, job_type="scan")
    probe_job = ProcessingJob.objects.get(clip=clip, job_type="probe")
    assert scan_job.completed_at <= probe_job.started_at


@pytest.mark.django_db(transaction=True)
def test_it_marks_a_file_over_the_scan_limit_unscanned_not_clean(
    worker: Any, clamd: str, media: MediaFactory, stored_clip: Callable[..., Clip]
) -> None:
    path = media.long(seconds=20)
    assert path.stat().st_size > CLAMD_STREAM_MAX
    clip = stored_clip(path)

    start(clip)
    clip = wait_for(clip_settled(clip))

    assert clip.status == Clip.Status.READY, clip.error_message
    assert clip.metadata["scan"] == "unscanned (too large)"


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_clip_waiting_while_clamd_is_down_and_scans_it_later(
    worker: Any,
    clamd_socket: str,
    settings: Any,
    media: MediaFactory,
    stored_clip: Callable[..., Clip],
    tmp_path: Path,
) -> None:
    settings.CLAMD_SOCKET = str(tmp_path / "clamd-is-down.sock")
    settings.CLAMD_RETRY_SECONDS = 1
    clip = stored_clip(media.normal())

    start(clip)

    def waiting() -> ProcessingJob | None:
        clip.refresh_from_db()
        job = ProcessingJob.objects.filter(clip=clip, job_type="scan").first()
        if clip.metadata.get("scan") == "pending" and job and job.status == "pending":
            return job
        return None

    job = wait_for(waiting, timeout=30, what="the scan to wait for clamd")
    assert clip.status == Clip.Status.PROCESSING
    assert "virus scanner is not reachable" in job.error_message
    assert not ProcessingJob.objects.filter(clip=clip, job_type="probe").exists()

    # clamd comes back: the retried scan passes and the clip goes on to ready.
    settings.CLAMD_SOCKET = clamd_socket
    clip = wait_for(clip_settled(clip), timeout=60)

    assert clip.status == Clip.Status.READY, clip.error_message
    assert clip.metadata["scan"] == "clean"
    job.refresh_from_db()
    assert job.status == "completed" and job.attempts >= 2
    assert ProcessingJob.objects.filter(clip=clip, job_type="scan").count() == 1
