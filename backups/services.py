"""PostgreSQL backups in the object store, proven by restoring them.

- `backup_create`: `pg_dump --format=custom` of the app's database, taken in a snapshot that
  also counts every table's rows, stored as `backups/<stamp>.dump` beside `backups/<stamp>.json`
  (the manifest: row counts, size, SHA-256). Backups beyond BACKUP_KEEP are deleted.
- `backup_verify`: restores the newest backup into a scratch database (BACKUP_VERIFY_DATABASE),
  compares each table's rows with the manifest, then drops the scratch database.
- `backup_restore`: restores a backup into the app's database (stop the app first).

Every run ends as a BackupRun row, which the admin, /healthz and /metrics show. The scheduler
runs the first two daily (config/scheduler.py); `manage.py backup` and `manage.py restore` run
them by hand. Client binaries: PG_DUMP_BINARY and PG_RESTORE_BINARY, of the server's major
version (Debian's postgresql-client).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connections
from django.utils import timezone
from psycopg import sql

from backups.models import BackupRun

logger = logging.getLogger(__name__)

DUMP_SUFFIX = ".dump"
MANIFEST_SUFFIX = ".json"
_NAME = re.compile(r"^clipseq-(?P<stamp>\d{8}T\d{6}\d{6}Z)\.dump$")
_BLOCK = 1024 * 1024


class BackupError(Exception):
    """A backup, verification or restore could not be done; the message says why."""


@dataclass(frozen=True)
class StoredBackup:
    key: str
    created_at: datetime

    @property
    def manifest_key(self) -> str:
        return self.key.removesuffix(DUMP_SUFFIX) + MANIFEST_SUFFIX


# --- The database and its client programs --------------------------------------------------


def _database() -> dict[str, Any]:
    database = settings.DATABASES["default"]
    if "postgresql" not in str(database["ENGINE"]):
        raise BackupError(
            "Backups need PostgreSQL (DATABASE_URL); the embedded SQLite database is a file: "
            "copy var/db.sqlite3 while the app is stopped."
        )
    return database


def _connect(dbname: str | None = None, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    database = _database()
    options = database.get("OPTIONS", {})
    params = {
        "dbname": dbname or database["NAME"],
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        "host": database.get("HOST") or None,
        "port": str(database["PORT"]) if database.get("PORT") else None,
        "sslmode": options.get("sslmode"),
        "connect_timeout": options.get("connect_timeout", 10),
    }
    return psycopg.connect(
        autocommit=autocommit, **{key: value for key, value in params.items() if value}
    )


def _client_env(dbname: str) -> dict[str, str]:
    """libpq's variables for pg_dump/pg_restore: the password never appears in `ps`."""
    database = _database()
    env = {**os.environ, "PGDATABASE": dbname, "PGCONNECT_TIMEOUT": "10"}
    for variable, value in (
        ("PGHOST", database.get("HOST")),
        ("PGPORT", database.get("PORT")),
        ("PGUSER", database.get("USER")),
        ("PGPASSWORD", database.get("PASSWORD")),
        ("PGSSLMODE", database.get("OPTIONS", {}).get("sslmode")),
    ):
        if value:
            env[variable] = str(value)
    return env


def _run_client(args: list[str], *, dbname: str) -> None:
    binary = shutil.which(args[0])
    if binary is None:
        raise BackupError(
            f"{args[0]} is not installed; install PostgreSQL's client programs "
            "(apt-get install postgresql-client) of the server's major version."
        )
    try:
        completed = subprocess.run(
            [binary, *args[1:]],
            env=_client_env(dbname),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=settings.BACKUP_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BackupError(
            f"{args[0]} took longer than {settings.BACKUP_TIMEOUT_SECONDS} s."
        ) from exc
    if completed.returncode != 0:
        stderr = completed.stderr.decode(errors="replace").strip()[-2000:]
        raise BackupError(f"{args[0]} failed (exit {completed.returncode}): {stderr}")


def _table_rows(connection: psycopg.Connection[Any]) -> dict[str, int]:
    """Rows of every ordinary table in the connection's schema, by table name."""
    names = [
        row[0]
        for row in connection.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() ORDER BY c.relname"
        )
    ]
    rows = {}
    for name in names:
        count = connection.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))
        ).fetchone()
        rows[name] = int(count[0]) if count else 0
    return rows


