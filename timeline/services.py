"""Writes of the timeline: replace it whole, edit or delete one segment, keep the duration true.

Every write locks the project row first. That serialises writers of one timeline, makes the
version check (optimistic concurrency for whole-timeline saves) race-free, and keeps
`Project.total_duration` equal to the end of the last segment.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from django.db import transaction
from django.utils import timezone

from clips.models import Clip
from common.errors import ErrorCode, ServiceError
from projects.models import Project
from realtime import messages
from realtime.broadcast import broadcast, project_group
from timeline.models import TimelineSegment
from timeline.selectors import timeline_end

# Clip durations come from a probe rounded to milliseconds; forgive one millisecond of drift.
CLIP_END_TOLERANCE = Decimal("0.001")

# Clips whose media cannot be placed on a timeline, whatever their probed duration.
UNUSABLE_CLIP_STATUSES = (Clip.Status.UPLOADING, Clip.Status.FAILED)

SEGMENT_FIELDS = ("clip_id", "name", "layer", "start_time", "source_start", "duration")


@dataclass
class _Placed:
    """A segment as it will be saved, with where it came from for error messages."""

    label: str
    details: dict[str, Any]
    segment: TimelineSegment

    @property
    def end(self) -> Decimal:
        return self.segment.start_time + self.segment.duration


def _error(
    placed_details: dict[str, Any], field: str, label: str, text: str, **extra: Any
) -> NoReturn:
    raise ServiceError(f"{label}: {text}", {**placed_details, "field": field, **extra})


def _check_clip(placed: _Placed, clips: Mapping[uuid.UUID, Clip]) -> Clip:
    segment = placed.segment
    clip = clips.get(segment.clip_id)
    if clip is None:
        # The same answer for a missing clip and another user's clip: never leak existence.
        _error(
            placed.details,
            "clip_id",
            placed.label,
            "the clip is not in this project's library. Add it to the project first.",
        )
    if clip.status in UNUSABLE_CLIP_STATUSES or clip.duration is None:
        reason = (
            "its processing failed; retry it or choose another clip."
            if clip.status == Clip.Status.FAILED
            else "its length is not known yet; wait until it is ready."
        )
        _error(placed.details, "clip_id", placed.label, f"the clip cannot be used because {reason}")
    if segment.source_start + segment.duration > clip.duration + CLIP_END_TOLERANCE:
        _error(
            placed.details,
            "duration",
            placed.label,
            f"source_start + duration ({segment.source_start + segment.duration} s) goes past "
            f"the end of the clip ({clip.duration} s). Shorten the segment or start it earlier.",
            clip_duration=clip.duration,
        )
    return clip


def _check_no_video_overlap(placed: Iterable[_Placed], *, focus: _Placed | None = None) -> None:
    """Video segments must not overlap each other; touching (end == next start) is fine.

    The error names the later of two overlapping segments, or `focus` (the one being edited).
    """
    video = sorted(
        (p for p in placed if p.segment.layer == TimelineSegment.Layer.VIDEO),
        key=lambda p: (p.segment.start_time, p.end),
    )
    for before, after in itertools.pairwise(video):
        if after.segment.start_time < before.end:
            bad, other = (before, after) if before is focus else (after, before)
            _error(
                bad.details,
                "start_time",
                bad.label,
                f"it overlaps the video segment {other.label} "
                f"({other.segment.start_time} s to {other.end} s). "
                "Move it so video segments do not overlap, or put it on the audio layer.",
                overlaps=other.details,
            )


def _lock_project(project: Project, version: int | None) -> Project:
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if version is not None and version != locked.timeline_version:
        raise ServiceError(
            "Someone saved this timeline in the meantime. Reload it, then apply your changes again.",
            {"current_version": locked.timeline_version, "your_version": version},
            code=ErrorCode.CONFLICT,
        )
    return locked


def _commit_version(project: Project, *, by: Any) -> None:
    """Bump the version, store the new duration and tell everyone watching the project."""
    project.timeline_version += 1
    project.total_duration = timeline_end(project_id=project.pk)
    project.save(update_fields=["timeline_version", "total_duration", "updated_at"])
    broadcast(
        messages.timeline_updated(
            project_id=project.pk, version=project.timeline_version, by=getattr(by, "pk", by)
        ),
        [project_group(project.pk)],
    )


def _project_clips(project: Project, clip_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Clip]:
    return {clip.pk: clip for clip in Clip.objects.filter(project=project, pk__in=set(clip_ids))}


def timeline_replace(
    *, project: Project, user: Any, version: int, segments: list[dict[str, Any]]
) -> Project:
    """Replace the project's whole timeline with `segments`, if nobody saved since `version`.

    A segment that names the id of one of this timeline's segments keeps that id; any
    other segment gets a new one. Nothing is saved unless every segment is valid.
    """
    with transaction.atomic():
        locked = _lock_project(project, version)
        existing = {s.pk: s for s in TimelineSegment.objects.filter(project=locked)}
        clips = _project_clips(locked, (data["clip_id"] for data in segments))

        placed: list[_Placed] = []
        kept: set[uuid.UUID] = set()
        for index, data in enumerate(segments):
            segment_id = data.get("id")
            if segment_id in existing and segment_id not in kept:
                kept.add(segment_id)
                segment = existing[segment_id]
            else:
                segment = TimelineSegment(project=locked)
            for field in SEGMENT_FIELDS:
                if field in data:
                    setattr(segment, field, data[field])
            item = _Placed(label=f"segments[{index}]", details={"segment": index}, segment=segment)
            clip = _check_clip(item, clips)
            if not segment.name:
                segment.name = clip.name
            placed.append(item)
        _check_no_video_overlap(placed)

        TimelineSegment.objects.filter(project=locked).exclude(pk__in=kept).delete()
        now = timezone.now()
        updates = [p.segment for p in placed if p.segment.pk in kept]
        for segment in updates:
            segment.updated_at = now
        TimelineSegment.objects.bulk_update(
            updates, [*SEGMENT_FIELDS, "updated_at"], batch_size=500
        )
        TimelineSegment.objects.bulk_create(
            [p.segment for p in placed if p.segment.pk not in kept], batch_size=500
        )
        _commit_version(locked, by=user)
    return locked


def segment_update(
    *, segment: TimelineSegment, user: Any, version: int | None = None, **fields: Any
) -> TimelineSegment:
    """Change some of one segment's fields, with the same rules as a whole-timeline save."""
    unknown = set(fields) - set(SEGMENT_FIELDS)
    if unknown:
        raise ServiceError(f"These segment fields cannot be changed: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        locked = _lock_project(segment.project, version)
        try:
            # Re-read under the project lock: it may have been replaced since the caller read it.
            current = TimelineSegment.objects.get(pk=segment.pk, project=locked)
        except TimelineSegment.DoesNotExist:
            raise ServiceError(
                "This segment no longer exists; the timeline was changed. Reload it.",
                code=ErrorCode.NOT_FOUND,
            ) from None
        for field, value in fields.items():
            setattr(current, field, value)
        if "clip_id" in fields and "name" not in fields:
            current.name = ""
        item = _Placed(label="This segment", details={}, segment=current)
        clip = _check_clip(item, _project_clips(locked, [current.clip_id]))
        if not current.name:
            current.name = clip.name
        others = [
            _Placed(
                label=f"at {other.start_time} s", details={"segment_id": other.pk}, segment=other
            )
            for other in TimelineSegment.objects.filter(
                project=locked, layer=TimelineSegment.Layer.VIDEO
            ).exclude(pk=current.pk)
        ]
        _check_no_video_overlap([item, *others], focus=item)
        current.save(update_fields=[*SEGMENT_FIELDS, "updated_at"])
        _commit_version(locked, by=user)
    current.project = locked
    return current


def segment_delete(*, segment: TimelineSegment, user: Any, version: int | None = None) -> None:
    with transaction.atomic():
        locked = _lock_project(segment.project, version)
        deleted, _ = TimelineSegment.objects.filter(pk=segment.pk, project=locked).delete()
        if not deleted:
            raise ServiceError(
                "This segment no longer exists; the timeline was changed. Reload it.",
                code=ErrorCode.NOT_FOUND,
            )
        _commit_version(locked, by=user)


def timeline_recompute(*, project: Project, by: Any = None) -> Decimal:
    """The timeline changed under the editors (segments vanished with a deleted clip): bump
    the version, make `total_duration` true again and tell every open editor to reload."""
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        _commit_version(locked, by=by)
    project.total_duration = locked.total_duration
    project.timeline_version = locked.timeline_version
    return locked.total_duration


def clip_segments_delete(*, clip: Clip, by: Any = None) -> None:
    """Before a clip is deleted (clips' delete hook, in its transaction): its segments go, and
    if it had any, the timeline changed under the editors."""
    deleted, _ = TimelineSegment.objects.filter(clip=clip).delete()
    if deleted:
        timeline_recompute(project=clip.project, by=by)
