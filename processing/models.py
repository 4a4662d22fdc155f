from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class ProcessingJob(models.Model):
    """One unit of background work, an explicit state machine driven by processing.engine."""

    class JobType(models.TextChoices):
        PROBE = "probe", "Probe"
        SCAN = "scan", "Virus scan"
        THUMBNAIL = "thumbnail", "Thumbnails"
        TRANSCODE = "transcode", "Transcode"
        NORMALIZE_AUDIO = "normalize_audio", "Normalize audio"
        EXTRACT = "extract", "Extract"
        EXPORT = "export", "Export"

    Status = JobStatus

    FINISHED = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="processing_jobs",
        db_column="user_id",
    )
    clip = models.ForeignKey(
        "clips.Clip", on_delete=models.CASCADE, null=True, blank=True, related_name="jobs"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="jobs"
    )
    job_type = models.CharField(max_length=50, choices=JobType.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    progress = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    input_params = models.JSONField(default=dict, blank=True)
    output_data = models.JSONField(default=dict, blank=True)
    # Shown to the user; developer_error keeps the technical detail (FFmpeg stderr) for staff.
    error_message = models.TextField(blank=True)
    developer_error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "processing_jobs"
        ordering = ["-created_at"]
        indexes = [
            # GET /api/jobs: a user's jobs, newest first, optionally by status.
            models.Index(fields=["owner", "-created_at"], name="job_owner_created_idx"),
            # GET /api/jobs?status=…: a user's jobs in one status.
            models.Index(fields=["owner", "status"], name="job_owner_status_idx"),
            # The sweep for jobs whose worker died: running jobs by heartbeat age.
            models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat_idx"),
            # The ingest pipeline (clips.ingest.pipeline): a clip's jobs of one run, by type.
            models.Index(fields=["clip", "job_type"], name="job_clip_type_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=100), name="job_progress_0_100"
            ),
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values),
                name="job_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job_type} {self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED
