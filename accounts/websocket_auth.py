"""Who a websocket's credentials belong to: `?token=<access>`, or the session cookie.

Registered with realtime in AccountsConfig.ready(); realtime calls it at the handshake and again
whenever a socket must check its credentials (sign-out, password change). Both read the
database afresh, so a revoked token or a deleted session no longer holds.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.contrib.auth import get_user
from django.http import HttpRequest, parse_cookie

from accounts.tokens import access_token_grant
from realtime.access import SocketCredentials


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin1"))
    return ""


def socket_credentials(scope: dict[str, Any], allow_cookie: bool) -> SocketCredentials | None:
    """The credentials of a socket; the cookie only when `allow_cookie` (an allowed Origin)."""
    query = parse_qs(scope.get("query_string", b"").decode())
    token = (query.get("token") or [""])[0]
    if token:
        grant = access_token_grant(token)
        if grant is not None:
            return SocketCredentials(user=grant.user, via_token=True, expires_at=grant.expires_at)
    if not allow_cookie:
        return None
    session_key = parse_cookie(_header(scope, b"cookie")).get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        return None
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    # Django's own check: the session exists and its password hash is the user's current one.
    user = get_user(request)
    if not user.is_authenticated:
        return None
    return SocketCredentials(user=user, via_token=False, expires_at=None)
