"""The server's websocket messages (API.md, "WebSocket"): one builder per message type.

Every message a client receives is built here, so the list below is the whole vocabulary;
static/js/messages.js holds the same list for the browser (tests/realtime checks they agree).
Builders take plain values, never models: realtime knows no app above it.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal, TypedDict

PROCESSING_PROGRESS = "processing:progress"
PROCESSING_COMPLETED = "processing:completed"
PROCESSING_FAILED = "processing:failed"
UPLOAD_PROGRESS = "upload:progress"
TIMELINE_UPDATED = "timeline:updated"
TIMELINE_OP = "timeline:op"
NOTIFICATION = "notification"
COMMENT = "comment"
COMMENT_UPDATED = "comment:updated"
COMMENT_DELETED = "comment:deleted"
PRESENCE = "presence"
PRESENCE_JOIN = "presence:join"
PRESENCE_UPDATE = "presence:update"
PRESENCE_LEAVE = "presence:leave"
# The answer to a client's {"type": "ping"} (keeps proxies from closing an idle socket).
PONG = "pong"

MESSAGE_TYPES = (
    PROCESSING_PROGRESS,
    PROCESSING_COMPLETED,
    PROCESSING_FAILED,
    UPLOAD_PROGRESS,
    TIMELINE_UPDATED,
    TIMELINE_OP,
    NOTIFICATION,
    COMMENT,
    COMMENT_UPDATED,
    COMMENT_DELETED,
    PRESENCE,
    PRESENCE_JOIN,
    PRESENCE_UPDATE,
    PRESENCE_LEAVE,
    PONG,
)

Id = uuid.UUID | str | None
TimelineOp = Literal["create", "update", "delete", "replace"]


class JobFields(TypedDict):
    """What every processing message says about its job."""

    job_id: Id
    job_type: str
    clip_id: Id
    project_id: Id
    progress: float
    status: str


def processing_progress(job: JobFields) -> dict[str, Any]:
    return {"type": PROCESSING_PROGRESS, **job}


def processing_completed(job: JobFields, *, output_data: dict[str, Any]) -> dict[str, Any]:
    return {"type": PROCESSING_COMPLETED, **job, "output_data": output_data}


def processing_failed(job: JobFields, *, error_message: str) -> dict[str, Any]:
    """A job that failed or was cancelled (`status` tells which)."""
    return {"type": PROCESSING_FAILED, **job, "error_message": error_message}


def upload_progress(*, upload_id: Id, received_bytes: int, size: int) -> dict[str, Any]:
    return {
        "type": UPLOAD_PROGRESS,
        "upload_id": str(upload_id),
        "received_bytes": received_bytes,
        "size": size,
    }


def timeline_updated(*, project_id: Id, version: int, by: Any) -> dict[str, Any]:
    return {"type": TIMELINE_UPDATED, "project_id": project_id, "version": version, "by": by}


def timeline_op(
    *,
    project_id: Id,
    version: int,
    by: Id,
    op: TimelineOp,
    segment: dict[str, Any] | None = None,
    segment_id: Id = None,
    segments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One change of a timeline (API.md "Editing together"): enough to apply it without
    reloading. `segment` for create/update, `segment_id` for delete, `segments` (the whole
    list) for replace."""
    message: dict[str, Any] = {
        "type": TIMELINE_OP,
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


def notification(
    *,
    level: str,
    message: str,
    id: Id = None,
    kind: str | None = None,
    project_id: Id = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A message for the user. With an `id` it is a kept notification (API.md
    "Notifications": the bell lists it, with its kind, project and data); without one a
    passing message the page shows once (the ingest pipeline's)."""
    if id is None:
        return {"type": NOTIFICATION, "level": level, "message": message}
    return {
        "type": NOTIFICATION,
        "id": str(id),
        "kind": kind,
        "level": level,
        "message": message,
        "project_id": str(project_id) if project_id is not None else None,
        "data": data or {},
    }


def comment(*, comment: dict[str, Any]) -> dict[str, Any]:
    """A new comment on `project_<id>` (API.md "Comments"), as the API renders it."""
    return {"type": COMMENT, "comment": comment}


def comment_updated(*, comment: dict[str, Any]) -> dict[str, Any]:
    """A comment edited or resolved, as the API renders it."""
    return {"type": COMMENT_UPDATED, "comment": comment}


def comment_deleted(*, project_id: Id, comment_id: Id) -> dict[str, Any]:
    return {"type": COMMENT_DELETED, "project_id": str(project_id), "comment_id": str(comment_id)}


def presence(*, users: list[dict[str, Any]]) -> dict[str, Any]:
    """Who is in the project, sent to a socket as it joins (API.md "Editing together")."""
    return {"type": PRESENCE, "users": users}


def presence_join(*, user: dict[str, Any]) -> dict[str, Any]:
    return {"type": PRESENCE_JOIN, "user": user}


def presence_update(*, user_id: Id, playhead: float, selection: list[str]) -> dict[str, Any]:
    return {
        "type": PRESENCE_UPDATE,
        "user_id": str(user_id),
        "playhead": playhead,
        "selection": selection,
    }


def presence_leave(*, user_id: Id) -> dict[str, Any]:
    return {"type": PRESENCE_LEAVE, "user_id": str(user_id)}


def pong() -> dict[str, Any]:
    return {"type": PONG}
