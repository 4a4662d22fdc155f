from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.db.models.lookups import GreaterThan


class SegmentLayer(models.TextChoices):
    VIDEO = "video", "Video"
    AUDIO = "audio", "Audio"


class TimelineSegment(models.Model):
    """`duration` seconds of a clip from its in-point `source_start`, placed at `start_time`."""

    Layer = SegmentLayer

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="segments"
    )
    clip = models.ForeignKey("clips.Clip", on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=255, blank=True)
    layer = models.CharField(max_length=20, choices=Layer.choices, default=Layer.VIDEO)
    start_time = models.DecimalField(max_digits=10, decimal_places=3)
    source_start = models.DecimalField(max_digits=10, decimal_places=3, default=0)
    duration = models.DecimalField(max_digits=10, decimal_places=3)
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
                condition=Q(layer__in=SegmentLayer.values), name="segment_layer_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"segment at {self.start_time}s"

    @property
    def end_time(self) -> Decimal:
        return self.start_time + self.duration
