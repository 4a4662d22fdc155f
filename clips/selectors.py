"""Reads of clips and uploads: a clip is visible to whoever may see its project."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.http import Http404

from clips.models import Clip, UploadChunk, UploadSession
from projects.selectors import projects_visible_to


def clips_visible_to(user: Any) -> QuerySet[Clip]:
    """The clips of the projects `user` may see (the projects' one access rule)."""
    if not getattr(user, "is_authenticated", False):
        return Clip.objects.none()
    return Clip.objects.filter(project__in=projects_visible_to(user))


def get_clip_for_user(user: Any, clip_id: uuid.UUID | str, *, for_update: bool = False) -> Clip:
    queryset = clips_visible_to(user).select_related("project")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=clip_id)
    except (Clip.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such clip.") from exc


def get_upload_for_user(
    user: Any, upload_id: uuid.UUID | str, *, for_update: bool = False
) -> UploadSession:
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such upload.")
    queryset = UploadSession.objects.filter(owner=user).select_related("clip")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=upload_id)
    except (UploadSession.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such upload.") from exc


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
