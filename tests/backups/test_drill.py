"""Backups proven on PostgreSQL: back up, lose a table, restore, and every row is back; the
nightly check restores into a scratch database and notices a backup that lacks rows.

These need PostgreSQL and its client programs (CI runs with DATABASE_URL): under CI=true a
missing PostgreSQL fails them; on a developer's embedded SQLite setup they are skipped."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection

from backups.models import BackupRun
from backups.services import backup_create, backup_verify, backups_stored
from clips.models import Clip
from projects.models import Project
from tests.conftest import in_ci
from tests.projects.factories import make_clip, make_project
from timeline.models import TimelineSegment

pytestmark = pytest.mark.django_db(transaction=True)

TABLES = ["users", "projects", "clips", "timeline_segments"]


@pytest.fixture(autouse=True)
def postgresql(settings: Any) -> None:
    if "postgresql" in str(settings.DATABASES["default"]["ENGINE"]):
        return
    message = "Backups are pg_dump/pg_restore: these specs need DATABASE_URL=postgres://…"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def timeline(owner: Any) -> Project:
    project = make_project(owner, name="Holiday cut")
    clip = make_clip(project, "beach.mp4", duration="30.000")
    for index in range(3):
        TimelineSegment.objects.create(
            project=project,
            clip=clip,
            name=f"Shot {index}",
            start_time=Decimal(index * 5),
            source_start=Decimal(index),
            duration=Decimal("4.5"),
        )
    return project


def rows(table: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY 1")  # noqa: S608
        return cursor.fetchall()


def database_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def test_backup_then_a_dropped_table_then_restore_gives_identical_rows(timeline: Project) -> None:
    before = {table: rows(table) for table in TABLES}
    assert len(before["timeline_segments"]) == 3

    out = StringIO()
    call_command("backup", stdout=out)
    [backup] = backups_stored()
    with default_storage.open(backup.manifest_key, "rb") as file:
        manifest = json.loads(file.read())
    assert manifest["table_rows"]["timeline_segments"] == 3
    assert manifest["table_rows"]["users"] == 1
    assert backup.key in out.getvalue()

    # The disaster: a table gone, and rows of another changed after the backup.
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE timeline_segments CASCADE")
    Project.objects.filter(pk=timeline.pk).update(name="Overwritten")
    Clip.objects.update(name="renamed.mp4")

    call_command("restore", "latest", "--yes", stdout=StringIO())

    assert {table: rows(table) for table in TABLES} == before
    assert Project.objects.get(pk=timeline.pk).name == "Holiday cut"
    restore = BackupRun.objects.get(kind=BackupRun.Kind.RESTORE)
    assert restore.storage_key == backup.key
    assert restore.table_rows["timeline_segments"] == 3


def test_restore_refuses_to_run_without_confirmation(timeline: Project) -> None:
    from django.core.management.base import CommandError

    backup_create()
    TimelineSegment.objects.all().delete()

    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", "latest")

    assert TimelineSegment.objects.count() == 0


def test_the_restore_check_finds_every_row_in_a_scratch_database(
    settings: Any, timeline: Project
) -> None:
    backup = backup_create()
    # Written after the backup: the check compares with the backup, not with today's rows.
    TimelineSegment.objects.filter(project=timeline).delete()

    run = backup_verify()

    assert run.status == BackupRun.Status.SUCCEEDED, run.error
    assert run.storage_key == backup.storage_key
    assert run.table_rows == backup.table_rows
    assert run.table_rows["timeline_segments"] == 3
    scratch = f"{settings.DATABASES['default']['NAME']}_restore_check"
    assert not database_exists(scratch)


def test_the_restore_check_fails_when_a_backup_lacks_rows(timeline: Project) -> None:
    backup_create()
    [stored] = backups_stored()
    with default_storage.open(stored.manifest_key, "rb") as file:
        manifest = json.loads(file.read())
    # The manifest promises one segment more than the dump holds.
    manifest["table_rows"]["timeline_segments"] += 1
    default_storage.delete(stored.manifest_key)
    default_storage.save(stored.manifest_key, ContentFile(json.dumps(manifest).encode()))

    run = backup_verify()

    assert run.status == BackupRun.Status.FAILED
    assert "timeline_segments" in run.error
    assert '"backup": 4, "restored": 3' in run.error


def test_the_restore_check_fails_on_a_damaged_dump(timeline: Project) -> None:
    backup_create()
    [stored] = backups_stored()
    with default_storage.open(stored.key, "rb") as file:
        damaged = bytearray(file.read())
    damaged[len(damaged) // 2] ^= 0xFF
    default_storage.delete(stored.key)
    default_storage.save(stored.key, ContentFile(bytes(damaged)))

    run = backup_verify()

    assert run.status == BackupRun.Status.FAILED
    assert "SHA-256" in run.error


def test_only_the_newest_backups_are_kept(settings: Any, timeline: Project) -> None:
    settings.BACKUP_KEEP = 2
    keys = [backup_create().storage_key for _ in range(3)]

    stored = backups_stored()

    assert [b.key for b in stored] == [keys[2], keys[1]]
    assert not default_storage.exists(keys[0])
    assert not default_storage.exists(keys[0].replace(".dump", ".json"))
    assert all(default_storage.exists(b.manifest_key) for b in stored)
