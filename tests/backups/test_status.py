"""The newest backup's age and the newest restore check, as /healthz, /metrics and the admin
show them, and the schedule that keeps both fresh."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from backups.models import BackupRun
from config import scheduler

pytestmark = pytest.mark.django_db


def run(kind: str, status: str, *, hours_ago: float, **extra: Any) -> BackupRun:
    finished = timezone.now() - timedelta(hours=hours_ago)
    return BackupRun.objects.create(
        kind=kind,
        status=status,
        started_at=finished - timedelta(minutes=2),
        finished_at=finished,
        **extra,
    )


@pytest.fixture(autouse=True)
def _backups_on(settings: Any) -> None:
    settings.BACKUP_ENABLED = True


def healthz() -> Any:
    response = Client().get("/healthz")
    assert response.status_code == 200  # backups never take the web out of rotation
    return response.json()["backup"]


def test_healthz_says_when_there_is_no_backup_yet() -> None:
    assert healthz() == {
        "status": "missing",
        "last_backup_at": None,
        "age_seconds": None,
        "last_backup_key": None,
        "last_verification_at": None,
        "last_verification": None,
    }


def test_healthz_shows_the_newest_backup_s_age_and_its_verification() -> None:
    run("backup", "succeeded", hours_ago=30, storage_key="backups/old.dump")
    newest = run("backup", "succeeded", hours_ago=2, storage_key="backups/new.dump")
    run("backup", "failed", hours_ago=1, error="pg_dump failed")
    check = run("verify", "succeeded", hours_ago=0.5, storage_key="backups/new.dump")

    backup = healthz()

    assert backup["status"] == "ok"
    assert backup["last_backup_key"] == "backups/new.dump"
    assert backup["last_backup_at"] == newest.finished_at.isoformat()
    assert 2 * 3600 - 5 <= backup["age_seconds"] <= 2 * 3600 + 5
    assert backup["last_verification"] == "succeeded"
    assert backup["last_verification_at"] == check.finished_at.isoformat()


def test_healthz_calls_an_old_backup_stale_and_a_failed_check_unverified(settings: Any) -> None:
    settings.BACKUP_MAX_AGE_HOURS = 26
    run("backup", "succeeded", hours_ago=27)
    assert healthz()["status"] == "stale"

    run("backup", "succeeded", hours_ago=1)
    run("verify", "failed", hours_ago=0.5, error="rows differ")
    assert healthz()["status"] == "unverified"


def test_metrics_expose_backup_age_and_verification(settings: Any) -> None:
    settings.METRICS_TOKEN = "metrics-token-for-tests"
    finished = run("backup", "succeeded", hours_ago=3, size_bytes=123456).finished_at
    run("verify", "failed", hours_ago=1)

    text = (
        Client()
        .get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-for-tests")
        .content.decode()
    )
    metrics = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line.startswith("clipseq_backup")
    }

    assert metrics["clipseq_backup_last_success_timestamp_seconds"] == pytest.approx(
        finished.timestamp()
    )
    assert metrics["clipseq_backup_age_seconds"] == pytest.approx(3 * 3600, abs=5)
    assert metrics["clipseq_backup_last_size_bytes"] == 123456
    assert metrics["clipseq_backup_verification_ok"] == 0
    assert metrics["clipseq_backup_verification_timestamp_seconds"] > 0


def test_the_admin_lists_backup_runs_with_the_current_state(staff: Any) -> None:
    run("backup", "succeeded", hours_ago=1, storage_key="backups/clipseq-a.dump", size_bytes=2048)
    run("verify", "failed", hours_ago=0.2, storage_key="backups/clipseq-a.dump")
    client = Client()
    client.force_login(staff)

    page = client.get("/admin/backups/backuprun/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "backups/clipseq-a.dump" in html
    assert "2 KB" in html
    assert "Backups: unverified" in html


def test_the_scheduler_backs_up_nightly_and_checks_the_backup_after() -> None:
    jobs = {job.id: job for job in scheduler.build_scheduler(blocking=False).get_jobs()}

    assert str(jobs["backup_database"].trigger) == "cron[hour='1', minute='30']"
    assert str(jobs["verify_backup"].trigger) == "cron[hour='4', minute='30']"
    assert jobs["backup_database"].args[0].queue_name == "maintenance"
