"""JWT access/refresh pairs from django-allauth's public JWT token strategy.

Every sign-in gets its own server-side session; the tokens carry its (encrypted) key. Refresh
rotates the refresh token, and logout deletes the session, so every token of that sign-in,
access and refresh alike, stops working at once. A refresh token used a second time ends its
whole sign-in (replay detection for rotated tokens).

Only allauth's documented surface is used: `JWTTokenStrategy` (create_access_token_payload,
refresh_token, get_session_token, lookup_session) and its DRF `JWTTokenAuthentication`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from typing import Any

from allauth.headless.contrib.rest_framework.authentication import JWTTokenAuthentication
from allauth.headless.tokens.strategies.jwt import JWTTokenStrategy
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from accounts.models import SpentRefreshToken


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


@dataclass(frozen=True)
class AccessGrant:
    """What a valid access token stands for: its user and when it stops working."""

    user: Any
    expires_at: float


def _session_store() -> SessionBase:
    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore()
    return store


def _strategy() -> JWTTokenStrategy:
    return JWTTokenStrategy()


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _session_key_of_access(access: str) -> str | None:
    """The session a valid access token belongs to (allauth reads it from the header)."""
    request = HttpRequest()
    request.META["HTTP_AUTHORIZATION"] = f"Bearer {access}"
    return _strategy().get_session_token(request)


def token_pair_issue(*, user: Any) -> TokenPair:
    """Start a new API session for `user` and return its first access/refresh pair."""
    session = _session_store()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.set_expiry(settings.HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN)
    session.create()
    request = HttpRequest()
    request.session = session
    request.user = user
    payload = _strategy().create_access_token_payload(request)
    if payload is None or "refresh_token" not in payload:
        raise RuntimeError("HEADLESS_TOKEN_STRATEGY must be allauth's JWT strategy.")
    session.save()
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    return TokenPair(access=payload["access_token"], refresh=payload["refresh_token"])


def _end_session(session_key: str) -> None:
    if session_key:
        session = _strategy().lookup_session(session_key)
        if session is not None:
            session.delete()


def token_pair_refresh(*, refresh: str) -> TokenPair | None:
    """A new pair for a valid refresh token, which is used up; None when it is not valid.

    The spent-token row is written before allauth rotates, in the same transaction: of two
    requests racing with one token, exactly one inserts it (the primary key decides).
    """
    digest = _sha256(refresh)
    try:
        with transaction.atomic():
            spent = SpentRefreshToken.objects.create(token_sha256=digest)
            pair = _strategy().refresh_token(refresh)
            if pair is None:
                raise _InvalidToken
            spent.session_key = _session_key_of_access(pair[0]) or ""
            spent.save(update_fields=["session_key"])
    except _InvalidToken:
        return None
    except IntegrityError:
        # Used before: a replay. End the sign-in it belonged to, with every token since.
        replayed = SpentRefreshToken.objects.filter(token_sha256=digest).first()
        if replayed is not None:
            _end_session(replayed.session_key)
        return None
    return TokenPair(access=pair[0], refresh=pair[1])


class _InvalidToken(Exception):
    pass


def token_session_end(*, refresh: str) -> Any | None:
    """Log out the sign-in a refresh token belongs to; returns its user's id, or None when the
    token was not valid.

    allauth offers no public look-up from a refresh token to its session, so the token is
    traded in (which also marks it used) and the session found from the fresh access token.
    """
    pair = token_pair_refresh(refresh=refresh)
    if pair is None:
        return None
    grant = access_token_grant(pair.access)
    session_key = _session_key_of_access(pair.access)
    if session_key:
        _end_session(session_key)
    return grant.user.pk if grant is not None else None


def access_token_grant(token: str) -> AccessGrant | None:
    """The active user and expiry of a valid access token; None if invalid, expired or revoked."""
    try:
        user, payload = JWTTokenAuthentication().authenticate_credentials(token)
    except AuthenticationFailed:
        return None
    if not getattr(user, "is_active", False):
        return None
    return AccessGrant(user=user, expires_at=float(payload["exp"]))


def spent_refresh_tokens_forget() -> int:
    """Drop spent-token rows older than a refresh token's lifetime: they can no longer replay."""
    cutoff = timezone.now() - timedelta(seconds=settings.HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN)
    deleted, _ = SpentRefreshToken.objects.filter(spent_at__lt=cutoff).delete()
    return deleted
