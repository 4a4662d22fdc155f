"""Periodic maintenance: Dramatiq actors, and the schedule `manage.py run_scheduler` keeps.

Why APScheduler in its own process rather than a home-made loop or periodiq: APScheduler is
maintained, has cron and interval triggers, coalesces runs missed while the scheduler was down
(`coalesce=True`, `misfire_grace_time`) and never runs a job twice at once
(`max_instances=1`). periodiq is a small Dramatiq add-on with cron-only triggers that has not
had a release in years. The scheduler only *sends* messages; the work runs on the workers'
`maintenance` queue, so it gets retries, time limits, logs and metrics like any job.

Running two schedulers by mistake is harmless: each send claims its time slot in the shared
cache first, so a slot is sent once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import dramatiq
from django.conf import settings
from django.core.cache import cache

from clips.services import quota
from config import maintenance

logger = logging.getLogger(__name__)

MAINTENANCE_QUEUE = "maintenance"
_TIME_LIMIT_MS = 30 * 60 * 1000


@dramatiq.actor(queue_name=MAINTENANCE_QUEUE, max_retries=0, time_limit=_TIME_LIMIT_MS)
def expire_uploads() -> None:
    logger.info("expired %d uploads", maintenance.uploads_expire())


@dramatiq.actor(queue_name=MAINTENANCE_QUEUE, max_retries=0, time_limit=_TIME_LIMIT_MS)
def recover_jobs() -> None:
    logger.info("job recovery: %s", maintenance.jobs_recover())


@dramatiq.actor(queue_name=MAINTENANCE_QUEUE, max_retries=0, time_limit=_TIME_LIMIT_MS)
def remove_tmp_orphans() -> None:
    logger.info("removed %d orphan temp entries", maintenance.tmp_orphans_remove())


@dramatiq.actor(queue_name=MAINTENANCE_QUEUE, max_retries=0, time_limit=_TIME_LIMIT_MS)
def remove_storage_orphans() -> None:
    logger.info("removed %d orphan stored objects", maintenance.storage_orphans_remove())


@dramatiq.actor(queue_name=MAINTENANCE_QUEUE, max_retries=0, time_limit=_TIME_LIMIT_MS)
def prune_export_chunks() -> None:
    logger.info("pruned %d cached export chunks", maintenance.export_chunks_prune())


@dramatiq.actor(queue_name=MAINTENANCE_QUEUE, max_retries=0, time_limit=_TIME_LIMIT_MS)
def reconcile_storage_usage() -> None:
    logger.info("corrected storage_used of %d users", quota.storage_usage_reconcile())


# A dump or a restore check of a large database may take hours (BACKUP_TIMEOUT_SECONDS each
# for pg_dump and for pg_restore).
_BACKUP_TIME_LIMIT_MS = 2 * settings.BACKUP_TIMEOUT_SECONDS * 1000 + _TIME_LIMIT_MS


@dramatiq.actor(queue_name=MAINTENANCE_QUEUE, max_retries=0, time_limit=_BACKUP_TIME_LIMIT_MS)
def backup_database() -> None:
    logger.info("backup: %s", maintenance.database_backup())


@dramatiq.actor(queue_name=MAINTENANCE_QUEUE, max_retries=0, time_limit=_BACKUP_TIME_LIMIT_MS)
def verify_backup() -> None:
    logger.info("backup verification: %s", maintenance.backup_check())


@dataclass(frozen=True)
class Entry:
    actor: Any
    trigger: str  # "interval" or "cron"
    args: dict[str, int]


SCHEDULE: list[Entry] = [
    Entry(expire_uploads, "interval", {"minutes": 15}),
    Entry(recover_jobs, "interval", {"minutes": 1}),
    # Temp folders are per worker host; any worker of the host runs the sweep.
    Entry(remove_tmp_orphans, "interval", {"hours": 1}),
    Entry(remove_storage_orphans, "cron", {"hour": 2, "minute": 30}),
    Entry(prune_export_chunks, "cron", {"hour": 2, "minute": 45}),
    Entry(reconcile_storage_usage, "cron", {"hour": 3, "minute": 0}),
    Entry(backup_database, "cron", {"hour": 1, "minute": 30}),
    # Long after the backup, so that it checks tonight's.
    Entry(verify_backup, "cron", {"hour": 4, "minute": 30}),
]


def send_once(actor: Any, *, slot_seconds: int = 55) -> bool:
    """Send `actor` unless another scheduler already sent it in this time slot."""
    slot = int(time.time() // slot_seconds)
    if not cache.add(f"scheduler:{actor.actor_name}:{slot}", 1, slot_seconds * 2):
        return False
    actor.send()
    logger.info("scheduled %s", actor.actor_name)
    return True


def build_scheduler(*, blocking: bool = True) -> Any:
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for entry in SCHEDULE:
        scheduler.add_job(
            send_once,
            entry.trigger,
            args=[entry.actor],
            id=entry.actor.actor_name,
            name=entry.actor.actor_name,
            **entry.args,
        )
    return scheduler
