"""The handshake of every socket: who may open one, and from where.

- A socket with `?token=<access>` is authenticated by the token alone, so scripts and desktop
  or mobile apps, which send no Origin header, may connect.
- A socket whose Origin header is present must come from an allowed host (ALLOWED_HOSTS),
  token or not: another site's page is refused.
- The session cookie counts only with an allowed Origin: a browser always sends Origin, and
  without this check any site could open a socket with its visitor's cookie.
Refused handshakes are denied outright; a socket that passes with no valid credentials reaches
the consumer anonymous, which closes it with 4401.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from realtime import access


def _origin(scope: dict[str, Any]) -> tuple[bool, Any]:
    """(whether the handshake carries an Origin header, its parsed value or None)."""
    for name, value in scope.get("headers", []):
        if name == b"origin":
            try:
                return True, urlparse(value.decode("latin1"))
            except UnicodeDecodeError:
                return True, None
    return False, None


class SocketGate(OriginValidator):
    def __init__(self, application: Any) -> None:
        allowed_hosts = settings.ALLOWED_HOSTS
        if settings.DEBUG and not allowed_hosts:
            allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
        super().__init__(application, allowed_hosts)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        has_origin, origin = _origin(scope)
        if has_origin and not self.valid_origin(origin):
            return await WebsocketDenier()(scope, receive, send)
        credentials = await database_sync_to_async(access.socket_credentials)(
            scope, allow_cookie=has_origin
        )
        if not has_origin and credentials is None:
            return await WebsocketDenier()(scope, receive, send)
        scope = {
            **scope,
            "credentials": credentials,
            "user": credentials.user if credentials is not None else AnonymousUser(),
        }
        return await self.application(scope, receive, send)
