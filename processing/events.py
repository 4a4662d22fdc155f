"""Real-time events to websocket groups, always sent after the surrounding transaction commits.

Groups: `user_<id>` (every socket of a user) and `project_<id>` (sockets watching a project).
Message shapes are fixed by API.md's WebSocket section.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)


def user_group(user_id: uuid.UUID | str) -> str:
    return f"user_{user_id}"


def project_group(project_id: uuid.UUID | str) -> str:
    return f"project_{project_id}"


def _jsonable(message: dict[str, Any]) -> dict[str, Any]:
    # Channel layers serialise with msgpack: turn UUIDs, Decimals and datetimes into JSON types.
    import json

    return json.loads(json.dumps(message, cls=DjangoJSONEncoder))


def send_now(groups: list[str], message: dict[str, Any]) -> None:
    """Send `message` to `groups` immediately. A failing channel layer never fails the caller."""
    layer = get_channel_layer()
    if layer is None:
        return
    payload = {"type": "event.message", "event": _jsonable(message)}
    for group in groups:
        try:
            async_to_sync(layer.group_send)(group, payload)
        except Exception:  # the event is best-effort; the database row is the truth
            logger.warning("could not send %s to %s", message.get("type"), group, exc_info=True)


def broadcast(
    message: dict[str, Any],
    *,
    user_id: uuid.UUID | str | None = None,
    project_id: uuid.UUID | str | None = None,
) -> None:
    """Send `message` to the user's and/or the project's group once the transaction commits."""
    groups = []
    if user_id is not None:
        groups.append(user_group(user_id))
    if project_id is not None:
        groups.append(project_group(project_id))
    transaction.on_commit(lambda: send_now(groups, message))
