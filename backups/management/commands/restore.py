"""`manage.py restore [KEY|latest] --yes`: replace the database's tables with a backup's.

Stop the web, worker and scheduler processes first. The restore runs in one transaction: if it
fails, the database is as it was."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backups.services import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore the PostgreSQL database from a backup in the object store."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "backup",
            nargs="?",
            default="latest",
            help="The backup's key or file name (`manage.py backup --list`), or latest.",
        )
        parser.add_argument(
            "--yes", action="store_true", help="Confirm: the database's tables are replaced."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["yes"]:
            raise CommandError(
                "This replaces the database's tables with the backup's. Stop the app, then run "
                "again with --yes."
            )
        try:
            run = backup_restore(key=options["backup"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Restored {run.storage_key}: {len(run.table_rows)} tables, "
            f"{sum(run.table_rows.values())} rows."
        )
