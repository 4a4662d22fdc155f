"""What the newest backup runs say: for /healthz, /metrics and the admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from backups.models import BackupRun


def _latest(kind: str, status: str | None = None) -> BackupRun | None:
    runs = BackupRun.objects.filter(kind=kind)
    if status is not None:
        runs = runs.filter(status=status)
    return runs.order_by("-finished_at").first()


@dataclass(frozen=True)
class BackupStatus:
    enabled: bool
    last_backup: BackupRun | None
    last_verification: BackupRun | None
    now: datetime

    @property
    def age_seconds(self) -> float | None:
        if self.last_backup is None:
            return None
        return max(0.0, (self.now - self.last_backup.finished_at).total_seconds())

    @property
    def state(self) -> str:
        """`ok`, `stale` (older than BACKUP_MAX_AGE_HOURS), `missing`, `unverified` (the
        newest verification failed) or `disabled`."""
        if not self.enabled:
            return "disabled"
        age = self.age_seconds
        if age is None:
            return "missing"
        if age > settings.BACKUP_MAX_AGE_HOURS * 3600:
            return "stale"
        verification = self.last_verification
        if verification is not None and verification.status != BackupRun.Status.SUCCEEDED:
            return "unverified"
        return "ok"

    def as_dict(self) -> dict[str, object]:
        backup, verification = self.last_backup, self.last_verification
        age = self.age_seconds
        return {
            "status": self.state,
            "last_backup_at": backup.finished_at.isoformat() if backup else None,
            "age_seconds": round(age) if age is not None else None,
            "last_backup_key": backup.storage_key if backup else None,
            "last_verification_at": verification.finished_at.isoformat() if verification else None,
            "last_verification": verification.status if verification else None,
        }


def backup_status() -> BackupStatus:
    """The newest successful backup and the newest verification (whatever its outcome)."""
    return BackupStatus(
        enabled=settings.BACKUP_ENABLED,
        last_backup=_latest(BackupRun.Kind.BACKUP, BackupRun.Status.SUCCEEDED),
        last_verification=_latest(BackupRun.Kind.VERIFY),
        now=timezone.now(),
    )
