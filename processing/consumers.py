"""Websocket consumers: `/ws/` (the caller's events) and `/ws/projects/<id>/` (a project's).

The permission check runs before a socket joins a group; a refused socket is accepted and
closed at once with an application close code, because a browser never sees the reason of a
refused handshake: 4401 (not signed in) or 4404 (no such project, or not a member of it).
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from processing.events import project_group, socket_loop_register, user_group
from projects.models import Role
from projects.selectors import get_project_for_user

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """Relays `event.message` group messages (see processing.events) to the socket."""

    groups_joined: list[str]

    async def _refuse(self, code: int) -> None:
        await self.accept()
        await self.close(code=code)

    async def _join(self, groups: list[str]) -> None:
        socket_loop_register(asyncio.get_running_loop())
        self.groups_joined = []
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.accept()

    def _user(self) -> Any | None:
        user = self.scope.get("user")
        return user if user is not None and user.is_authenticated else None

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # Clients only ever ping (to keep proxies from closing an idle socket).
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def event_message(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])


class UserEventsConsumer(EventsConsumer):
    async def connect(self) -> None:
        user = self._user()
        if user is None:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        await self._join([user_group(user.pk)])


class ProjectEventsConsumer(EventsConsumer):
    async def connect(self) -> None:
        user = self._user()
        if user is None:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        project_id = self.scope["url_route"]["kwargs"]["project_id"]
        if not await database_sync_to_async(_may_see_project)(user, project_id):
            await self._refuse(CLOSE_NOT_FOUND)
            return
        await self._join([project_group(project_id)])


def _may_see_project(user: Any, project_id: Any) -> bool:
    try:
        get_project_for_user(user, project_id, role=Role.VIEWER)
    except Http404:
        return False
    return True