@contextmanager
def _work_dir() -> Iterator[Path]:
    root = Path(settings.PROCESSING_TMP_DIR)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="backup-", dir=root) as directory:
        yield Path(directory)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _record(kind: str, started_at: datetime, **fields: Any) -> BackupRun:
    return BackupRun.objects.create(
        kind=kind, started_at=started_at, finished_at=timezone.now(), **fields
    )


# --- Stored backups -----------------------------------------------------------------------


def backups_stored() -> list[StoredBackup]:
    """The backups in the default storage, newest first."""
    prefix = settings.BACKUP_PREFIX
    try:
        _, files = default_storage.listdir(prefix)
    except FileNotFoundError:
        return []
    found = []
    for name in files:
        match = _NAME.match(name)
        if match:
            created = datetime.strptime(match["stamp"], "%Y%m%dT%H%M%S%fZ")
            found.append(StoredBackup(f"{prefix}/{name}", created.replace(tzinfo=UTC)))
    return sorted(found, key=lambda backup: backup.key, reverse=True)


def _stored(key: str | None) -> StoredBackup:
    backups = backups_stored()
    if not backups:
        raise BackupError(f"There is no backup under {settings.BACKUP_PREFIX}/ yet.")
    if key is None or key == "latest":
        return backups[0]
    for backup in backups:
        if key in (backup.key, backup.key.rsplit("/", 1)[-1]):
            return backup
    raise BackupError(f"There is no backup {key!r}; `manage.py backup --list` lists them.")


def _download(backup: StoredBackup, directory: Path) -> tuple[Path, dict[str, Any]]:
    """The dump as a local file, checked against its manifest's SHA-256; and the manifest."""
    try:
        with default_storage.open(backup.manifest_key, "rb") as file:
            manifest = json.loads(file.read())
    except (FileNotFoundError, ValueError) as exc:
        raise BackupError(f"The manifest of {backup.key} is missing or unreadable.") from exc
    path = directory / "backup.dump"
    with default_storage.open(backup.key, "rb") as source, path.open("wb") as target:
        shutil.copyfileobj(source, target, _BLOCK)
    if _sha256(path) != manifest.get("sha256"):
        raise BackupError(f"{backup.key} does not match the SHA-256 in its manifest.")
    return path, manifest


def _retention_apply() -> int:
    """Delete the backups beyond the newest BACKUP_KEEP (dump and manifest)."""
    removed = 0
    for backup in backups_stored()[max(1, settings.BACKUP_KEEP) :]:
        default_storage.delete(backup.key)
        default_storage.delete(backup.manifest_key)
        removed += 1
    return removed


# --- Backup, verify, restore --------------------------------------------------------------


def backup_create() -> BackupRun:
    """Dump the database to the object store and keep the newest BACKUP_KEEP backups."""
    started_at = timezone.now()
    key = f"{settings.BACKUP_PREFIX}/clipseq-{started_at:%Y%m%dT%H%M%S%fZ}{DUMP_SUFFIX}"
    try:
        dbname = str(_database()["NAME"])
        with _work_dir() as directory:
            path = directory / "backup.dump"
            # pg_dump reads the snapshot this transaction exported, so the counted rows are
            # exactly the dumped rows, whatever is written meanwhile.
            with _connect() as connection:
                connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                connection.read_only = True
                exported = connection.execute("SELECT pg_export_snapshot()").fetchone()
                assert exported is not None
                table_rows = _table_rows(connection)
                _run_client(
                    [
                        settings.PG_DUMP_BINARY,
                        "--format=custom",
                        "--no-owner",
                        "--no-privileges",
                        f"--snapshot={exported[0]}",
                        f"--file={path}",
                    ],
                    dbname=dbname,
                )
                connection.rollback()
            size = path.stat().st_size
            manifest = {
                "created_at": started_at.isoformat(),
                "database": dbname,
                "format": "pg_dump custom",
                "size_bytes": size,
                "sha256": _sha256(path),
                "table_rows": table_rows,
            }
            with path.open("rb") as file:
                stored = default_storage.save(key, File(file, name=key))
            if stored != key:
                default_storage.delete(stored)
                raise BackupError(f"The storage saved {key} as {stored}.")
            default_storage.save(
                key.removesuffix(DUMP_SUFFIX) + MANIFEST_SUFFIX,
                ContentFile(json.dumps(manifest, indent=2).encode()),
            )
    except (BackupError, OSError, psycopg.Error) as exc:
        logger.exception("backup failed")
        _record(BackupRun.Kind.BACKUP, started_at, status=BackupRun.Status.FAILED, error=str(exc))
        raise BackupError(str(exc)) from exc
    run = _record(
        BackupRun.Kind.BACKUP,
        started_at,
        status=BackupRun.Status.SUCCEEDED,
        storage_key=key,
        size_bytes=size,
        table_rows=table_rows,
    )
    removed = _retention_apply()
    logger.info("backup %s: %d bytes, %d old backups removed", key, size, removed)
    return run


