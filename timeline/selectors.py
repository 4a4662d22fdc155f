"""Reads of timeline segments, reached through their project's access rule (projects.selectors)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from projects.models import Project, Role
from projects.selectors import require_project_role
from timeline.models import TimelineSegment


def get_segment_for_user(user: Any, segment_id: uuid.UUID | str, *, role: Role) -> TimelineSegment:
    """The segment if `user` holds at least `role` in its project (projects.selectors)."""
    try:
        segment = TimelineSegment.objects.select_related("project", "clip").get(pk=segment_id)
    except (TimelineSegment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such segment.") from exc
    try:
        require_project_role(user, segment.project, role)
    except Http404 as exc:
        raise Http404("No such segment.") from exc
    return segment


@dataclass(frozen=True)
class Timeline:
    project_id: uuid.UUID
    version: int
    duration: Decimal
    segments: list[TimelineSegment]


def timeline_segments(*, project_id: uuid.UUID) -> QuerySet[TimelineSegment]:
    return TimelineSegment.objects.filter(project_id=project_id).order_by(
        "start_time", "layer", "id"
    )


def timeline_get(*, project: Project) -> Timeline:
    return Timeline(
        project_id=project.pk,
        version=project.timeline_version,
        duration=project.total_duration,
        segments=list(timeline_segments(project_id=project.pk)),
    )


def timeline_end(*, project_id: uuid.UUID) -> Decimal:
    """Where the timeline ends: the end of its last segment on any layer, or 0."""
    ends = [
        start + duration
        for start, duration in TimelineSegment.objects.filter(project_id=project_id).values_list(
            "start_time", "duration"
        )
    ]
    return max(ends, default=Decimal("0"))
