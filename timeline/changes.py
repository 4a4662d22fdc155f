"""Segments as JSON (for history rows, broadcasts and conflict details) and change summaries.

Pure functions, no database: the services decide what changed, these say it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from timeline.models import TimelineSegment

# The fields a segment carries on the wire and in history, besides its id. The services
# change exactly these; a field added to segments is added here once.
SEGMENT_FIELDS = (
    "clip_id",
    "name",
    "layer",
    "start_time",
    "source_start",
    "duration",
    "volume",
    "fade_in",
    "fade_out",
    "fit",
    "transition",
    "duck",
    "text",
)
# Fields added after the first version: missing from older history, where they had their
# defaults (see segment_fields_from_json).
TIME_FIELDS = ("start_time", "source_start", "duration", "fade_in", "fade_out")
DECIMAL_FIELDS = (*TIME_FIELDS, "volume")


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Times have 3 decimals and at most 10 digits: a float's shortest repr gives them back
        # exactly, and the API's contract is JSON numbers.
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def segment_json(segment: TimelineSegment) -> dict[str, Any]:
    """The segment as the API shows it: `{id, clip_id, name, layer, start_time, …}`."""
    return {
        "id": str(segment.pk),
        **{field: _json_value(getattr(segment, field)) for field in SEGMENT_FIELDS},
    }


def with_defaults(segment: Mapping[str, Any], *, fit: str) -> dict[str, Any]:
    """A segment of history kept before some of its fields existed, with those fields at the
    values they then had in effect (the migration gave existing segments the project's fit)."""
    return {
        "volume": 1.0,
        "fade_in": 0.0,
        "fade_out": 0.0,
        "fit": fit,
        "transition": None,
        "duck": False,
        "text": None,
        **segment,
    }


def segment_fields_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """Model field values from `segment_json` output (exact decimals, UUIDs)."""
    values: dict[str, Any] = {}
    for field in SEGMENT_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field in DECIMAL_FIELDS:
            value = Decimal(str(value))
        elif field == "clip_id" and value is not None:
            value = uuid.UUID(str(value))
        values[field] = value
    return values


def clock(seconds: Decimal | float) -> str:
    """0:12, 1:02.5, 1:00:03 — how an editor shows a time."""
    value = Decimal(str(seconds)).quantize(Decimal("0.001"))
    whole = int(value)
    fraction = value - whole
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    tail = f"{fraction:f}".lstrip("0").rstrip("0").rstrip(".") if fraction else ""
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}{tail}"
    return f"{minutes}:{secs:02d}{tail}"


def _seconds(value: Decimal) -> str:
    return f"{value.normalize():f} s"


def _label(name: str) -> str:
    return f"'{name}'" if name else "a segment"


def summary_create(segment: TimelineSegment) -> str:
    return f"added {_label(segment.name)} at {clock(segment.start_time)}"


def summary_delete(segment: TimelineSegment) -> str:
    return f"deleted {_label(segment.name)}"


def summary_update(
    before: Mapping[str, Any], after: TimelineSegment, clip_names: Mapping[Any, str]
) -> str:
    """What a user would say they did: "moved 'Intro' to 0:12", "trimmed 'Intro' to 3.5 s"."""
    label = _label(before["name"])
    parts: list[str] = []
    if after.clip_id != before["clip_id"]:
        parts.append(f"changed the clip of {label} to {_label(clip_names.get(after.clip_id, ''))}")
    if after.name != before["name"]:
        parts.append(f"renamed {label} to {_label(after.name)}")
        label = _label(after.name)
    if after.layer != before["layer"]:
        parts.append(f"moved {label} to the {after.layer} layer")
    if after.start_time != before["start_time"]:
        parts.append(f"moved {label} to {clock(after.start_time)}")
    if after.duration != before["duration"] or after.source_start != before["source_start"]:
        parts.append(
            f"trimmed {label} to {_seconds(after.duration)} from {clock(after.source_start)}"
        )
    if after.text != before["text"] and after.text is not None and before["text"] is not None:
        if after.text["content"] != before["text"]["content"]:
            parts.append(f"changed the text of {label}")
        else:
            parts.append(f"restyled the text of {label}")
    if after.volume != before["volume"]:
        parts.append(f"set the volume of {label} to {after.volume * 100:.0f}%")
    if after.fade_in != before["fade_in"] or after.fade_out != before["fade_out"]:
        parts.append(
            f"set the fades of {label} to {_seconds(after.fade_in)} in, "
            f"{_seconds(after.fade_out)} out"
        )
    if after.fit != before["fit"]:
        parts.append(f"set {label} to {after.fit}")
    if after.transition != before["transition"]:
        parts.append(summary_transition(label, after.transition))
    if after.duck != before["duck"]:
        parts.append(f"{'turned on' if after.duck else 'turned off'} ducking of {label}")
    if not parts:
        return f"saved {label} unchanged"
    text = "; ".join(parts)
    return text if len(text) <= 255 else text[:254] + "…"


def summary_transition(label: str, transition: Mapping[str, Any] | None) -> str:
    if transition is None:
        return f"removed the transition into {label}"
    kind = str(transition["type"]).replace("_", " ")
    return f"set a {kind} of {_seconds(Decimal(str(transition['duration'])))} into {label}"


def summary_transition_adapted(segment: TimelineSegment) -> str:
    """A neighbour's edit changed this segment's transition (it is kept true by the server)."""
    label = _label(segment.name)
    if segment.transition is None:
        return f"removed the transition into {label}: no video segment ends where it starts"
    return (
        f"shortened the transition into {label} to "
        f"{_seconds(Decimal(str(segment.transition['duration'])))} to fit its neighbour"
    )


def summary_captions(count: int, filename: str) -> str:
    text = f"imported {count} caption{'s' if count != 1 else ''}"
    return f"{text} from {filename}" if filename else text


def summary_replace(count: int) -> str:
    return f"saved the whole timeline ({count} segment{'s' if count != 1 else ''})"


def summary_restore(version: int, dropped: int) -> str:
    text = f"restored version {version}"
    if dropped:
        text += f" without {dropped} segment{'s' if dropped != 1 else ''} of deleted clips"
    return text


def summary_clip_removed() -> str:
    return "removed the segments of a deleted clip"


def apply_op(
    state: dict[str, dict[str, Any]], *, kind: str, data: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """One single-segment op of history applied to a segment list (id → segment json)."""
    if kind in ("create", "update"):
        segment = data["segment"]
        state[segment["id"]] = dict(segment)
    elif kind == "delete":
        state.pop(data["segment_id"], None)
    return state


def ordered(segments: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The order the timeline is read in (timeline_segments): start time, layer, id."""
    return sorted(
        segments, key=lambda s: (Decimal(str(s["start_time"])), s["layer"], uuid.UUID(s["id"]))
    )
