from __future__ import annotations

from django.db import models
from django.db.models import Q


class BackupRun(models.Model):
    """One backup, verification or restore, as it ended (see backups/services.py).

    A row is written when the run ends, never before: a dump taken while a `running` row
    existed would bring that row back, forever running, with every restore."""

    class Kind(models.TextChoices):
        BACKUP = "backup", "Backup"
        VERIFY = "verify", "Verification"
        RESTORE = "restore", "Restore"

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    # The dump in the default storage (backups/…dump) this run wrote or read.
    storage_key = models.CharField(max_length=255, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    # Rows per table: in the backup (backup), or as restored (verify, restore).
    table_rows = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    class Meta:
        db_table = "backup_runs"
        ordering = ["-finished_at"]
        indexes = [
            # /healthz, /metrics and the admin: the newest run of a kind with a status.
            models.Index(fields=["kind", "status", "-finished_at"], name="backup_run_latest_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["backup", "verify", "restore"]), name="backup_run_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["succeeded", "failed"]), name="backup_run_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(finished_at__gte=models.F("started_at")),
                name="backup_run_finished_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.status} at {self.finished_at:%Y-%m-%d %H:%M}"

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()
