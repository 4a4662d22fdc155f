"""Real-time events to websocket groups, always sent after the surrounding transaction commits.

Groups: `user_<id>` (every socket of a user) and `project_<id>` (sockets watching a project).
Message shapes are fixed by API.md's WebSocket section.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
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


# The event loop serving websockets in this process (set by the consumers). The in-memory
# layer's queues belong to that loop: a worker thread (embedded mode) must hand its sends to it,
# because waking an asyncio queue from another thread's loop is not thread-safe and the socket
# would only notice much later.
_socket_loop: tuple[asyncio.AbstractEventLoop, int] | None = None
SEND_TIMEOUT = 5


def socket_loop_register(loop: asyncio.AbstractEventLoop) -> None:
    global _socket_loop
    _socket_loop = (loop, threading.get_ident())


def _group_send(layer: Any, group: str, payload: dict[str, Any]) -> None:
    if isinstance(layer, InMemoryChannelLayer) and _socket_loop is not None:
        loop, thread_id = _socket_loop
        if loop.is_running() and threading.get_ident() != thread_id:
            future = asyncio.run_coroutine_threadsafe(layer.group_send(group, payload), loop)
            future.result(timeout=SEND_TIMEOUT)
            return
    async_to_sync(layer.group_send)(group, payload)


def send_now(groups: list[str], message: dict[str, Any]) -> None:
    """Send `message` to `groups` immediately. A failing channel layer never fails the caller."""
    layer = get_channel_layer()
    if layer is None:
        return
    payload = {"type": "event.message", "event": _jsonable(message)}
    for group in groups:
        try:
            _group_send(layer, group, payload)
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
