"""Writes of the timeline: replace it whole, create, edit or delete one segment, restore a
version, keep the duration true, and keep every version in history.

Every write locks the project row first (SELECT … FOR UPDATE on PostgreSQL). That serialises
writers of one timeline, so each operation is checked against the timeline exactly as it is
when its turn comes, gets the next version (no gaps, no duplicates), and keeps
`Project.total_duration` equal to the end of the last segment. Single-segment operations
re-read their segment under the lock and change only the fields they were given: edits of
different segments never cancel each other, and on one segment the last writer wins per field.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NoReturn

from django.db import transaction
from django.utils import timezone

from clips.models import Clip
from common.errors import ErrorCode, ServiceError
from projects.models import Project
from projects.templates import project_fit
from realtime import messages
from realtime.broadcast import broadcast, project_group
from timeline import changes, rules
from timeline.captions import Cue
from timeline.changes import SEGMENT_FIELDS, segment_json
from timeline.limits import max_segments, segment_count_check, segment_end_check
from timeline.models import (
    MEDIA_LAYERS,
    TEXT_LAYERS,
    DeletedSegment,
    TimelineChange,
    TimelineSegment,
)
from timeline.selectors import timeline_at_version, timeline_end, timeline_segments

# Clip durations come from a probe rounded to milliseconds; forgive one millisecond of drift.
CLIP_END_TOLERANCE = Decimal("0.001")

# Clips whose media cannot be placed on a timeline, whatever their probed duration.
UNUSABLE_CLIP_STATUSES = (Clip.Status.UPLOADING, Clip.Status.FAILED)

# A full segment list is stored with every SNAPSHOT_EVERY-th version (and with every
# whole-timeline change), so rebuilding any version replays fewer ops than this.
SNAPSHOT_EVERY = 100

GONE_MESSAGE = "This segment was deleted in the meantime. Reload the timeline."


VIDEO = TimelineSegment.Layer.VIDEO
AUDIO = TimelineSegment.Layer.AUDIO
CAPTION = TimelineSegment.Layer.CAPTION


@dataclass
class _Placed:
    """A segment as it will be saved, with where it came from for error messages."""

    label: str
    details: dict[str, Any]
    segment: TimelineSegment
    # The fields the request gave: checked strictly. Others are kept values, adapted to the
    # edit when it makes them impossible (timeline/rules.py).
    sent: frozenset[str] = frozenset()

    @property
    def end(self) -> Decimal:
        return self.segment.start_time + self.segment.duration


@dataclass
class _Change:
    """What one version did: its history row and its `timeline:op` broadcast."""

    kind: str
    summary: str
    op: messages.TimelineOp
    segment: TimelineSegment | None = None
    segment_id: uuid.UUID | None = None
    # The whole list (replace, restore, clip removed): broadcast, and stored as a snapshot.
    segments: list[dict[str, Any]] | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # Where the timeline now ends, when the operation can tell without reading every segment.
    end: Decimal | None = None


def _error(
    placed_details: dict[str, Any],
    field: str,
    label: str,
    text: str,
    *,
    code: str | None = None,
    **extra: Any,
) -> NoReturn:
    raise ServiceError(f"{label}: {text}", {**placed_details, "field": field, **extra}, code=code)


def _check_limits(placed: _Placed) -> None:
    segment = placed.segment
    segment_end_check(
        start_time=segment.start_time,
        duration=segment.duration,
        label=placed.label,
        details=placed.details,
    )


def _is_still(clip: Clip) -> bool:
    """A still image: a ready clip without a duration (its segments may be of any length)."""
    return clip.duration is None and clip.status == Clip.Status.READY


def _check_clip(
    placed: _Placed, clips: Mapping[uuid.UUID, Clip], *, bounds_code: str | None = None
) -> Clip:
    """The segment's clip is in the project, usable, has sound if the segment is on the audio
    layer, and the segment lies inside it (a still image has no end).

    `bounds_code` is CONFLICT for an edit of an existing segment: whether a trim leaves its
    clip depends on the fields someone else may just have changed.
    """
    segment = placed.segment
    clip = clips.get(segment.clip_id) if segment.clip_id is not None else None
    if clip is None:
        # The same answer for a missing clip and another user's clip: never leak existence.
        _error(
            placed.details,
            "clip_id",
            placed.label,
            "the clip is not in this project's library. Add it to the project first.",
        )
    still = _is_still(clip)
    if clip.status in UNUSABLE_CLIP_STATUSES or (clip.duration is None and not still):
        reason = (
            "its processing failed; retry it or choose another clip."
            if clip.status == Clip.Status.FAILED
            else "its length is not known yet; wait until it is ready."
        )
        _error(placed.details, "clip_id", placed.label, f"the clip cannot be used because {reason}")
    if segment.layer == AUDIO and (still or (clip.metadata or {}).get("has_audio") is False):
        _error(
            placed.details,
            "layer",
            placed.label,
            f"the clip '{clip.name}' has no sound, so it cannot go on the audio layer. "
            "Put it on the video layer, or choose a clip with sound.",
        )
    if clip.duration is not None and (
        segment.source_start + segment.duration > clip.duration + CLIP_END_TOLERANCE
    ):
        _error(
            placed.details,
            "duration",
            placed.label,
            f"source_start + duration ({segment.source_start + segment.duration} s) goes past "
            f"the end of the clip ({clip.duration} s). Shorten the segment or start it earlier.",
            code=bounds_code,
            clip_duration=clip.duration,
        )
    return clip


_NOT_SENT: Any = object()


def _settle(
    item: _Placed,
    *,
    text_given: Any = _NOT_SENT,
    text_base: Mapping[str, Any] | None = None,
) -> None:
    """Apply the per-segment rules of timeline/rules.py to a segment about to be saved: refuse
    a sent value that breaks one, adapt a kept value that the edit made impossible.

    `text_given` is the `text` the request sent (partial: its keys go over `text_base`, the
    stored text, over the layer's defaults).
    """
    segment = item.segment
    sent = item.sent

    def refuse(field: str, text: str, **extra: Any) -> NoReturn:
        _error(item.details, field, item.label, text, **extra)

    try:
        if segment.layer not in TimelineSegment.Layer.values:
            refuse("layer", f"layer must be one of {', '.join(TimelineSegment.Layer.values)}.")
        if segment.layer in MEDIA_LAYERS:
            if segment.clip_id is None:
                refuse("clip_id", f"a {segment.layer} segment needs a clip: give clip_id.")
            if text_given is not _NOT_SENT and text_given is not None:
                refuse(
                    "text",
                    f"only text and caption segments carry text; a {segment.layer} segment's "
                    "text is null.",
                )
            segment.text = None
        else:
            if "clip_id" in sent and segment.clip_id is not None:
                refuse("clip_id", f"{segment.layer} segments have no clip; leave clip_id out.")
            segment.clip = None
            if "source_start" in sent and segment.source_start != 0:
                refuse("source_start", f"{segment.layer} segments have no source: leave it 0.")
            segment.source_start = Decimal(0)
            given = None if text_given is _NOT_SENT else text_given
            segment.text = rules.text_style(given, layer=segment.layer, base=text_base)
        if segment.fit not in TimelineSegment.Fit.values:
            refuse("fit", f"fit must be one of {', '.join(TimelineSegment.Fit.values)}.")
        segment.volume = rules.volume(segment.volume)
        if segment.layer in TEXT_LAYERS and segment.volume != rules.DEFAULT_VOLUME:
            if "volume" in sent:
                refuse("volume", "text has no sound: leave volume at 1.")
            segment.volume = rules.DEFAULT_VOLUME
        if segment.duck and segment.layer != AUDIO:
            if "duck" in sent:
                refuse("duck", "only audio segments duck under the video's sound.")
            segment.duck = False
        if segment.transition is not None and segment.layer != VIDEO:
            if "transition" in sent:
                refuse("transition", "only video segments have a transition; leave it null.")
            segment.transition = None
        segment.transition = rules.transition(segment.transition)
        fade_in = rules.seconds(segment.fade_in, "fade_in")
        fade_out = rules.seconds(segment.fade_out, "fade_out")
        for name, value in (("fade_in", fade_in), ("fade_out", fade_out)):
            if value < 0:
                refuse(name, f"{name} must be 0 seconds or more.")
        if fade_in + fade_out > segment.duration:
            fades_sent = [name for name in ("fade_in", "fade_out") if name in sent]
            if fades_sent:
                refuse(
                    fades_sent[0],
                    f"fade_in + fade_out ({fade_in + fade_out} s) is longer than the segment "
                    f"({segment.duration} s). Shorten the fades.",
                )
            fade_in, fade_out = rules.fades_fitted(fade_in, fade_out, segment.duration)
        segment.fade_in, segment.fade_out = fade_in, fade_out
    except rules.RuleError as exc:
        refuse(exc.field, exc.text, **exc.details)


def _default_name(segment: TimelineSegment, clip: Clip | None) -> None:
    if segment.name:
        return
    if clip is not None:
        segment.name = clip.name
    elif segment.text is not None:
        segment.name = rules.text_name(segment.layer, segment.text)


def _fit_transition(item: _Placed, previous: TimelineSegment | None) -> bool:
    """Check the segment's transition against the video segment before it (None: no video
    segment ends exactly where this one starts). A sent transition that does not fit is
    refused; a kept one is shortened or removed. True if the transition was changed."""
    segment = item.segment
    transition = segment.transition
    if transition is None:
        return False
    sent = "transition" in item.sent
    if previous is None:
        if sent:
            _error(
                item.details,
                "transition",
                item.label,
                "a transition needs a video segment that ends exactly where this one starts "
                f"({changes.clock(segment.start_time)}), and none does. Place the segments "
                "end to end, or leave transition null.",
            )
        segment.transition = None
        return True
    limit = rules.transition_limit(previous.duration, segment.duration)
    if rules.transition_duration(transition) > limit:
        if sent:
            _error(
                item.details,
                "transition.duration",
                item.label,
                f"the transition ({rules.transition_duration(transition)} s) is longer than the "
                f"shorter of the two segments it joins ({limit} s). Make it at most {limit} s.",
                max_duration=limit,
            )
        segment.transition = {**transition, "duration": float(limit)}
        return True
    return False


def _settle_transitions(placed: Iterable[_Placed]) -> None:
    """Every transition of a whole segment list (video segments already do not overlap)."""
    video = [p for p in placed if p.segment.layer == VIDEO]
    ending_at = {p.end: p.segment for p in video}
    for item in video:
        _fit_transition(item, ending_at.get(item.segment.start_time))


def _previous_video(project: Project, segment: TimelineSegment) -> TimelineSegment | None:
    """The video segment that ends exactly where `segment` starts, or None. Video segments do
    not overlap, so only the last one starting before it can (segment_project_layer_idx)."""
    before = (
        TimelineSegment.objects.filter(
            project=project, layer=VIDEO, start_time__lt=segment.start_time
        )
        .exclude(pk=segment.pk)
        .order_by("-start_time")
        .first()
    )
    return before if before is not None and before.end_time == segment.start_time else None


def _overlap_text(label: str, start: Decimal, end: Decimal) -> str:
    return (
        f"it overlaps the video segment {label} ({start} s to {end} s). "
        "Move it so video segments do not overlap, or put it on the audio layer."
    )


def _check_no_video_overlap(placed: Iterable[_Placed]) -> None:
    """Video segments of a whole list must not overlap; touching (end == next start) is fine.

    The error names the later of two overlapping segments.
    """
    video = sorted(
        (p for p in placed if p.segment.layer == TimelineSegment.Layer.VIDEO),
        key=lambda p: (p.segment.start_time, p.end),
    )
    for before, after in itertools.pairwise(video):
        if after.segment.start_time < before.end:
            _error(
                after.details,
                "start_time",
                after.label,
                _overlap_text(before.label, before.segment.start_time, before.end),
                overlaps=before.details,
            )


def _check_fits(item: _Placed, project: Project) -> None:
    """One video segment must not overlap the project's other video segments (409: it fitted
    the timeline the client saw, not the one it arrived at)."""
    segment = item.segment
    if segment.layer != TimelineSegment.Layer.VIDEO:
        return
    end = segment.start_time + segment.duration
    # One range read on segment_project_layer_idx, the end compared here: SQLite would add
    # start_time + duration as floating point (0.1 + 0.2 > 0.3) and see touching as overlap.
    # Video segments do not overlap each other, so only the last one starting before this one
    # ends can overlap it, if any does.
    other = (
        TimelineSegment.objects.filter(project=project, layer=VIDEO, start_time__lt=end)
        .exclude(pk=segment.pk)
        .order_by("-start_time")
        .first()
    )
    if other is not None and other.end_time <= segment.start_time:
        other = None
    if other is not None:
        _error(
            item.details,
            "start_time",
            item.label,
            _overlap_text(f"'{other.name}'", other.start_time, other.end_time),
            code=ErrorCode.CONFLICT,
            overlaps={"segment_id": other.pk},
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


def _gone(project: Project) -> NoReturn:
    raise ServiceError(
        GONE_MESSAGE,
        {"segment": None, "current_version": project.timeline_version},
        code=ErrorCode.CONFLICT,
    )


def _user_id(by: Any) -> Any:
    return getattr(by, "pk", by)


def _bury(project: Project, segment_ids: Iterable[uuid.UUID]) -> None:
    """Remember deleted segment ids, so a late edit of one answers 409 rather than 404."""
    now = timezone.now()
    DeletedSegment.objects.bulk_create(
        [
            DeletedSegment(
                id=segment_id, project=project, version=project.timeline_version, deleted_at=now
            )
            for segment_id in segment_ids
        ],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["project", "version", "deleted_at"],
        batch_size=500,
    )


def _commit_version(project: Project, *, by: Any, change: _Change) -> None:
    """Bump the version, store the new duration, keep the change in history and tell everyone
    watching the project (after commit)."""
    project.timeline_version += 1
    project.total_duration = (
        change.end if change.end is not None else timeline_end(project_id=project.pk)
    )
    project.save(update_fields=["timeline_version", "total_duration", "updated_at"])

    segment = segment_json(change.segment) if change.segment is not None else None
    data = dict(change.data)
    if change.op in ("create", "update"):
        data["segment"] = segment
    elif change.op == "delete":
        data["segment_id"] = str(change.segment_id)
    snapshot = change.segments
    if snapshot is None and project.timeline_version % SNAPSHOT_EVERY == 0:
        snapshot = [segment_json(s) for s in timeline_segments(project_id=project.pk)]
    by_id = _user_id(by)
    TimelineChange.objects.create(
        project=project,
        version=project.timeline_version,
        by_id=by_id,
        kind=change.kind,
        summary=change.summary[:255],
        data=data,
        snapshot=snapshot,
    )
    broadcast(
        messages.timeline_updated(
            project_id=project.pk, version=project.timeline_version, by=by_id
        ),
        [project_group(project.pk)],
    )
    broadcast(
        messages.timeline_op(
            project_id=project.pk,
            version=project.timeline_version,
            by=by_id,
            op=change.op,
            segment=segment,
            segment_id=change.segment_id,
            segments=change.segments,
        ),
        [project_group(project.pk)],
    )


def _end_after(
    project: Project, *, old: tuple[Decimal, Decimal] | None, new: tuple[Decimal, Decimal] | None
) -> Decimal | None:
    """The timeline's end after one segment went from `old` to `new` (start, duration), from
    the stored end alone when that decides it; None when only reading every segment can."""
    total = project.total_duration
    new_end = new[0] + new[1] if new is not None else None
    if new_end is not None and new_end >= total:
        return new_end
    old_end = old[0] + old[1] if old is not None else Decimal("-1")
    if old_end < total:
        # This segment did not end the timeline, and another one still does.
        return total
    return None


def _project_clips(project: Project, clip_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, Clip]:
    wanted = {clip_id for clip_id in clip_ids if clip_id is not None}
    return {clip.pk: clip for clip in Clip.objects.filter(project=project, pk__in=wanted)}


def _write_list(
    project: Project, placed: list[_Placed], existing: Mapping[uuid.UUID, TimelineSegment]
) -> tuple[list[dict[str, Any]], set[uuid.UUID]]:
    """Make the timeline exactly `placed` (already validated). Returns the new list as JSON, in
    timeline order, and the ids of the segments that went."""
    keep = {p.segment.pk for p in placed if p.segment.pk in existing}
    removed = set(existing) - keep
    TimelineSegment.objects.filter(project=project, pk__in=removed).delete()
    now = timezone.now()
    updates = [p.segment for p in placed if p.segment.pk in keep]
    for segment in updates:
        segment.updated_at = now
    TimelineSegment.objects.bulk_update(updates, [*SEGMENT_FIELDS, "updated_at"], batch_size=500)
    created = [p.segment for p in placed if p.segment.pk not in keep]
    TimelineSegment.objects.bulk_create(created, batch_size=500)
    # A restored segment comes back with its old id: it is no longer deleted.
    DeletedSegment.objects.filter(pk__in=[s.pk for s in created]).delete()
    return changes.ordered(segment_json(p.segment) for p in placed), removed


def _adapt_neighbours(
    project: Project, *, user: Any, ends: Iterable[Decimal], exclude: uuid.UUID
) -> None:
    """After a video segment moved, shrank, left the layer or went: the transitions of the
    video segments starting where it ended may have lost their previous segment or become too
    long. Each one adapted is a version of its own (an `update` of that segment)."""
    ends = set(ends)
    if not ends:
        return
    starting = (
        TimelineSegment.objects.filter(
            project=project, layer=VIDEO, start_time__in=ends, transition__isnull=False
        )
        .exclude(pk=exclude)
        .order_by("start_time")
    )
    for segment in starting:
        item = _Placed(label="A following segment", details={}, segment=segment)
        if not _fit_transition(item, _previous_video(project, segment)):
            continue
        segment.save(update_fields=["transition", "updated_at"])
        _commit_version(
            project,
            by=user,
            change=_Change(
                kind=TimelineChange.Kind.UPDATE,
                summary=changes.summary_transition_adapted(segment),
                op="update",
                segment=segment,
                end=project.total_duration,
            ),
        )


def timeline_replace(
    *, project: Project, user: Any, version: int, segments: list[dict[str, Any]]
) -> Project:
    """Replace the project's whole timeline with `segments`, if nobody saved since `version`.

    A segment that names the id of one of this timeline's segments keeps that id, and keeps
    the stored value of every field it leaves out (so a client that does not know a field
    does not reset it); any other segment gets a new id and the defaults. Nothing is saved
    unless every segment is valid.
    """
    segment_count_check(len(segments))
    with transaction.atomic():
        locked = _lock_project(project, version)
        existing = {s.pk: s for s in TimelineSegment.objects.filter(project=locked)}
        clips = _project_clips(locked, (data.get("clip_id") for data in segments))
        fit = project_fit(locked.settings)

        placed: list[_Placed] = []
        kept: set[uuid.UUID] = set()
        for index, data in enumerate(segments):
            segment_id = data.get("id")
            stored_text = None
            if segment_id in existing and segment_id not in kept:
                kept.add(segment_id)
                segment = existing[segment_id]
                stored_text = segment.text
            else:
                segment = TimelineSegment(project=locked, fit=fit)
            for name in SEGMENT_FIELDS:
                if name in data and name != "text":
                    setattr(segment, name, data[name])
            item = _Placed(
                label=f"segments[{index}]",
                details={"segment": index},
                segment=segment,
                sent=frozenset(data),
            )
            _settle(
                item,
                text_given=data.get("text", _NOT_SENT),
                text_base=None if "text" in data else stored_text,
            )
            _check_limits(item)
            clip = _check_clip(item, clips) if segment.layer in MEDIA_LAYERS else None
            _default_name(segment, clip)
            placed.append(item)
        _check_no_video_overlap(placed)
        _settle_transitions(placed)

        listed, removed = _write_list(locked, placed, existing)
        change = _Change(
            kind=TimelineChange.Kind.REPLACE,
            summary=changes.summary_replace(len(placed)),
            op="replace",
            segments=listed,
        )
        _commit_version(locked, by=user, change=change)
        _bury(locked, removed)
    return locked


def segment_create(*, project: Project, user: Any, **fields: Any) -> TimelineSegment:
    """Add one segment to the timeline as it is now; 409 if it would overlap a video segment."""
    unknown = set(fields) - set(SEGMENT_FIELDS)
    if unknown:
        raise ServiceError(f"These segment fields cannot be set: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        locked = _lock_project(project, None)
        segment_count_check(TimelineSegment.objects.filter(project=locked).count() + 1)
        values = {name: value for name, value in fields.items() if name != "text"}
        segment = TimelineSegment(project=locked, **{"fit": project_fit(locked.settings), **values})
        item = _Placed(
            label="This segment",
            details={"segment": None},
            segment=segment,
            sent=frozenset(fields),
        )
        _settle(item, text_given=fields.get("text", _NOT_SENT))
        _check_limits(item)
        clip = (
            _check_clip(item, _project_clips(locked, [segment.clip_id]))
            if segment.layer in MEDIA_LAYERS
            else None
        )
        _default_name(segment, clip)
        _check_fits(item, locked)
        if segment.transition is not None:
            _fit_transition(item, _previous_video(locked, segment))
        segment.save(force_insert=True)
        change = _Change(
            kind=TimelineChange.Kind.CREATE,
            summary=changes.summary_create(segment),
            op="create",
            segment=segment,
            end=_end_after(locked, old=None, new=(segment.start_time, segment.duration)),
        )
        _commit_version(locked, by=user, change=change)
    segment.project = locked
    return segment


def segment_update(
    *, segment: TimelineSegment, user: Any, version: int | None = None, **fields: Any
) -> TimelineSegment:
    """Change some of one segment's fields (only those given), with the same rules as a
    whole-timeline save. 409 if the segment is gone or the change no longer fits.

    A `text` given here is partial: its keys replace those of the stored text. If the edit
    moves, shortens or removes a video segment, the transitions into the segments that
    started where it ended are adapted, each as a version of its own after this one.
    """
    unknown = set(fields) - set(SEGMENT_FIELDS)
    if unknown:
        raise ServiceError(f"These segment fields cannot be changed: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        locked = _lock_project(segment.project, version)
        # Re-read under the project lock: another editor may have changed or deleted it since
        # the caller read it, and the fields not sent must keep their newest values.
        current = (
            TimelineSegment.objects.select_related("clip")
            .filter(pk=segment.pk, project=locked)
            .first()
        )
        if current is None:
            _gone(locked)
        before = {name: getattr(current, name) for name in SEGMENT_FIELDS}
        stored_clip = current.clip
        details = {"segment": segment_json(current), "current_version": locked.timeline_version}
        for name, value in fields.items():
            if name != "text":
                setattr(current, name, value)
        item = _Placed(
            label="This segment", details=details, segment=current, sent=frozenset(fields)
        )
        _settle(item, text_given=fields.get("text", _NOT_SENT), text_base=before["text"])
        changed = {name for name in SEGMENT_FIELDS if getattr(current, name) != before[name]}
        if "clip_id" in changed and "name" not in fields:
            current.name = ""
        if changed & {"start_time", "duration"}:
            _check_limits(item)
        clip = stored_clip
        # A segment already lies inside its clip: check again only what this edit changes.
        if current.layer in MEDIA_LAYERS and (
            changed & {"clip_id", "source_start", "duration", "layer"}
        ):
            clips = (
                _project_clips(locked, [current.clip_id])
                if "clip_id" in changed or clip is None
                else {clip.pk: clip}
            )
            clip = _check_clip(item, clips, bounds_code=ErrorCode.CONFLICT)
        _default_name(current, clip if current.layer in MEDIA_LAYERS else None)
        if changed & {"layer", "start_time", "duration"}:
            _check_fits(item, locked)
        if current.transition is not None and (
            changed & {"layer", "start_time", "duration", "transition"}
        ):
            _fit_transition(item, _previous_video(locked, current))
        current.save(update_fields=[*SEGMENT_FIELDS, "updated_at"])
        clip_names = {clip.pk: clip.name} if clip is not None else {}
        change = _Change(
            kind=TimelineChange.Kind.UPDATE,
            summary=changes.summary_update(before, current, clip_names),
            op="update",
            segment=current,
            end=_end_after(
                locked,
                old=(before["start_time"], before["duration"]),
                new=(current.start_time, current.duration),
            ),
        )
        _commit_version(locked, by=user, change=change)
        if before["layer"] == VIDEO and changed & {"layer", "start_time", "duration"}:
            ends = {before["start_time"] + before["duration"]}
            if current.layer == VIDEO:
                ends.add(current.end_time)
            _adapt_neighbours(locked, user=user, ends=ends, exclude=current.pk)
    current.project = locked
    return current


def segment_delete(*, segment: TimelineSegment, user: Any, version: int | None = None) -> None:
    """Delete one segment; 409 if someone deleted it first."""
    with transaction.atomic():
        locked = _lock_project(segment.project, version)
        current = TimelineSegment.objects.filter(pk=segment.pk, project=locked).first()
        if current is None:
            _gone(locked)
        segment_id = current.pk
        summary = changes.summary_delete(current)
        end = _end_after(locked, old=(current.start_time, current.duration), new=None)
        current.delete()
        change = _Change(
            kind=TimelineChange.Kind.DELETE,
            summary=summary,
            op="delete",
            segment_id=segment_id,
            end=end,
        )
        _commit_version(locked, by=user, change=change)
        _bury(locked, [segment_id])
        if current.layer == VIDEO:
            _adapt_neighbours(
                locked, user=user, ends=[current.start_time + current.duration], exclude=segment_id
            )


def timeline_restore(*, project: Project, user: Any, version: int) -> Project:
    """Make the timeline what it was at `version`, as a new version.

    Segments keep their ids (deleted ones come back under their old id). Segments whose clip
    has since been deleted are left out, and the summary says how many: a restore must stay
    possible after a clip is gone, and their media no longer exists to show. A transition
    into a segment left out is removed.
    """
    with transaction.atomic():
        locked = _lock_project(project, None)
        state = timeline_at_version(project=locked, version=version)
        if state is None:
            raise ServiceError(
                f"Version {version} is not in this timeline's history. "
                "Choose a version from the history list.",
                {"field": "version", "current_version": locked.timeline_version},
            )
        clips = _project_clips(
            locked, (uuid.UUID(s["clip_id"]) for s in state if s.get("clip_id") is not None)
        )
        existing = {s.pk: s for s in TimelineSegment.objects.filter(project=locked)}
        fit = project_fit(locked.settings)
        placed: list[_Placed] = []
        dropped = 0
        for index, data in enumerate(state):
            values = changes.segment_fields_from_json(data)
            if values.get("clip_id") is not None and values["clip_id"] not in clips:
                dropped += 1
                continue
            segment_id = uuid.UUID(data["id"])
            segment = existing.get(segment_id) or TimelineSegment(
                id=segment_id, project=locked, fit=fit
            )
            text_base = values.pop("text", None) or segment.text
            for name, value in values.items():
                setattr(segment, name, value)
            item = _Placed(label=f"segments[{index}]", details={"segment": index}, segment=segment)
            _settle(item, text_base=text_base)
            if segment.layer in MEDIA_LAYERS:
                _check_clip(item, clips)
            placed.append(item)
        _check_no_video_overlap(placed)
        _settle_transitions(placed)

        listed, removed = _write_list(locked, placed, existing)
        change = _Change(
            kind=TimelineChange.Kind.RESTORE,
            summary=changes.summary_restore(version, dropped),
            op="replace",
            segments=listed,
            data={"restored": version, "dropped": dropped},
        )
        _commit_version(locked, by=user, change=change)
        _bury(locked, removed)
    return locked


def timeline_recompute(*, project: Project, by: Any = None) -> Decimal:
    """The timeline changed under the editors (segments vanished with a deleted clip): bump
    the version, make `total_duration` true again and tell every open editor the new list."""
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        # Transitions into the segments that followed a vanished one lose their cut.
        video = list(timeline_segments(project_id=locked.pk).filter(layer=VIDEO))
        ending_at = {s.end_time: s for s in video}
        for segment in video:
            item = _Placed(label="", details={}, segment=segment)
            if _fit_transition(item, ending_at.get(segment.start_time)):
                segment.save(update_fields=["transition", "updated_at"])
        change = _Change(
            kind=TimelineChange.Kind.CLIP_REMOVED,
            summary=changes.summary_clip_removed(),
            op="replace",
            segments=[segment_json(s) for s in timeline_segments(project_id=locked.pk)],
        )
        _commit_version(locked, by=by, change=change)
    project.total_duration = locked.total_duration
    project.timeline_version = locked.timeline_version
    return locked.total_duration


def clip_segments_delete(*, clip: Clip, by: Any = None) -> None:
    """Before a clip is deleted (clips' delete hook, in its transaction): its segments go, and
    if it had any, the timeline changed under the editors."""
    deleted, _ = TimelineSegment.objects.filter(clip=clip).delete()
    if deleted:
        timeline_recompute(project=clip.project, by=by)


def captions_import(
    *, project: Project, user: Any, cues: list[Cue], filename: str = "", version: int | None = None
) -> Project:
    """Make `cues` the project's caption layer, as one version: every caption segment there was
    goes, one caption segment per cue comes. The new captions take the look (font, size,
    colours, place) of the first caption there was, else the caption defaults; a cue's own
    WebVTT settings (align, position, line) go over that."""
    with transaction.atomic():
        locked = _lock_project(project, version)
        existing = list(
            TimelineSegment.objects.filter(project=locked, layer=CAPTION).order_by("start_time")
        )
        others = TimelineSegment.objects.filter(project=locked).exclude(layer=CAPTION).count()
        limit = max_segments()
        if others + len(cues) > limit:
            raise ServiceError(
                f"These subtitles have {len(cues)} cues, and with the other {others} segments the "
                f"timeline would hold more than {limit}. Split the file or remove "
                "segments first.",
                {"cues": len(cues), "max_segments": limit},
            )
        look = dict(existing[0].text or {}) if existing else {}
        look.pop("content", None)
        fit = project_fit(locked.settings)
        placed: list[_Placed] = []
        for number, cue in enumerate(cues, start=1):
            segment = TimelineSegment(
                project=locked,
                layer=CAPTION,
                start_time=cue.start,
                duration=cue.end - cue.start,
                fit=fit,
            )
            where = f"line {cue.line}" if cue.line else f"cue {number}"
            item = _Placed(
                label=f"The cue at {where}",
                details={"cue": number, "line": cue.line},
                segment=segment,
                sent=frozenset({"text"}),
            )
            _settle(item, text_given={**cue.style, "content": cue.content}, text_base=look)
            _check_limits(item)
            _default_name(segment, None)
            placed.append(item)
        removed = [segment.pk for segment in existing]
        TimelineSegment.objects.filter(pk__in=removed).delete()
        TimelineSegment.objects.bulk_create([item.segment for item in placed], batch_size=500)
        change = _Change(
            kind=TimelineChange.Kind.REPLACE,
            summary=changes.summary_captions(len(placed), filename),
            op="replace",
            segments=[segment_json(s) for s in timeline_segments(project_id=locked.pk)],
        )
        _commit_version(locked, by=user, change=change)
        _bury(locked, removed)
    return locked
