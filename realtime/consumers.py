"""Websocket consumers: `/ws/` (the caller's events) and `/ws/projects/<id>/` (a project's).

The permission check runs before a socket joins a group; a refused socket is accepted and
closed at once with an application close code, because a browser never sees the reason of a
refused handshake: 4401 (not signed in) or 4404 (no such project, or not a member of it).

A socket never outlives the credentials that opened it: it closes with 4401 when its access
token expires, and when a sign-out or a password change makes it check them again.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from realtime import access, messages
from realtime.access import SocketCredentials
from realtime.broadcast import project_group, socket_loop_register, sockets_group, user_group

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """Relays `event.message` group messages (see realtime.broadcast) to the socket."""

    groups_joined: list[str]
    expiry: asyncio.TimerHandle | None = None

    async def _refuse(self, code: int) -> None:
        await self.accept()
        await self.close(code=code)

    def _credentials(self) -> SocketCredentials | None:
        credentials: SocketCredentials | None = self.scope.get("credentials")
        return credentials

    async def _join(self, groups: list[str]) -> None:
        credentials = self._credentials()
        assert credentials is not None
        socket_loop_register(asyncio.get_running_loop())
        self.groups_joined = []
        for group in [*groups, sockets_group(credentials.user.pk)]:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.accept()
        if credentials.expires_at is not None:
            delay = max(0.0, credentials.expires_at - time.time())
            self.expiry = asyncio.get_running_loop().call_later(
                delay, lambda: asyncio.ensure_future(self._close_unauthenticated())
            )

    def _user(self) -> Any | None:
        credentials = self._credentials()
        return credentials.user if credentials is not None else None

    async def _close_unauthenticated(self) -> None:
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def disconnect(self, code: int) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # Clients only ever ping (to keep proxies from closing an idle socket).
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json(messages.pong())

    async def event_message(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])

    async def credentials_check(self, message: dict[str, Any]) -> None:
        opened = self._credentials()
        current = await database_sync_to_async(access.socket_credentials)(
            self.scope, allow_cookie=opened is not None and not opened.via_token
        )
        if opened is None or current is None or current.user.pk != opened.user.pk:
            await self._close_unauthenticated()


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
        if not await database_sync_to_async(access.may_watch_project)(user, project_id):
            await self._refuse(CLOSE_NOT_FOUND)
            return
        await self._join([project_group(project_id)])
