from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.lookups import GreaterThan
from django.utils import timezone

MEDIA_LAYERS = ("video", "audio")
TEXT_LAYERS = ("text", "caption")


class SegmentLayer(models.TextChoices):
    VIDEO = "video", "Video"
    AUDIO = "audio", "Audio"
    TEXT = "text", "Text"
    CAPTION = "caption", "Caption"


class TimelineSegment(models.Model):
    """`duration` seconds of a clip from its in-point `source_start`, placed at `start_time`;
    or, on the text and caption layers, `text` shown for `duration` seconds from `start_time`.

    What each field means for the picture and the sound: timeline/rules.py.
    """

    Layer = SegmentLayer

    class Fit(models.TextChoices):
        FIT = "fit", "Fit (bars)"
        FILL = "fill", "Fill (crop)"
        BLUR = "blur", "Fit over a blurred fill"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="segments"
    )
    # None on the text and caption layers (segment_clip_iff_media_layer).
    clip = models.ForeignKey(
        "clips.Clip", on_delete=models.CASCADE, related_name="segments", null=True, blank=True
    )
    name = models.CharField(max_length=255, blank=True)
    layer = models.CharField(max_length=20, choices=Layer.choices, default=Layer.VIDEO)
    start_time = models.DecimalField(max_digits=10, decimal_places=3)
    source_start = models.DecimalField(max_digits=10, decimal_places=3, default=0)
    duration = models.DecimalField(max_digits=10, decimal_places=3)
    volume = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("1"))
    fade_in = models.DecimalField(max_digits=10, decimal_places=3, default=Decimal("0"))
    fade_out = models.DecimalField(max_digits=10, decimal_places=3, default=Decimal("0"))
    fit = models.CharField(max_length=8, choices=Fit.choices, default=Fit.BLUR)
    # {"type": "crossfade"|…, "duration": seconds} on a video segment, else None.
    transition = models.JSONField(null=True, blank=True, default=None)
    duck = models.BooleanField(default=False)
    # {content, font, size, color, background, x, y, align} on text and caption segments.
    text = models.JSONField(null=True, blank=True, default=None)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "timeline_segments"
        ordering = ["layer", "start_time"]
        indexes = [
            # Reading a timeline and checking overlaps: a project's segments by layer and time.
            models.Index(
                fields=["project", "layer", "start_time"], name="segment_project_layer_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(start_time__gte=0), name="segment_start_time_gte_0"),
            models.CheckConstraint(
                condition=Q(source_start__gte=0), name="segment_source_start_gte_0"
            ),
            models.CheckConstraint(condition=Q(duration__gt=0), name="segment_duration_gt_0"),
            models.CheckConstraint(
                condition=GreaterThan(F("source_start") + F("duration"), 0),
                name="segment_source_end_gt_0",
            ),
            models.CheckConstraint(
                condition=Q(layer__in=[*MEDIA_LAYERS, *TEXT_LAYERS]), name="segment_layer_valid"
            ),
            models.CheckConstraint(
                condition=Q(layer__in=MEDIA_LAYERS, clip__isnull=False)
                | Q(layer__in=TEXT_LAYERS, clip__isnull=True),
                name="segment_clip_iff_media_layer",
            ),
            models.CheckConstraint(
                condition=Q(layer__in=TEXT_LAYERS, text__isnull=False)
                | Q(layer__in=MEDIA_LAYERS, text__isnull=True),
                name="segment_text_iff_text_layer",
            ),
            models.CheckConstraint(
                condition=Q(volume__gte=0, volume__lte=2), name="segment_volume_0_to_2"
            ),
            # fade_in + fade_out <= duration is the services' rule: SQLite would compare that
            # sum as floating point and refuse exact millisecond values such as 0.1 + 0.2.
            models.CheckConstraint(
                condition=Q(fade_in__gte=0, fade_out__gte=0), name="segment_fades_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(fit__in=["fit", "fill", "blur"]), name="segment_fit_valid"
            ),
            models.CheckConstraint(
                condition=Q(transition__isnull=True) | Q(layer="video"),
                name="segment_transition_only_video",
            ),
            models.CheckConstraint(
                condition=Q(duck=False) | Q(layer="audio"), name="segment_duck_only_audio"
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.layer} segment at {self.start_time}s"

    @property
    def end_time(self) -> Decimal:
        return self.start_time + self.duration


class TimelineChange(models.Model):
    """One version of a timeline: who made it, when, what it did, and how to rebuild it.

    Every change is a row (op history). A row for a single-segment operation stores only
    that segment (`data`); a whole-timeline change (replace, restore, clip removed) and every
    SNAPSHOT_EVERY-th version also store the full segment list (`snapshot`). Any version is
    then rebuilt from the nearest snapshot at or before it plus at most SNAPSHOT_EVERY - 1 ops.
    """

    class Kind(models.TextChoices):
        CREATE = "create", "Create"
        UPDATE = "update", "Update"
        DELETE = "delete", "Delete"
        REPLACE = "replace", "Replace"
        RESTORE = "restore", "Restore"
        CLIP_REMOVED = "clip_removed", "Clip removed"
        # The timeline as it was when history began (projects that existed before it).
        BASELINE = "baseline", "Baseline"

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="timeline_changes"
    )
    version = models.PositiveIntegerField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    summary = models.CharField(max_length=255)
    # create/update: {"segment": {...}} (the whole segment after the change);
    # delete: {"segment_id": "..."}; restore: {"restored": version, "dropped": n}.
    data = models.JSONField(default=dict, blank=True)
    snapshot = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "timeline_changes"
        ordering = ["-version"]
        constraints = [
            # One row per version: versions of a timeline have no duplicates. Its index also
            # serves the history list (project, newest version first) and the rebuild's
            # "latest snapshot at or before v" and "ops after it" range scans.
            models.UniqueConstraint(fields=["project", "version"], name="timeline_change_version"),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "create",
                        "update",
                        "delete",
                        "replace",
                        "restore",
                        "clip_removed",
                        "baseline",
                    ]
                ),
                name="timeline_change_kind_valid",
            ),
            models.CheckConstraint(condition=Q(version__gt=0), name="timeline_change_version_gt_0"),
        ]
        indexes = [
            # The rebuild: the latest snapshot of a project at or before a version.
            models.Index(
                fields=["project", "-version"],
                condition=Q(snapshot__isnull=False),
                name="timeline_change_snapshot_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version}: {self.summary}"


class DeletedSegment(models.Model):
    """A segment id that existed and was deleted: an edit of it answers 409 (the segment is
    gone) rather than 404 (there never was such a segment)."""

    # The deleted segment's own id, so a lookup is by primary key.
    id = models.UUIDField(primary_key=True)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="deleted_segments"
    )
    version = models.PositiveIntegerField()
    deleted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "timeline_deleted_segments"

    def __str__(self) -> str:
        return f"{self.id} (deleted in v{self.version})"
