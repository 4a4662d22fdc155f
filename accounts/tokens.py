"""JWT access/refresh pairs from django-allauth's JWT strategy, each pair tied to a session.

Every sign-in gets its own server-side session; the tokens carry its (encrypted) key. Refresh
rotates the refresh token, and logout deletes the session, so every token of that sign-in,
access and refresh alike, stops working at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from allauth.headless.tokens.strategies.jwt import internal as jwt_internal
from allauth.headless.tokens.strategies.jwt.strategy import JWTTokenStrategy
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def _session_store() -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore()


def token_pair_issue(*, user: Any) -> TokenPair:
    """Start a new API session for `user` and return its first access/refresh pair."""
    session = _session_store()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(settings.HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN)
    session.create()
    access = jwt_internal.create_access_token(user, session, {})
    refresh = jwt_internal.create_refresh_token(user, session)
    session.save()
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    return TokenPair(access=access, refresh=refresh)


def _lock_token_session(token: str) -> None:
    """Lock the session row a refresh token points at, for the rest of the transaction.

    Rotation reads the session's list of live refresh tokens, drops one and saves it back:
    without the lock two requests racing with the same token would both get a new pair.
    """
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return
    payload = jwt_internal.decode_token(token, "refresh")
    if payload is None:
        return
    session_key = jwt_internal.session_key_from_sid(payload["sid"])
    if session_key:
        list(Session.objects.select_for_update().filter(session_key=session_key).values("pk"))


def token_pair_refresh(*, refresh: str) -> TokenPair | None:
    """A new pair for a valid refresh token, which is used up; None when it is not valid."""
    with transaction.atomic():
        _lock_token_session(refresh)
        pair = JWTTokenStrategy().refresh_token(refresh)
    if pair is None:
        return None
    return TokenPair(access=pair[0], refresh=pair[1])


def token_session_end(*, refresh: str) -> bool:
    """Log out the sign-in a refresh token belongs to; False when the token was not valid."""
    validated = jwt_internal.validate_refresh_token(refresh)
    if validated is None:
        return False
    _user, session, _payload = validated
    session.delete()
    return True
