"""What an export keeps beyond its job row: the run (its chunks in order, where the final mux
stands) and the cache of rendered chunks that every export of a project draws on.

A chunk is named by the hash of everything that decides its pixels and samples
(exports/chunking.py), so a re-export after a small edit finds most of its chunks already here.
A chunk row is also the unit of work: claimed with a conditional update, kept alive by a
heartbeat, re-claimable once the heartbeat is stale (its worker died).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class ExportRun(models.Model):
    """One export job's chunks and stage. The job row says running/completed/…; the stage says
    which part of the work is under way, and each move between stages is a conditional update,
    so exactly one worker queues the mux, completes, fails or cleans up after a cancel."""

    class Stage(models.TextChoices):
        RENDERING = "rendering", "Rendering chunks"
        MUX_QUEUED = "mux_queued", "Waiting for the final mux"
        MUXING = "muxing", "Final mux"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Stage.RENDERING, Stage.MUX_QUEUED, Stage.MUXING)

    job = models.OneToOneField(
        "processing.ProcessingJob",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="export_run",
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="export_runs"
    )
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.RENDERING)
    # Export settings as planned (format, preset, loudness, encoder): every chunk and the mux
    # use these, even if the server's settings change while the export runs.
    settings = models.JSONField(default=dict)
    # The timeline in numbers: size, rate, frames, samples.
    layout = models.JSONField(default=dict)
    # The clips' files as planned (storage key, size, name), by clip id.
    sources = models.JSONField(default=dict)
    # Equal for two exports of the same timeline with the same settings: the same file.
    result_key = models.CharField(max_length=64)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # the final mux's
    mux_attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "export_runs"
        indexes = [
            # "Has this timeline been exported with these settings already?" at export start.
            models.Index(fields=["project", "result_key"], name="export_run_result_idx"),
            # The recovery sweep: active runs by stage and age.
            models.Index(fields=["stage", "updated_at"], name="export_run_stage_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    stage__in=["rendering", "mux_queued", "muxing", "done", "failed", "cancelled"]
                ),
                name="export_run_stage_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"export run {self.job_id} ({self.stage})"


class ExportChunk(models.Model):
    """A rendered stretch of a project's timeline: picture and lossless sound in storage."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RENDERING = "rendering", "Rendering"
        READY = "ready", "Ready"

    key = models.CharField(max_length=64, primary_key=True)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="export_chunks"
    )
    # The export that planned or rendered it: cancelling that export removes it.
    created_by = models.ForeignKey(
        "processing.ProcessingJob",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The export request (preset, format) it was planned for: the cache sweep recomputes which
    # chunks the project's current timeline would need with it.
    variant = models.JSONField(default=dict)
    spec = models.JSONField(default=dict)
    frames = models.PositiveIntegerField()
    samples = models.PositiveIntegerField()
    copy = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    progress = models.FloatField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    picture_key = models.CharField(max_length=500, blank=True)
    sound_key = models.CharField(max_length=500, blank=True)
    size = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "export_chunks"
        indexes = [
            # The cache sweep: a project's chunks not used for a while.
            models.Index(fields=["project", "last_used_at"], name="export_chunk_used_idx"),
            # The recovery sweep: chunks rendering with an old heartbeat.
            models.Index(fields=["status", "heartbeat_at"], name="export_chunk_status_idx"),
            # A cancelled export's own chunks.
            models.Index(fields=["created_by"], name="export_chunk_creator_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=1), name="export_chunk_progress_0_1"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "rendering", "ready"]),
                name="export_chunk_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="ready") | (~Q(picture_key="") & ~Q(sound_key="")),
                name="export_chunk_ready_has_files",
            ),
        ]

    def __str__(self) -> str:
        return f"chunk {self.key[:12]} ({self.status})"


class ExportPart(models.Model):
    """Position `index` of a run's timeline is chunk `chunk` (one chunk may fill several)."""

    run = models.ForeignKey(ExportRun, on_delete=models.CASCADE, related_name="parts")
    index = models.PositiveIntegerField()
    chunk = models.ForeignKey(ExportChunk, on_delete=models.CASCADE, related_name="parts")

    class Meta:
        db_table = "export_parts"
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="export_part_run_index_uniq"),
        ]

    def __str__(self) -> str:
        return f"part {self.index} of {self.run_id}"
