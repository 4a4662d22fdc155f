"""How big a timeline may be (API.md "Limits"): TIMELINE_MAX_SEGMENTS segments, none ending
after TIMELINE_MAX_DURATION seconds (default 12 h, YouTube's longest upload).

Every way a timeline is written (whole replace, segment edit, OTIO import) checks here, so a
timeline no export could ever finish is refused when it arrives, not hours into a render.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings

from common.errors import ServiceError


def max_segments() -> int:
    return int(settings.TIMELINE_MAX_SEGMENTS)


def max_duration() -> Decimal:
    return Decimal(settings.TIMELINE_MAX_DURATION)


def segment_count_error(count: int) -> ServiceError | None:
    """The error for a timeline of `count` segments, or None when that many are allowed."""
    limit = max_segments()
    if count <= limit:
        return None
    return ServiceError(
        f"A timeline may have at most {limit} segments, and this one would have {count}. "
        "Merge segments, or split the video into several projects.",
        {"field": "segments", "max_segments": limit, "segments": count},
    )


def segment_count_check(count: int) -> None:
    error = segment_count_error(count)
    if error is not None:
        raise error


def segment_end_check(
    *, start_time: Decimal, duration: Decimal, label: str, details: dict[str, Any]
) -> None:
    """Refuse a segment that ends after the longest timeline allowed."""
    limit = max_duration()
    end = start_time + duration
    if end <= limit:
        return
    raise ServiceError(
        f"{label}: it ends at {end} s, after the {limit / 3600:g}-hour limit of a timeline "
        f"({limit} s). Move it earlier or shorten it.",
        {**details, "field": "start_time", "max_duration": float(limit), "end": float(end)},
    )
