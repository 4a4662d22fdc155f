"""Maintenance services the scheduler runs periodically (see config/scheduler.py).

Every function is idempotent and safe to run on several workers at once: a sweep that runs
twice does nothing the second time.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Count, DurationField, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from clips.models import Clip, UploadSession
from clips.services import uploads as upload_services
from config.metrics import queue_depths
from processing.engine import QUEUES
from processing.files import s3_target, storage_delete_prefix
from processing.models import ProcessingJob
from processing.services import jobs_requeue_stale, jobs_resend_lost
from projects.models import Project

logger = logging.getLogger(__name__)

TMP_ORPHAN_AGE = timedelta(days=1)
# Stored objects younger than this may belong to a row whose transaction has not committed yet.
STORAGE_ORPHAN_AGE = timedelta(hours=1)
# A pending job this old, with its queue empty, lost its message (the broker was down when it
# was sent): send it again. The runner's conditional claim makes a duplicate harmless.
PENDING_LOST_AFTER = timedelta(minutes=10)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_JOB_DIR = re.compile(r"^job-(?P<id>[0-9a-f-]{36})$")
# An export's folder on a machine that rendered some of its chunks (exports/sources.py).
_EXPORT_DIR = re.compile(r"^export-(?P<id>[0-9a-f-]{36})$")


def uploads_expire() -> int:
    return upload_services.uploads_expire()


def database_backup() -> str:
    """The nightly backup (backups/services.py); raises BackupError when it fails."""
    if not settings.BACKUP_ENABLED:
        return "backups are switched off (BACKUP_ENABLED)"
    from backups.services import backup_create

    run = backup_create()
    return f"{run.storage_key} ({run.size_bytes} bytes)"


def backup_check() -> str:
    """Restore the newest backup into a scratch database and compare its rows."""
    if not settings.BACKUP_ENABLED:
        return "backups are switched off (BACKUP_ENABLED)"
    from backups.services import backup_verify

    run = backup_verify()
    return f"{run.status}: {run.storage_key} {run.error}".strip()


def jobs_recover() -> dict[str, int]:
    """Re-send jobs stuck `running` on a dead worker, and pending jobs whose message was lost;
    the same for the steps of exports (their chunks and mux)."""
    requeued = jobs_requeue_stale()
    busy = {queue for queue, depth in _queue_depths().items() if depth > 0}
    resent = jobs_resend_lost(older_than=PENDING_LOST_AFTER, busy_queues=busy)
    from exports.services import exports_recover

    return {"requeued_running": requeued, "resent_pending": resent, **exports_recover()}


def _queue_depths() -> dict[str, int]:
    try:
        return queue_depths()
    except Exception:
        logger.warning("could not read queue depths", exc_info=True)
        return dict.fromkeys(QUEUES, 1)  # unknown: assume busy, resend nothing


def _newest_mtime(path: Path) -> float:
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for child in path.rglob("*"):
            try:
                newest = max(newest, child.lstat().st_mtime)
            except FileNotFoundError:
                continue
    return newest


def tmp_orphans_remove(*, older_than: timedelta = TMP_ORPHAN_AGE) -> int:
    """Remove entries of PROCESSING_TMP_DIR untouched for `older_than` whose job is not running
    (a worker killed mid-job leaves its folder behind). An export's folder goes as soon as its
    export has ended: no step of it will read its copies again."""
    from processing.models import ProcessingJob

    root = Path(settings.PROCESSING_TMP_DIR)
    if not root.is_dir():
        return 0
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    for entry in root.iterdir():
        match = _JOB_DIR.match(entry.name) or _EXPORT_DIR.match(entry.name)
        running = (
            match is not None
            and ProcessingJob.objects.filter(
                pk=match.group("id"), status=ProcessingJob.Status.RUNNING
            ).exists()
        )
        if running:
            continue
        if not (match and match.re is _EXPORT_DIR):
            try:
                if _newest_mtime(entry) >= cutoff:
                    continue
            except FileNotFoundError:
                continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    if removed:
        logger.info("removed %d orphan temp entries", removed)
    return removed


def export_chunks_prune() -> int:
    """Delete cached export chunks that no project's current timeline can use any more."""
    from exports.services import export_chunks_prune as prune

    return prune()


