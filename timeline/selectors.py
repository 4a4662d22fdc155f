"""Reads of timelines: segments, versions and their history.

Access goes through projects.selectors: a segment, a deleted segment and a history are
reached through their project's access rule (a role in it; 404 for a non-member).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, F, Max, QuerySet
from django.http import Http404

from projects.models import Project, Role
from projects.selectors import projects_visible_to, require_project_role
from projects.templates import project_fit
from timeline import changes
from timeline.captions import Cue
from timeline.models import DeletedSegment, TimelineChange, TimelineSegment


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
    end = TimelineSegment.objects.filter(project_id=project_id).aggregate(
        end=Max(
            F("start_time") + F("duration"),
            output_field=DecimalField(max_digits=12, decimal_places=3),
        )
    )["end"]
    return end if end is not None else Decimal("0")


def deleted_segment_for_user(
    user: Any, segment_id: uuid.UUID | str, *, role: Role
) -> DeletedSegment | None:
    """The record of a deleted segment of a project `user` is a member of, or None; a member
    below `role` gets RoleRequired (403), as for a segment that still exists."""
    try:
        deleted = (
            DeletedSegment.objects.filter(pk=segment_id, project__in=projects_visible_to(user))
            .select_related("project")
            .first()
        )
    except (ValueError, TypeError):
        return None
    if deleted is not None:
        require_project_role(user, deleted.project, role)
    return deleted


def timeline_history(*, project: Project) -> QuerySet[TimelineChange]:
    """A timeline's versions, newest first (timeline_change_version's index)."""
    return (
        TimelineChange.objects.filter(project=project)
        .select_related("by")
        .defer("data", "snapshot")
        .order_by("-version")
    )


def timeline_at_version(*, project: Project, version: int) -> list[dict[str, Any]] | None:
    """The segment list (as the API shows segments) of `version`, or None if that version is
    not kept: rebuilt from the latest snapshot at or before it plus the ops after it."""
    if version < 0 or version > project.timeline_version:
        return None
    base = (
        TimelineChange.objects.filter(project=project, version__lte=version, snapshot__isnull=False)
        .order_by("-version")
        .values_list("version", "snapshot")
        .first()
    )
    # Every timeline starts empty at version 0.
    start, snapshot = base if base is not None else (0, [])
    state = {segment["id"]: segment for segment in snapshot or []}
    ops = TimelineChange.objects.filter(
        project=project, version__gt=start, version__lte=version
    ).order_by("version")
    expected = start + 1
    for op_version, kind, data in ops.values_list("version", "kind", "data"):
        if op_version != expected:
            return None
        changes.apply_op(state, kind=kind, data=data)
        expected += 1
    if expected != version + 1:
        return None
    fit = project_fit(project.settings)
    return changes.ordered(changes.with_defaults(segment, fit=fit) for segment in state.values())


def caption_cues(*, project: Project) -> list[Cue]:
    """The caption layer as subtitle cues, in time order (segment_project_layer_idx)."""
    captions = TimelineSegment.objects.filter(
        project=project, layer=TimelineSegment.Layer.CAPTION
    ).order_by("start_time", "id")
    return [
        Cue(
            start=segment.start_time,
            end=segment.start_time + segment.duration,
            content=(segment.text or {}).get("content", ""),
            style={k: v for k, v in (segment.text or {}).items() if k in ("align", "x", "y")},
        )
        for segment in captions
    ]
