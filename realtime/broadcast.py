"""Sending to websocket groups: the one `broadcast(message, groups)`, after commit.

Groups: `user_<id>` (every socket of a user), `project_<id>` (sockets watching a project) and
`sockets_<user id>` (every socket of a user, for control messages that never reach the client,
such as "check your credentials again").
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)

# The channel-layer message type consumers relay to the client (handled by `event_message`).
EVENT = "event.message"
# Tells every socket of a user to check its credentials again (handled by `credentials_check`).
CREDENTIALS_CHECK = "credentials.check"
SEND_TIMEOUT = 5


def user_group(user_id: uuid.UUID | str) -> str:
    return f"user_{user_id}"


def project_group(project_id: uuid.UUID | str) -> str:
    return f"project_{project_id}"


def sockets_group(user_id: uuid.UUID | str) -> str:
    return f"sockets_{user_id}"


def _jsonable(message: dict[str, Any]) -> dict[str, Any]:
    # Channel layers serialise with msgpack: turn UUIDs, Decimals and datetimes into JSON types.
    result: dict[str, Any] = json.loads(json.dumps(message, cls=DjangoJSONEncoder))
    return result


# The event loop serving websockets in this process (set by the consumers). The in-memory
# layer's queues belong to that loop: a worker thread (embedded mode) must hand its sends to it,
# because waking an asyncio queue from another thread's loop is not thread-safe and the socket
# would only notice much later.
_socket_loop: tuple[asyncio.AbstractEventLoop, int] | None = None


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


def _send(groups: list[str], payload: dict[str, Any]) -> None:
    """A failing channel layer never fails the caller: the event is best-effort, the database
    row is the truth."""
    layer = get_channel_layer()
    if layer is None:
        return
    for group in groups:
        try:
            _group_send(layer, group, payload)
        except Exception:
            logger.warning("could not send %s to %s", payload.get("type"), group, exc_info=True)


def broadcast(message: dict[str, Any], groups: Iterable[str]) -> None:
    """Send `message` (from realtime.messages) to `groups` once the surrounding transaction
    commits; outside a transaction, at once. A rolled-back change is never announced."""
    targets = list(groups)
    payload = {"type": EVENT, "event": _jsonable(message)}
    transaction.on_commit(lambda: _send(targets, payload))


async def socket_send(layer: Any, group: str, message: dict[str, Any], *, skip: str) -> None:
    """A socket's own message to its group (presence), sent at once, as no transaction stands
    behind it; the socket `skip` (the sender's channel) does not get it back."""
    await layer.group_send(group, {"type": EVENT, "event": _jsonable(message), "skip": skip})


def credentials_check_request(*, user_id: uuid.UUID | str) -> None:
    """After commit, make every open socket of the user check its credentials again and close
    with 4401 when they no longer hold (sign-out, password change)."""
    transaction.on_commit(lambda: _send([sockets_group(user_id)], {"type": CREDENTIALS_CHECK}))
