"""Reads of timeline segments: visible only to the owner of the segment's project."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from projects.models import Project
from timeline.models import TimelineSegment


def segments_visible_to(user: Any) -> QuerySet[TimelineSegment]:
    if not getattr(user, "is_authenticated", False):
        return TimelineSegment.objects.none()
    return TimelineSegment.objects.filter(project__owner=user)


def get_segment_for_user(user: Any, segment_id: uuid.UUID | str) -> TimelineSegment:
    try:
        return segments_visible_to(user).select_related("project", "clip").get(pk=segment_id)
    except (TimelineSegment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such segment.") from exc


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
