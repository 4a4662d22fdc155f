"""Scheduled maintenance: each periodic job's effect, the usage report and the schedule."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from clips.models import Clip, UploadSession
from clips.services import quota
from config import maintenance, scheduler
from processing.files import s3_target
from processing.models import ProcessingJob
from tests.conftest import in_ci
from tests.production.conftest import make_owned_objects

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch: Any) -> list[str]:
    """Jobs the sweeps send to the broker (recorded, not delivered)."""
    calls: list[str] = []
    monkeypatch.setattr("processing.services.job_send", lambda job: calls.append(str(job.pk)))
    return calls


def test_expired_uploads_are_expired_and_release_their_reservation(owner: Any) -> None:
    owned = make_owned_objects(owner)
    UploadSession.objects.filter(pk=owned.upload.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    type(owner).objects.filter(pk=owner.pk).update(storage_reserved=owned.upload.size)

    scheduler.expire_uploads.fn()

    owner.refresh_from_db()
    upload = UploadSession.objects.filter(pk=owned.upload.pk).first()
    assert upload is None or upload.status == UploadSession.Status.EXPIRED
    assert not Clip.objects.filter(pk=owned.upload_clip.pk, status="uploading").exists()
    assert owner.storage_reserved == 0


def test_jobs_stuck_running_on_a_dead_worker_are_sent_again(owner: Any, sent: list[str]) -> None:
    owned = make_owned_objects(owner)
    ProcessingJob.objects.filter(pk=owned.job.pk).update(
        status=ProcessingJob.Status.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    alive = ProcessingJob.objects.create(
        owner=owner,
        job_type=ProcessingJob.JobType.THUMBNAIL,
        status=ProcessingJob.Status.RUNNING,
        heartbeat_at=timezone.now(),
    )

    result = maintenance.jobs_recover()

    assert sent == [str(owned.job.pk)]
    assert str(alive.pk) not in sent
    assert result["requeued_running"] == 1


def test_pending_jobs_whose_message_was_lost_are_sent_again_once(
    owner: Any, sent: list[str], monkeypatch: Any
) -> None:
    monkeypatch.setattr(maintenance, "_queue_depths", lambda: {"media": 0, "export": 0})
    owned = make_owned_objects(owner)
    ProcessingJob.objects.filter(pk=owned.job.pk).update(
        created_at=timezone.now() - timedelta(minutes=30)
    )
    fresh = ProcessingJob.objects.create(owner=owner, job_type=ProcessingJob.JobType.PROBE)
    cache.delete(f"maintenance:resent:{owned.job.pk}")

    first = maintenance.jobs_recover()
    second = maintenance.jobs_recover()

    assert sent == [str(owned.job.pk)]
    assert str(fresh.pk) not in sent
    assert (first["resent_pending"], second["resent_pending"]) == (1, 0)


def test_pending_jobs_behind_a_busy_queue_are_left_alone(
    owner: Any, sent: list[str], monkeypatch: Any
) -> None:
    monkeypatch.setattr(maintenance, "_queue_depths", lambda: {"media": 7, "export": 0})
    owned = make_owned_objects(owner)
    ProcessingJob.objects.filter(pk=owned.job.pk).update(
        created_at=timezone.now() - timedelta(minutes=30)
    )

    maintenance.jobs_recover()

    assert sent == []


def _age(path: Path, days: float) -> None:
    stamp = time.time() - days * 86400
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(item, (stamp, stamp))


def test_orphan_temp_files_older_than_a_day_are_removed(settings: Any, owner: Any) -> None:
    owned = make_owned_objects(owner)
    ProcessingJob.objects.filter(pk=owned.job.pk).update(status=ProcessingJob.Status.RUNNING)
    root = Path(settings.PROCESSING_TMP_DIR)
    orphan = root / f"job-{uuid.uuid4()}"
    running = root / f"job-{owned.job.pk}"
    recent = root / f"job-{uuid.uuid4()}"
    stray = root / "ffmpeg-leftover.mp4"
    for folder in (orphan, running, recent):
        folder.mkdir(parents=True)
        (folder / "part.mp4").write_bytes(b"x" * 100)
    stray.write_bytes(b"y")
    for path in (orphan, running, stray):
        _age(path, 2)

    scheduler.remove_tmp_orphans.fn()

    assert not orphan.exists()
    assert not stray.exists()
    assert running.exists()
    assert recent.exists()


def test_stored_files_without_a_row_are_removed(owner: Any) -> None:
    owned = make_owned_objects(owner)
    kept_key = default_storage.save(f"clips/{owned.clip.pk}/original", ContentFile(b"keep"))
    orphan_clip = default_storage.save(f"clips/{uuid.uuid4()}/original", ContentFile(b"gone"))
    orphan_export = default_storage.save(f"exports/{uuid.uuid4()}/x.mp4", ContentFile(b"gone"))
    kept_export = default_storage.save(f"exports/{owned.project.pk}/y.mp4", ContentFile(b"keep"))
    try:
        # Files younger than an hour may belong to a transaction not yet committed: kept.
        maintenance.storage_orphans_remove()
        assert default_storage.exists(orphan_clip)
        assert default_storage.exists(orphan_export)

        removed = maintenance.storage_orphans_remove(older_than=timedelta(0))

        assert removed >= 2
        assert not default_storage.exists(orphan_clip)
        assert not default_storage.exists(orphan_export)
        assert default_storage.exists(kept_key)
        assert default_storage.exists(kept_export)
    finally:
        for key in (kept_key, orphan_clip, orphan_export, kept_export):
            default_storage.delete(key)


@pytest.mark.skipif(
    not settings.USE_S3 and not in_ci(),
    reason="multipart uploads exist on S3 only; runs with AWS_STORAGE_BUCKET_NAME (always in CI)",
)
def test_it_aborts_s3_multipart_uploads_that_no_upload_session_owns(owner: Any) -> None:
    assert settings.USE_S3, "CI must configure S3: the sweep is S3's"
    owned = make_owned_objects(owner)
    client = default_storage.connection.meta.client
    bucket = default_storage.bucket_name

    def start(key: str) -> str:
        name = s3_target().key(key)  # type: ignore[union-attr]
        upload_id = client.create_multipart_upload(Bucket=bucket, Key=name)["UploadId"]
        client.upload_part(
            Bucket=bucket, Key=name, UploadId=upload_id, PartNumber=1, Body=b"x" * 1024
        )
        return upload_id

    def open_uploads() -> dict[str, str]:
        """Upload id to key, in this test's own folder of the shared bucket (tests/conftest.py)."""
        pages = client.get_paginator("list_multipart_uploads").paginate(
            Bucket=bucket, Prefix=f"{default_storage.location}/"
        )
        return {u["UploadId"]: u["Key"] for page in pages for u in page.get("Uploads", [])}

    orphan = start(f"clips/{uuid.uuid4()}/original")
    active = start(owned.upload.storage_key)
    UploadSession.objects.filter(pk=owned.upload.pk).update(multipart_upload_id=active)
    try:
        # Younger than an hour: its session may not have committed yet.
        maintenance.storage_orphans_remove()
        assert open_uploads().keys() == {orphan, active}

        time.sleep(1.1)  # S3 reports when an upload began in whole seconds
        maintenance.storage_orphans_remove(older_than=timedelta(0))

        assert open_uploads().keys() == {active}
    finally:
        for upload_id, key in open_uploads().items():
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


