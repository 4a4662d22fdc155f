from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    EXPORTING = "exporting", "Exporting"
    EXPORTED = "exported", "Exported"
    ARCHIVED = "archived", "Archived"


class Role(models.TextChoices):
    """What a user may do in a project; each role includes everything the one before allows."""

    VIEWER = "viewer", "Viewer"
    COMMENTER = "commenter", "Commenter"
    EDITOR = "editor", "Editor"
    OWNER = "owner", "Owner"

    def includes(self, needed: Role) -> bool:
        return ROLE_ORDER.index(self) >= ROLE_ORDER.index(Role(needed))


ROLE_ORDER = [Role.VIEWER, Role.COMMENTER, Role.EDITOR, Role.OWNER]
# The roles a membership row holds; the owner is `Project.owner`, never a row.
MEMBER_ROLES = [Role.VIEWER, Role.COMMENTER, Role.EDITOR]
MEMBER_ROLE_CHOICES = [(role.value, role.label) for role in MEMBER_ROLES]


class Project(models.Model):
    Status = ProjectStatus

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
                condition=Q(status__in=ProjectStatus.values),
                name="project_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProjectMember(models.Model):
    """A user other than the owner who may work on a project, with their role.

    It lives beside Project because every app asks `projects.selectors` who may do what;
    the collaboration app (invitations, member management) writes these rows.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "project_members"
        ordering = ["joined_at"]
        indexes = [
            # The projects shared with a user (the project list, ?role= filter).
            models.Index(fields=["user", "role"], name="project_member_user_role_idx"),
        ]
        constraints = [
            # Also serves the access check: one user's row in one project.
            models.UniqueConstraint(fields=["project", "user"], name="project_member_unique"),
            models.CheckConstraint(
                condition=Q(role__in=[role.value for role in MEMBER_ROLES]),
                name="project_member_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.project_id} ({self.role})"
