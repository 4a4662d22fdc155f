"""The `timeline:op` websocket message (API.md "Editing together"), built in one place."""

from __future__ import annotations

import uuid
from typing import Any, Literal

Op = Literal["create", "update", "delete", "replace"]


def timeline_op_message(
    *,
    project_id: uuid.UUID | str,
    version: int,
    by: uuid.UUID | str | None,
    op: Op,
    segment: dict[str, Any] | None = None,
    segment_id: uuid.UUID | str | None = None,
    segments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What every socket of the project receives for one change: enough to apply it without
    reloading. `segment` for create/update, `segment_id` for delete, `segments` (the whole
    list) for replace."""
    message: dict[str, Any] = {
        "type": "timeline:op",
        "project_id": str(project_id),
        "version": version,
        "by": str(by) if by is not None else None,
        "op": op,
    }
    if op in ("create", "update"):
        message["segment"] = segment
    elif op == "delete":
        message["segment_id"] = str(segment_id)
    else:
        message["segments"] = segments
    return message
