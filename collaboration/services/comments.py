"""Timecoded comments: threads (a reply names its thread's first comment), resolving,
@mentions of members, and who is told about a new comment.

Roles are checked by the views through the selectors (commenter+ to write, editor+ to
resolve); authorship, an object rule, is checked here.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from collaboration.models import Comment, Notification
from collaboration.serializers import comment_data
from collaboration.services.notifications import notification_create
from common.errors import ServiceError
from projects.models import Project, ProjectMember, Role
from realtime import messages
from realtime.broadcast import broadcast, project_group
from timeline.models import TimelineSegment

_UNSET: Any = object()
MAX_MENTIONS = 50
EXCERPT_LENGTH = 140


def _excerpt(body: str) -> str:
    body = " ".join(body.split())
    return body if len(body) <= EXCERPT_LENGTH else body[: EXCERPT_LENGTH - 1] + "…"


def _clean_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise ServiceError("Write something before sending the comment.", {"field": "body"})
    return body


def _member_ids(project: Project) -> set[uuid.UUID]:
    ids = set(ProjectMember.objects.filter(project=project).values_list("user_id", flat=True))
    return ids | {project.owner_id}


def _mentioned(project: Project, mentions: list[uuid.UUID]) -> list[uuid.UUID]:
    unique = list(dict.fromkeys(mentions))
    if len(unique) > MAX_MENTIONS:
        raise ServiceError(
            f"A comment can mention at most {MAX_MENTIONS} people.", {"field": "mentions"}
        )
    strangers = [str(user_id) for user_id in unique if user_id not in _member_ids(project)]
    if strangers:
        raise ServiceError(
            "Only members of this project can be mentioned.",
            {"field": "mentions", "not_members": strangers},
        )
    return unique


def comment_create(
    *,
    project: Project,
    author: Any,
    body: str,
    time: Decimal | None = None,
    segment_id: uuid.UUID | None = None,
    parent_id: uuid.UUID | None = None,
    mentions: list[uuid.UUID] | None = None,
) -> Comment:
    """Add a comment, tell whom it concerns and push it to the project's sockets (after
    commit). A reply to a reply joins the same thread."""
    body = _clean_body(body)
    segment = None
    if segment_id is not None:
        segment = TimelineSegment.objects.filter(project=project, pk=segment_id).first()
        if segment is None:
            raise ServiceError(
                "That segment is not on this project's timeline (it may have been deleted).",
                {"field": "segment_id"},
            )
    parent = None
    if parent_id is not None:
        parent = Comment.objects.filter(project=project, pk=parent_id).first()
        if parent is None:
            raise ServiceError(
                "The comment you reply to is not in this project (it may have been deleted).",
                {"field": "parent_id"},
            )
        if parent.parent_id is not None:
            parent = parent.parent
    mentioned = _mentioned(project, mentions or [])
    with transaction.atomic():
        comment = Comment.objects.create(
            project=project,
            author=author,
            body=body,
            time=time if time is not None or segment is None else segment.start_time,
            segment=segment,
            parent=parent,
        )
        comment.mentions.set(User.objects.filter(pk__in=mentioned))
        _notify(comment, mentioned)
        broadcast(messages.comment(comment=comment_data(comment)), [project_group(project.pk)])
    return comment


def _notify(comment: Comment, mentioned: list[uuid.UUID]) -> None:
    """Mentioned members get a `mention` (also by e-mail); the thread's other participants,
    or for a new thread the owner, get a `comment`. Never the author, never twice."""
    project = comment.project
    author = comment.author
    data = {
        "comment_id": str(comment.pk),
        "parent_id": str(comment.parent_id) if comment.parent_id else None,
        "time": float(comment.time) if comment.time is not None else None,
        "author_id": str(author.pk),
    }
    excerpt = _excerpt(comment.body)
    for user_id in mentioned:
        if user_id == author.pk:
            continue
        notification_create(
            user_id=user_id,
            kind=Notification.Kind.MENTION,
            message=f"{author.display_name} mentioned you in “{project.name}”: {excerpt}",
            project_id=project.pk,
            data=data,
            email=True,
        )
    if comment.parent_id is not None:
        thread = Comment.objects.filter(pk=comment.parent_id) | Comment.objects.filter(
            parent_id=comment.parent_id
        )
        audience = set(thread.values_list("author_id", flat=True))
        verb = "replied"
    else:
        audience = {project.owner_id}
        verb = "commented"
    for user_id in audience - {author.pk, *mentioned}:
        # A participant who has since left the project hears nothing more of it.
        if (
            user_id != project.owner_id
            and not ProjectMember.objects.filter(project=project, user_id=user_id).exists()
        ):
            continue
        notification_create(
            user_id=user_id,
            kind=Notification.Kind.COMMENT,
            message=f"{author.display_name} {verb} on “{project.name}”: {excerpt}",
            project_id=project.pk,
            data=data,
        )


def comment_update(
    *, comment: Comment, by: Any, body: str = _UNSET, resolved: bool = _UNSET
) -> Comment:
    """The author edits the body; resolving (checked by the view: editor+) applies to a
    thread, so only to its first comment."""
    changed: list[str] = []
    if body is not _UNSET:
        if comment.author_id != by.pk:
            raise PermissionDenied("Only the author of a comment can edit what it says.")
        comment.body = _clean_body(body)
        changed.append("body")
    if resolved is not _UNSET and resolved != comment.resolved:
        if comment.parent_id is not None:
            raise ServiceError(
                "Resolve the thread's first comment; a reply is resolved with its thread.",
                {"field": "resolved", "thread_id": str(comment.parent_id)},
            )
        comment.resolved = resolved
        comment.resolved_by = by if resolved else None
        comment.resolved_at = timezone.now() if resolved else None
        changed += ["resolved", "resolved_by", "resolved_at"]
    if changed:
        with transaction.atomic():
            comment.save(update_fields=[*changed, "updated_at"])
            broadcast(
                messages.comment_updated(comment=comment_data(comment)),
                [project_group(comment.project_id)],
            )
    return comment


def comment_delete(*, comment: Comment, by: Any, role: Role) -> None:
    """The author or the project's owner deletes a comment (a thread goes with its replies)."""
    if comment.author_id != by.pk and role != Role.OWNER:
        raise PermissionDenied("Only the author of a comment or the project's owner can delete it.")
    with transaction.atomic():
        project_id, comment_id = comment.project_id, comment.pk
        comment.delete()
        broadcast(
            messages.comment_deleted(project_id=project_id, comment_id=comment_id),
            [project_group(project_id)],
        )
