"""Invitations to a project, timecoded comments on it, and each user's notifications.

Who is a member, and with which role, is `projects.ProjectMember`: the access rule every app
asks lives with the project. This app writes those rows (accepting an invitation, changing a
role, leaving) and depends on projects, never the reverse.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from projects.models import Role


class Invitation(models.Model):
    """An e-mailed offer to join a project with a role; accepted once, before it expires."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"
        # Shown for a pending invitation past `expires_at`; never stored.
        EXPIRED = "expired", "Expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="invitations"
    )
    # Stored lower-cased: addresses are matched without regard to case.
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "invitations"
        ordering = ["-created_at"]
        indexes = [
            # GET /api/invitations: the caller's pending invitations, by address.
            models.Index(fields=["email", "status"], name="invitation_email_status_idx"),
            # The owner's list of a project's pending invitations.
            models.Index(fields=["project", "status"], name="invitation_project_status_idx"),
        ]
        constraints = [
            # Inviting an address again replaces its pending invitation (the old link dies).
            models.UniqueConstraint(
                fields=["project", "email"],
                condition=Q(status="pending"),
                name="invitation_one_pending_per_email",
            ),
            models.CheckConstraint(
                condition=Q(role__in=["viewer", "commenter", "editor"]),
                name="invitation_role_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "accepted", "revoked"]),
                name="invitation_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.project_id} ({self.role}, {self.status})"


class Comment(models.Model):
    """A remark on a project, optionally at a time of the timeline or on a segment; a reply
    names the first comment of its thread as `parent`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments"
    )
    body = models.TextField()
    time = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    # The comment outlives its segment: it keeps its time when the segment is deleted.
    segment = models.ForeignKey(
        "timeline.TimelineSegment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comments",
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in"
    )
    resolved = models.BooleanField(default=False)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "comments"
        ordering = ["created_at"]
        indexes = [
            # GET /api/projects/:id/comments: a project's comments, oldest first.
            models.Index(fields=["project", "created_at"], name="comment_project_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(time__isnull=True) | Q(time__gte=0), name="comment_time_gte_0"
            ),
            models.CheckConstraint(condition=~Q(body=""), name="comment_body_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.author_id}: {self.body[:40]}"


class Notification(models.Model):
    """Something a user should know about, kept until read and pushed live on `user_<id>`."""

    class Kind(models.TextChoices):
        EXPORT_COMPLETED = "export_completed", "Export completed"
        EXPORT_FAILED = "export_failed", "Export failed"
        CLIP_READY = "clip_ready", "Clip ready"
        CLIP_FAILED = "clip_failed", "Clip failed"
        INVITATION = "invitation", "Invitation"
        MEMBER_JOINED = "member_joined", "Member joined"
        COMMENT = "comment", "Comment"
        MENTION = "mention", "Mention"

    class Level(models.TextChoices):
        INFO = "info", "Info"
        SUCCESS = "success", "Success"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    message = models.TextField()
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    data = models.JSONField(default=dict, blank=True)
    # Makes an event notify once although its hook may run again (a redelivered job message).
    key = models.CharField(max_length=200, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "notifications"
        ordering = ["-created_at"]
        indexes = [
            # GET /api/notifications: a user's notifications, newest first.
            models.Index(fields=["user", "-created_at"], name="notification_user_created_idx"),
            # ?unread=true and the unread count of the bell.
            models.Index(
                fields=["user", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_user_unread_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], condition=~Q(key=""), name="notification_unique_key"
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "export_completed",
                        "export_failed",
                        "clip_ready",
                        "clip_failed",
                        "invitation",
                        "member_joined",
                        "comment",
                        "mention",
                    ]
                ),
                name="notification_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"
