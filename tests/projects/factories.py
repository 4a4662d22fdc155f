"""Rows the project and timeline specs start from, created the way the services would leave them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from clips.models import Clip
from projects.models import Project


def make_project(owner: Any, name: str = "Summer trip", **extra: Any) -> Project:
    return Project.objects.create(owner=owner, name=name, **extra)


def make_clip(
    project: Project,
    name: str = "beach.mp4",
    *,
    duration: str | None = "10.000",
    status: str = Clip.Status.READY,
    file_size: int = 1_000,
) -> Clip:
    clip = Clip.objects.create(
        project=project,
        owner=project.owner,
        name=name,
        status=status,
        duration=Decimal(duration) if duration is not None else None,
        file_size=file_size,
    )
    Project.objects.filter(pk=project.pk).update(clips_count=project.clips.count())
    return clip
