"""Websocket consumers: `/ws/` (the caller's events) and `/ws/projects/<id>/` (a project's).

The permission check runs before a socket joins a group; a refused socket is accepted and
closed at once with an application close code, because a browser never sees the reason of a
refused handshake: 4401 (not signed in) or 4404 (no such project, or not a member of it).

A socket never outlives the credentials that opened it: it closes with 4401 when its access
token expires, and when a sign-out or a password change makes it check them again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from realtime import access, messages, presence
from realtime.access import SocketCredentials
from realtime.broadcast import (
    project_group,
    socket_loop_register,
    socket_send,
    sockets_group,
    user_group,
)

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
# A client's presence:update is relayed at most this often per socket; faster ones are merged
# (the newest wins, sent when the interval is up).
PRESENCE_INTERVAL = 0.05


def _cache_call(function: Any) -> Any:
    # The cache is blocking I/O (Redis in production): keep it off the event loop.
    return sync_to_async(function, thread_sensitive=False)


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

    async def receive(
        self, text_data: str | None = None, bytes_data: Any = None, **kwargs: Any
    ) -> None:
        # What a client sends is small JSON; anything else is dropped, never an error.
        if text_data is None or len(text_data) > presence.MAX_MESSAGE_CHARS:
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            return
        if isinstance(content, dict):
            await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # Clients ping (to keep proxies from closing an idle socket).
        if content.get("type") == "ping":
            await self.send_json(messages.pong())

    async def event_message(self, message: dict[str, Any]) -> None:
        # A socket's own presence comes back to it through the group: it already knows.
        if message.get("skip") == self.channel_name:
            return
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
    """A project's events, and presence: who else is in the project, where their playhead is
    and what they selected (kept in the cache, see realtime.presence)."""

    project_id: Any = None
    present = False
    heartbeat: asyncio.Task[None] | None = None
    presence_timer: asyncio.TimerHandle | None = None
    presence_pending: tuple[float, list[str]] | None = None
    presence_last = 0.0

    async def connect(self) -> None:
        user = self._user()
        if user is None:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        project_id = self.scope["url_route"]["kwargs"]["project_id"]
        if not await database_sync_to_async(access.may_watch_project)(user, project_id):
            await self._refuse(CLOSE_NOT_FOUND)
            return
        self.project_id = project_id
        await self._join([project_group(project_id)])
        try:
            entry = await _cache_call(presence.presence_join)(
                project_id=project_id, channel=self.channel_name, user=user
            )
            users = await _cache_call(presence.presence_users)(project_id=project_id)
        except Exception:
            # Without the cache the socket still carries the project's events.
            logger.warning("could not record presence", exc_info=True)
            entry, users = presence.user_entry(user), [presence.user_entry(user)]
        self.present = True
        await self.send_json(messages.presence(users=users))
        await self._to_others(messages.presence_join(user=entry))
        self.heartbeat = asyncio.ensure_future(self._keep_present())

    async def _to_others(self, event: dict[str, Any]) -> None:
        await socket_send(
            self.channel_layer, project_group(self.project_id), event, skip=self.channel_name
        )

    async def _keep_present(self) -> None:
        while True:
            await asyncio.sleep(presence.ENTRY_TTL / 3)
            try:
                await _cache_call(presence.presence_refresh)(
                    project_id=self.project_id, channel=self.channel_name, user=self._user()
                )
            except Exception:
                logger.warning("could not refresh presence", exc_info=True)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if content.get("type") == messages.PRESENCE_UPDATE and self.present:
            parsed = presence.parse_update(content)
            if parsed is not None:
                await self._presence_update(parsed)
            return
        await super().receive_json(content, **kwargs)

    async def _presence_update(self, parsed: tuple[float, list[str]]) -> None:
        self.presence_pending = parsed
        loop = asyncio.get_running_loop()
        wait = self.presence_last + PRESENCE_INTERVAL - loop.time()
        if wait > 0:
            if self.presence_timer is None:
                self.presence_timer = loop.call_later(
                    wait, lambda: asyncio.ensure_future(self._presence_flush())
                )
            return
        await self._presence_flush()

    async def _presence_flush(self) -> None:
        self.presence_timer = None
        if self.presence_pending is None or not self.present:
            return
        playhead, selection = self.presence_pending
        self.presence_pending = None
        self.presence_last = asyncio.get_running_loop().time()
        user = self._user()
        assert user is not None
        try:
            await _cache_call(presence.presence_update)(
                project_id=self.project_id,
                channel=self.channel_name,
                user=user,
                playhead=playhead,
                selection=selection,
            )
        except Exception:
            logger.warning("could not record a presence update", exc_info=True)
        await self._to_others(
            messages.presence_update(user_id=user.pk, playhead=playhead, selection=selection)
        )

    async def disconnect(self, code: int) -> None:
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        if self.presence_timer is not None:
            self.presence_timer.cancel()
        if self.present:
            self.present = False
            user = self._user()
            assert user is not None
            try:
                gone = await _cache_call(presence.presence_leave)(
                    project_id=self.project_id, channel=self.channel_name, user_id=user.pk
                )
                if gone:
                    await self._to_others(messages.presence_leave(user_id=user.pk))
            except Exception:
                logger.warning("could not record leaving the project", exc_info=True)
        await super().disconnect(code)
