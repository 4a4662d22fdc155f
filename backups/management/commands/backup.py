"""`manage.py backup`: dump the database to the object store now (as the nightly job does).

`--verify` restores the newest backup into a scratch database and compares its rows instead;
`--list` shows the stored backups."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backups.models import BackupRun
from backups.services import BackupError, backup_create, backup_verify, backups_stored


class Command(BaseCommand):
    help = "Back up the PostgreSQL database to the object store (or verify or list backups)."

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--verify",
            action="store_true",
            help="Restore the newest backup into a scratch database and compare row counts.",
        )
        action.add_argument("--list", action="store_true", help="List the stored backups.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for backup in backups_stored():
                self.stdout.write(f"{backup.key}\t{backup.created_at:%Y-%m-%d %H:%M:%S} UTC")
            return
        if options["verify"]:
            run = backup_verify()
            if run.status != BackupRun.Status.SUCCEEDED:
                raise CommandError(f"Verification failed: {run.error}")
            tables = run.table_rows
            self.stdout.write(
                f"{run.storage_key} restores with the same rows: {len(tables)} tables, "
                f"{sum(tables.values())} rows."
            )
            return
        try:
            run = backup_create()
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{run.storage_key}: {run.size_bytes} bytes, {len(run.table_rows)} tables, "
            f"{sum(run.table_rows.values())} rows."
        )
