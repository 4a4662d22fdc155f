from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class ClipStatus(models.TextChoices):
    UPLOADING = "uploading", "Uploading"
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Clip(models.Model):
    """A source video in a project's library."""

    Status = ClipStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="clips")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="clips",
        db_column="user_id",
    )
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    original_filename = models.CharField(max_length=255, blank=True)
    # Storage key of the original; never derived from the user's file name.
    file_path = models.CharField(max_length=500, blank=True)
    file_size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    duration = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    resolution = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UPLOADING)
    metadata = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=list, blank=True)
    # Storage keys of derived files, written by processing under deterministic names.
    thumbnail_path = models.CharField(max_length=500, blank=True)
    filmstrip_path = models.CharField(max_length=500, blank=True)
    waveform_path = models.CharField(max_length=500, blank=True)
    proxy_path = models.CharField(max_length=500, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "clips"
        ordering = ["created_at"]
        indexes = [
            # A project's clip library, oldest first.
            models.Index(fields=["project", "created_at"], name="clip_project_created_idx"),
            # The nightly reconcile (quota.storage_charged_bytes): the sizes of a user's clips
            # that are past `uploading`.
            models.Index(fields=["owner", "status"], name="clip_owner_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(file_size__isnull=True) | Q(file_size__gte=0),
                name="clip_file_size_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(duration__isnull=True) | Q(duration__gte=0), name="clip_duration_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ClipStatus.values),
                name="clip_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class UploadStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETING = "completing", "Completing"
    COMPLETE = "complete", "Complete"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


class UploadSession(models.Model):
    """A resumable chunked upload of one clip's original file."""

    Status = UploadStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clip = models.OneToOneField(Clip, on_delete=models.CASCADE, related_name="upload")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="upload_sessions",
        db_column="user_id",
    )
    filename = models.CharField(max_length=255)
    size = models.BigIntegerField()
    chunk_size = models.PositiveIntegerField()
    total_chunks = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, blank=True, help_text="Expected whole-file hash.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    storage_key = models.CharField(max_length=500)
    # S3 multipart upload id when chunks go straight into S3 parts.
    multipart_upload_id = models.CharField(max_length=1024, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "upload_sessions"
        ordering = ["-created_at"]
        indexes = [
            # The expiry sweep: active sessions past their deadline.
            models.Index(fields=["status", "expires_at"], name="upload_status_expires_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(size__gt=0), name="upload_size_gt_0"),
            models.CheckConstraint(condition=Q(chunk_size__gt=0), name="upload_chunk_size_gt_0"),
            models.CheckConstraint(
                condition=Q(total_chunks__gt=0), name="upload_total_chunks_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(status__in=UploadStatus.values),
                name="upload_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"


class UploadChunk(models.Model):
    """One stored chunk; a row per chunk makes parallel, repeated chunk requests safe."""

    upload = models.ForeignKey(UploadSession, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    etag = models.CharField(max_length=255, blank=True, help_text="S3 part ETag.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "upload_chunks"
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["upload", "index"], name="upload_chunk_unique_index"),
            models.CheckConstraint(condition=Q(size__gt=0), name="chunk_size_gt_0"),
        ]

    def __str__(self) -> str:
        return f"chunk {self.index} of {self.upload_id}"