def test_staged_upload_bytes_without_a_clip_are_removed(owner: Any) -> None:
    from clips.storage import upload_staging_key

    owned = make_owned_objects(owner)
    kept = default_storage.save(upload_staging_key(owned.clip.pk), ContentFile(b"keep"))
    orphan = default_storage.save(upload_staging_key(uuid.uuid4()), ContentFile(b"gone"))
    try:
        maintenance.storage_orphans_remove(older_than=timedelta(0))

        assert not default_storage.exists(orphan)
        assert default_storage.exists(kept)
    finally:
        for key in (kept, orphan):
            default_storage.delete(key)


def test_storage_used_is_reconciled_with_the_users_clips(owner: Any, other_user: Any) -> None:
    owned = make_owned_objects(owner)  # one ready clip of 1000 bytes, one uploading
    Clip.objects.create(
        project=owned.project,
        owner=owner,
        name="failed",
        status=Clip.Status.FAILED,
        file_size=500,
        duration=Decimal("1"),
    )
    type(owner).objects.filter(pk=owner.pk).update(storage_used=999_999)
    type(owner).objects.filter(pk=other_user.pk).update(storage_used=0)

    scheduler.reconcile_storage_usage.fn()

    owner.refresh_from_db()
    other_user.refresh_from_db()
    assert owner.storage_used == 1500
    assert other_user.storage_used == 0
    assert quota.storage_usage_reconcile() == 0  # nothing left to correct


def test_the_usage_report_prints_a_row_per_user(owner: Any, other_user: Any) -> None:
    owned = make_owned_objects(owner)
    now = timezone.now()
    ProcessingJob.objects.create(
        owner=owner,
        project=owned.project,
        job_type=ProcessingJob.JobType.EXPORT,
        status=ProcessingJob.Status.COMPLETED,
        started_at=now - timedelta(minutes=3),
        completed_at=now,
        output_data={"size": 2 * 1024**2},
    )
    type(owner).objects.filter(pk=owner.pk).update(storage_used=3 * 1024**2)
    out = StringIO()

    call_command("usage_report", stdout=out)

    lines = {line.split()[0]: line.split() for line in out.getvalue().splitlines()[2:-1]}
    row = lines["owner@example.com"]
    assert row[1:3] == ["3.0", "MiB"]
    assert row[5:7] == ["2", "1"]  # clips (ready + uploading), exports
    assert row[7:9] == ["2.0", "MiB"]
    assert float(row[9]) == pytest.approx(3.0, abs=0.1)
    assert "other@example.com" in lines


def test_the_schedule_sends_each_job_once_per_slot(monkeypatch: Any) -> None:
    sends: list[str] = []
    monkeypatch.setattr(scheduler.recover_jobs, "send", lambda: sends.append("sent"))
    cache.delete_many([f"scheduler:recover_jobs:{int(time.time() // 55) + i}" for i in (0, 1)])

    first = scheduler.send_once(scheduler.recover_jobs)
    second = scheduler.send_once(scheduler.recover_jobs)  # a second scheduler, same slot

    assert (first, second) == (True, False)
    assert sends == ["sent"]


def test_the_scheduler_keeps_every_maintenance_job() -> None:
    jobs = {job.id: job for job in scheduler.build_scheduler(blocking=False).get_jobs()}

    assert set(jobs) == {
        "expire_uploads",
        "recover_jobs",
        "remove_tmp_orphans",
        "remove_storage_orphans",
        "reconcile_storage_usage",
        "backup_database",
        "verify_backup",
        "prune_export_chunks",
    }
    assert str(jobs["prune_export_chunks"].trigger) == "cron[hour='2', minute='45']"
    assert str(jobs["reconcile_storage_usage"].trigger) == "cron[hour='3', minute='0']"
    for job in jobs.values():
        assert job.args[0].queue_name == "maintenance"
