"""What realtime asks of the apps above it, which it never imports: they register the answers
in their AppConfig.ready().

- accounts registers who a socket's credentials belong to (`?token=` or the session cookie);
- projects registers whether a user may watch a project.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class SocketCredentials:
    """Who opened a socket, how, and until when (None: until sign-out)."""

    user: Any
    via_token: bool
    expires_at: float | None


# (scope, allow_cookie) -> the credentials, or None when there are none that hold.
CredentialsCheck = Callable[[dict[str, Any], bool], SocketCredentials | None]
# (user, project id) -> may this user watch the project?
ProjectAccessCheck = Callable[[Any, Any], bool]


@dataclass
class _Registry:
    credentials: CredentialsCheck | None = None
    project_access: ProjectAccessCheck | None = None


_registry = _Registry()


def credentials_check_register(check: CredentialsCheck) -> None:
    _registry.credentials = check


def project_access_register(check: ProjectAccessCheck) -> None:
    _registry.project_access = check


def socket_credentials(scope: dict[str, Any], *, allow_cookie: bool) -> SocketCredentials | None:
    """The credentials of a socket's handshake (call from a thread: it reads the database)."""
    if _registry.credentials is None:
        raise ImproperlyConfigured("No websocket credentials check is registered.")
    return _registry.credentials(scope, allow_cookie)


def may_watch_project(user: Any, project_id: Any) -> bool:
    if _registry.project_access is None:
        raise ImproperlyConfigured("No project access check is registered.")
    return _registry.project_access(user, project_id)
