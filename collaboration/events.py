"""Every websocket message this app sends, in one place (the broadcast helper is moving from
processing.events to a realtime app: this is the only import to change)."""

from __future__ import annotations

import uuid
from typing import Any

from processing import events


def to_project(project_id: uuid.UUID | str, message: dict[str, Any]) -> None:
    """Send `message` to the sockets watching the project, once the transaction commits."""
    events.broadcast(message, project_id=project_id)


def to_user(user_id: uuid.UUID | str, message: dict[str, Any]) -> None:
    """Send `message` to every socket of the user, once the transaction commits."""
    events.broadcast(message, user_id=user_id)