def _prefix_is_old(prefix: str, cutoff: Any) -> bool:
    """True when every file under `prefix` is older than `cutoff` (and there is one)."""
    directories, files = default_storage.listdir(prefix)
    if not files and not directories:
        return False
    for name in files:
        if default_storage.get_modified_time(f"{prefix}/{name}") >= cutoff:
            return False
    return all(_prefix_is_old(f"{prefix}/{d}", cutoff) for d in directories)


def storage_orphans_remove(*, older_than: timedelta = STORAGE_ORPHAN_AGE) -> int:
    """Delete stored files of clips and exports whose row no longer exists."""
    cutoff = timezone.now() - older_than
    removed = 0
    # staging/clips/<id>/: the chunks of an upload whose clip is gone.
    for top, model in (("clips", Clip), ("exports", Project), ("staging/clips", Clip)):
        try:
            directories, _ = default_storage.listdir(top)
        except FileNotFoundError:
            continue
        ids = [name for name in directories if _UUID.match(name)]
        existing = {str(pk) for pk in model.objects.filter(pk__in=ids).values_list("pk", flat=True)}
        for name in ids:
            prefix = f"{top}/{name}"
            if name in existing or not _prefix_is_old(prefix, cutoff):
                continue
            removed += storage_delete_prefix(prefix)
            logger.warning("removed orphan stored files under %s/", prefix)
    removed += _s3_multipart_orphans_abort(cutoff)
    return removed


def _s3_multipart_orphans_abort(cutoff: Any) -> int:
    """Abort S3 multipart uploads that no active upload session owns (their parts cost money)."""
    s3 = s3_target()
    if s3 is None:
        return 0
    client, bucket = s3.client, s3.bucket
    aborted = 0
    paginator = client.get_paginator("list_multipart_uploads")
    for page in paginator.paginate(Bucket=bucket, Prefix=s3.location):
        for upload in page.get("Uploads", []):
            if upload["Initiated"] >= cutoff:
                continue
            owned = UploadSession.objects.filter(
                multipart_upload_id=upload["UploadId"],
                status__in=[UploadSession.Status.ACTIVE, UploadSession.Status.COMPLETING],
            ).exists()
            if not owned:
                client.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
                aborted += 1
    return aborted


@dataclass(frozen=True)
class UsageRow:
    email: str
    storage_used: int
    storage_limit: int
    clips: int
    exports: int
    export_bytes: int
    processing_minutes: float


def usage_rows() -> list[UsageRow]:
    """One row per user for the usage report, in two queries whatever the number of users."""
    finished = ProcessingJob.objects.filter(
        owner=OuterRef("pk"), started_at__isnull=False, completed_at__isnull=False
    )
    run_time = (
        finished.values("owner")
        .annotate(
            total=Sum(
                ExpressionWrapper(F("completed_at") - F("started_at"), output_field=DurationField())
            )
        )
        .values("total")
    )
    exports = (
        ProcessingJob.objects.filter(
            owner=OuterRef("pk"),
            job_type=ProcessingJob.JobType.EXPORT,
            status=ProcessingJob.Status.COMPLETED,
        )
        .values("owner")
        .annotate(n=Count("pk"))
        .values("n")
    )
    users = (
        User.objects.annotate(
            clip_count=Count("clips", distinct=True),
            export_count=Coalesce(Subquery(exports), 0),
            run_time=Subquery(run_time, output_field=DurationField()),
        )
        .filter(Q(is_active=True) | Q(storage_used__gt=0))
        .order_by("-storage_used", "email")
    )
    export_bytes: dict[Any, int] = defaultdict(int)
    for owner_id, size in ProcessingJob.objects.filter(
        job_type=ProcessingJob.JobType.EXPORT, status=ProcessingJob.Status.COMPLETED
    ).values_list("owner_id", "output_data__size"):
        export_bytes[owner_id] += int(size or 0)
    return [
        UsageRow(
            email=user.email,
            storage_used=user.storage_used,
            storage_limit=user.storage_limit,
            clips=user.clip_count,
            exports=user.export_count,
            export_bytes=export_bytes[user.pk],
            processing_minutes=round(user.run_time.total_seconds() / 60, 1)
            if user.run_time
            else 0.0,
        )
        for user in users
    ]
