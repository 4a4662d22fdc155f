"""Websocket authentication: the session cookie, or `?token=<access>` in the query string."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware

from accounts.authentication import user_for_access_token


class QueryTokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode())
        token = (query.get("token") or [""])[0]
        if token:
            user = await database_sync_to_async(_resolve_user)(token)
            if user is not None:
                scope["user"] = user
        return await super().__call__(scope, receive, send)


def _resolve_user(token: str) -> Any | None:
    user = user_for_access_token(token)
    if user is not None:
        # Touch the lazy object inside the thread that may use the database.
        user.pk  # noqa: B018
    return user


def TokenAuthMiddlewareStack(inner: Any) -> Any:
    return AuthMiddlewareStack(QueryTokenAuthMiddleware(inner))
