"""API authentication: `Authorization: Bearer <access>` JWTs issued by allauth's JWT strategy."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework import authentication, exceptions

from accounts.tokens import access_token_grant


def user_for_access_token(token: str) -> Any | None:
    """The active user an access token belongs to, or None if it is invalid, expired or revoked."""
    grant = access_token_grant(token)
    return grant.user if grant is not None else None


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Bearer tokens with the contract's messages (allauth's class answers in its own words)."""

    keyword = "Bearer"

    def authenticate(self, request: HttpRequest) -> tuple[Any, str] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        parts = header.split()
        if not parts or parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        user = user_for_access_token(parts[1])
        if user is None:
            raise exceptions.AuthenticationFailed("The access token is invalid or expired.")
        return user, parts[1]

    def authenticate_header(self, request: HttpRequest) -> str:
        return f'{self.keyword} realm="api"'
