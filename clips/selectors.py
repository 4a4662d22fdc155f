"""Reads of clips and uploads: reached through their project's access rule (projects.selectors)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.http import Http404

from clips.models import Clip, UploadChunk, UploadSession
from projects.models import Project, Role
from projects.selectors import require_project_role


def get_clip_for_user(
    user: Any, clip_id: uuid.UUID | str, *, role: Role, for_update: bool = False
) -> Clip:
    """The clip if `user` holds at least `role` in its project (404 for a non-member, 403 for
    too low a role: projects.selectors.require_project_role)."""
    queryset = Clip.objects.select_related("project")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        clip = queryset.get(pk=clip_id)
    except (Clip.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such clip.") from exc
    _require(user, clip.project, role, "No such clip.")
    return clip


def get_upload_for_user(
    user: Any, upload_id: uuid.UUID | str, *, role: Role, for_update: bool = False
) -> UploadSession:
    """The upload if `user` holds at least `role` in its clip's project."""
    queryset = UploadSession.objects.select_related("clip", "clip__project")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        upload = queryset.get(pk=upload_id)
    except (UploadSession.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such upload.") from exc
    _require(user, upload.clip.project, role, "No such upload.")
    return upload


def _require(user: Any, project: Project, role: Role, not_found: str) -> None:
    try:
        require_project_role(user, project, role)
    except Http404 as exc:
        raise Http404(not_found) from exc


def clips_for_project(project: Any) -> QuerySet[Clip]:
    """A project's clip library, oldest first, with what the list serializer reads."""
    return Clip.objects.filter(project=project).select_related("upload").order_by("created_at")


@dataclass(frozen=True)
class UploadProgress:
    received_chunks: int
    received_bytes: int


def upload_progress(*, upload: UploadSession) -> UploadProgress:
    totals = UploadChunk.objects.filter(upload=upload).aggregate(
        chunks=Count("pk"), size=Sum("size")
    )
    return UploadProgress(received_chunks=totals["chunks"], received_bytes=totals["size"] or 0)


def upload_missing_chunks(*, upload: UploadSession) -> list[int]:
    received = set(UploadChunk.objects.filter(upload=upload).values_list("index", flat=True))
    return [index for index in range(upload.total_chunks) if index not in received]
