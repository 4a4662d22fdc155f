"""Reads of members, invitations, comments and notifications.

Project access is asked of `projects.selectors` (the one rule); these only shape what a member
may read once that answered.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from collaboration.models import Comment, Invitation, Notification
from projects.models import Project, ProjectMember, Role
from projects.selectors import require_project_role


@dataclass(frozen=True)
class Member:
    """The owner (who has no membership row) or a member, as the API shows them."""

    user: Any
    role: Role
    joined_at: datetime


def project_members(*, project: Project) -> list[Member]:
    """The owner first, then the members in the order they joined (two queries)."""
    owner = Member(user=project.owner, role=Role.OWNER, joined_at=project.created_at)
    rows = (
        ProjectMember.objects.filter(project=project)
        .select_related("user")
        .order_by("joined_at", "pk")
    )
    return [
        owner,
        *(Member(user=row.user, role=Role(row.role), joined_at=row.joined_at) for row in rows),
    ]


def get_member(*, project: Project, user_id: uuid.UUID | str) -> Member:
    """One member of the project (the owner included), or a 404."""
    if str(project.owner_id) == str(user_id):
        return Member(user=project.owner, role=Role.OWNER, joined_at=project.created_at)
    try:
        row = ProjectMember.objects.select_related("user").get(project=project, user_id=user_id)
    except (ProjectMember.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("This user is not a member of the project.") from exc
    return Member(user=row.user, role=Role(row.role), joined_at=row.joined_at)


def invitation_status(invitation: Invitation, *, now: datetime | None = None) -> str:
    """The stored status, or `expired` for a pending invitation past its deadline."""
    if invitation.status == Invitation.Status.PENDING and invitation.expires_at <= (
        now or timezone.now()
    ):
        return Invitation.Status.EXPIRED
    return invitation.status


def project_invitations(*, project: Project) -> QuerySet[Invitation]:
    """Invitations not yet answered, expired ones included (index invitation_project_status_idx)."""
    return (
        Invitation.objects.filter(project=project, status=Invitation.Status.PENDING)
        .select_related("project", "invited_by")
        .order_by("-created_at", "id")
    )


def get_project_invitation(*, project: Project, invitation_id: uuid.UUID | str) -> Invitation:
    try:
        return Invitation.objects.get(project=project, pk=invitation_id)
    except (Invitation.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such invitation.") from exc


def invitations_for_user(*, user: Any) -> QuerySet[Invitation]:
    """The caller's pending, unexpired invitations, matched by e-mail without regard to case
    (addresses are stored lower-cased; index invitation_email_status_idx)."""
    return (
        Invitation.objects.filter(
            email=user.email.lower(),
            status=Invitation.Status.PENDING,
            expires_at__gt=timezone.now(),
        )
        .select_related("project", "invited_by")
        .order_by("-created_at", "id")
    )


def comments_for_project(*, project: Project, resolved: bool | None = None) -> QuerySet[Comment]:
    """A project's comments, oldest first (index comment_project_created_idx). `resolved`
    filters whole threads: a reply goes with its first comment."""
    queryset = (
        Comment.objects.filter(project=project)
        .select_related("author")
        .prefetch_related("mentions")
        .order_by("created_at", "id")
    )
    if resolved is not None:
        queryset = queryset.filter(
            Q(parent__isnull=True, resolved=resolved) | Q(parent__resolved=resolved)
        )
    return queryset


def get_comment_for_user(user: Any, comment_id: uuid.UUID | str, *, role: Role) -> Comment:
    """The comment if `user` holds at least `role` in its project (404 for a non-member)."""
    try:
        comment = Comment.objects.select_related("project", "author").get(pk=comment_id)
    except (Comment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such comment.") from exc
    try:
        require_project_role(user, comment.project, role)
    except Http404 as exc:
        raise Http404("No such comment.") from exc
    return comment


def notifications_for_user(*, user: Any, unread: bool = False) -> QuerySet[Notification]:
    """Newest first (index notification_user_created_idx, or the partial unread index)."""
    queryset = Notification.objects.filter(user=user).order_by("-created_at", "-id")
    if unread:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset


def notifications_unread_count(*, user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
