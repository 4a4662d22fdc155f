"""Reads of timeline segments: visible only to the owner of the segment's project."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

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