def _row_differences(expected: dict[str, int], restored: dict[str, int]) -> dict[str, Any]:
    return {
        table: {"backup": expected.get(table), "restored": restored.get(table)}
        for table in sorted(set(expected) | set(restored))
        if expected.get(table) != restored.get(table)
    }


def backup_verify(*, key: str | None = None) -> BackupRun:
    """Restore a backup (the newest by default) into a scratch database and compare every
    table's rows with its manifest. Returns the run; its status says whether it matched."""
    started_at = timezone.now()
    backup: StoredBackup | None = None
    scratch = settings.BACKUP_VERIFY_DATABASE or f"{_database()['NAME']}_restore_check"
    table_rows: dict[str, int] = {}
    try:
        backup = _stored(key)
        with _work_dir() as directory:
            path, manifest = _download(backup, directory)
            with _connect(autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(scratch)
                    )
                )
                admin.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(scratch))
                )
                try:
                    _run_client(
                        [
                            settings.PG_RESTORE_BINARY,
                            "--no-owner",
                            "--no-privileges",
                            "--exit-on-error",
                            f"--dbname={scratch}",
                            str(path),
                        ],
                        dbname=scratch,
                    )
                    with _connect(scratch) as restored:
                        table_rows = _table_rows(restored)
                finally:
                    admin.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(scratch)
                        )
                    )
        differences = _row_differences(manifest.get("table_rows", {}), table_rows)
        if differences:
            raise BackupError(
                "The restored backup does not have the rows it was taken with: "
                + json.dumps(differences)
            )
    except (BackupError, OSError, psycopg.Error) as exc:
        logger.error("verification of backup %s failed: %s", backup and backup.key, exc)
        return _record(
            BackupRun.Kind.VERIFY,
            started_at,
            status=BackupRun.Status.FAILED,
            storage_key=backup.key if backup else "",
            table_rows=table_rows,
            error=str(exc),
        )
    return _record(
        BackupRun.Kind.VERIFY,
        started_at,
        status=BackupRun.Status.SUCCEEDED,
        storage_key=backup.key,
        size_bytes=manifest.get("size_bytes"),
        table_rows=table_rows,
    )


def backup_restore(*, key: str | None = None) -> BackupRun:
    """Replace the app's tables with those of a backup (the newest by default), in one
    transaction: a failed restore changes nothing. Tables the backup does not know stay."""
    started_at = timezone.now()
    dbname = str(_database()["NAME"])
    backup = _stored(key)
    with _work_dir() as directory:
        path, manifest = _download(backup, directory)
        # Our own idle connections would only wait on the locks of DROP TABLE.
        connections.close_all()
        _run_client(
            [
                settings.PG_RESTORE_BINARY,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={dbname}",
                str(path),
            ],
            dbname=dbname,
        )
    with _connect() as connection:
        table_rows = _table_rows(connection)
    # Written after the restore, which brought back the run table as it was in the backup.
    return _record(
        BackupRun.Kind.RESTORE,
        started_at,
        status=BackupRun.Status.SUCCEEDED,
        storage_key=backup.key,
        size_bytes=manifest.get("size_bytes"),
        table_rows=table_rows,
    )
