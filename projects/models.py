from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class Project(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        EXPORTING = "exporting", "Exporting"
        EXPORTED = "exported", "Exported"
        ARCHIVED = "archived", "Archived"

    class Template(models.TextChoices):
        # What each one presets: projects/templates.py.
        BLANK = "blank", "Blank"
        YOUTUBE_VIDEO = "youtube_video", "YouTube video"
        YOUTUBE_SHORT = "youtube_short", "YouTube Short"
        HIGHLIGHTS = "highlights", "Highlights reel"
        SQUARE_POST = "square_post", "Square post"
        PORTRAIT_POST = "portrait_post", "Portrait post"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="projects",
        db_column="user_id",
    )
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    template = models.CharField(max_length=50, choices=Template.choices, default=Template.BLANK)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    settings = models.JSONField(default=dict, blank=True)
    # Denormalised for the project list; kept true by the clip and timeline services.
    total_duration = models.DecimalField(max_digits=12, decimal_places=3, default=Decimal("0"))
    clips_count = models.PositiveIntegerField(default=0)
    # Optimistic concurrency for whole-timeline saves: a save names the version it started from.
    timeline_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "projects"
        ordering = ["-updated_at"]
        indexes = [
            # The project list: a user's projects, most recently changed first.
            models.Index(fields=["owner", "-updated_at"], name="project_owner_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_duration__gte=0), name="project_total_duration_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(clips_count__gte=0), name="project_clips_count_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "exporting", "exported", "archived"]),
                name="project_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name
