"""A job's life through the runner: cancelling a running FFmpeg, re-claiming the job of a worker
that died, and never running one job twice at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from clips.models import Clip
from processing.engine import job_run
from processing.models import ProcessingJob
from processing.services import job_enqueue, jobs_requeue_stale
from tests.media import MediaFactory
from tests.processing.conftest import clip_settled, ffmpeg_pids, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_clamd")]


def test_it_stops_a_running_ffmpeg_within_two_seconds_of_a_cancel(
    worker: Any, api: APIClient, media: MediaFactory, ready_clip: Callable[..., Clip]
) -> None:
    clip = ready_clip(media.long(seconds=20))
    response = api.post(
        "/api/process/clip",
        {
            "clip_id": str(clip.pk),
            "operation": "transcode",
            "params": {"height": 240, "format": "webm"},
        },
        format="json",
    )
    job = ProcessingJob.objects.get(pk=response.json()["id"])
    marker = f"job-{job.pk}"
    pids = wait_for(lambda: ffmpeg_pids(marker), timeout=30, what="FFmpeg to start")

    cancelled_at = time.monotonic()
    response = api.post(f"/api/process/cancel/{job.pk}")
    # Exited (a zombie awaiting its reap has exited too) within two seconds of the request.
    wait_for(lambda: not any(_alive(pid) for pid in pids), timeout=2, what="FFmpeg to exit")
    stopped_after = time.monotonic() - cancelled_at

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert stopped_after < 2
    # The runner cleans up after the stopped FFmpeg: its temp folder goes, nothing is stored.
    tmp_dir = django_settings.PROCESSING_TMP_DIR / marker
    wait_for(lambda: not tmp_dir.exists(), timeout=10, what="the job's temp folder to go")
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert not default_storage.exists(f"clips/{clip.pk}/rendition_240p.webm")
    clip.refresh_from_db()
    assert "renditions" not in clip.metadata and clip.status == Clip.Status.READY


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_it_fails_the_clip_when_its_ingest_is_cancelled(
    worker: Any, api: APIClient, media: MediaFactory, stored_clip: Callable[..., Clip]
) -> None:
    clip = stored_clip(media.normal())
    # No worker picks up this job before the cancel: the broker is flushed right away.
    worker.flush_all()
    with transaction.atomic():
        from clips.ingest.pipeline import clip_ingest_start

        job = clip_ingest_start(clip=clip)
    worker.flush_all()

    response = api.post(f"/api/process/cancel/{job.pk}")

    assert response.status_code == 200
    clip = wait_for(clip_settled(clip))
    assert clip.status == Clip.Status.FAILED
    assert "cancelled" in clip.error_message
    assert clip.file_path  # a cancel keeps the original: the clip can be retried


def test_it_reclaims_the_job_of_a_dead_worker_and_completes_it_once(
    worker: Any, media: MediaFactory, stored_clip: Callable[..., Clip]
) -> None:
    clip = stored_clip(media.normal())
    clip.metadata = {"ingest_run": "run-1"}
    clip.save(update_fields=["metadata"])
    long_ago = timezone.now() - timedelta(minutes=10)
    job = ProcessingJob.objects.create(
        owner=clip.owner,
        clip=clip,
        project=clip.project,
        job_type="probe",
        status="running",
        input_params={"pipeline": "ingest", "run": "run-1"},
        started_at=long_ago,
        heartbeat_at=long_ago,
        attempts=1,
        progress=40,
    )

    # The sweep and a broker redelivery both send it: only one run may happen.
    assert jobs_requeue_stale() == 1
    jobs_requeue_stale()
    clip = wait_for(clip_settled(clip), what="the re-claimed pipeline")

    job.refresh_from_db()
    assert job.status == "completed" and job.attempts == 2
    assert clip.status == Clip.Status.READY, clip.error_message
    counts = {
        job_type: ProcessingJob.objects.filter(clip=clip, job_type=job_type).count()
        for job_type in ("probe", "thumbnail", "transcode")
    }
    assert counts == {"probe": 1, "thumbnail": 1, "transcode": 1}


def test_it_never_claims_a_job_running_on_a_live_worker_or_a_finished_one(
    project: Any, media: MediaFactory, stored_clip: Callable[..., Clip]
) -> None:
    clip = stored_clip(media.normal())
    live = ProcessingJob.objects.create(
        owner=clip.owner,
        clip=clip,
        job_type="probe",
        status="running",
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        attempts=1,
    )
    done = ProcessingJob.objects.create(
        owner=clip.owner,
        clip=clip,
        job_type="probe",
        status="completed",
        completed_at=timezone.now(),
        attempts=1,
        output_data={"kept": True},
    )

    assert job_run(live.pk) is None
    assert job_run(done.pk) is None
    assert jobs_requeue_stale() == 0

    live.refresh_from_db()
    done.refresh_from_db()
    assert (live.status, live.attempts) == ("running", 1)
    assert (done.status, done.output_data) == ("completed", {"kept": True})


def test_it_shows_a_plain_message_and_keeps_ffprobes_detail_for_staff(
    api: APIClient, media: MediaFactory, stored_clip: Callable[..., Clip]
) -> None:
    clip = stored_clip(media.text_as_mp4(), status=Clip.Status.READY)
    with transaction.atomic():
        job = job_enqueue(owner=clip.owner, job_type="thumbnail", clip=clip)

    job = job_run(job.pk)

    assert job is not None and job.status == "failed"
    assert "cannot be read as a video" in job.error_message
    assert "ffprobe" in job.developer_error
    body = api.get(f"/api/process/status/{job.pk}").json()
    assert body["error_message"] == job.error_message
    assert "developer_error" not in body
