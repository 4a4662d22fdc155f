"""Every API endpoint and both websocket routes: another user is refused, an anonymous caller
gets 401. Endpoints are read from the URLconf, so a new one is covered (or fails this spec
until it is classified) without anyone remembering to add it here."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.production.conftest import OwnedObjects

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
# Open to anyone by design (signing in, the API description).
PUBLIC = {"api/auth/register", "api/auth/login", "api/auth/refresh", "api/auth/logout"}
PUBLIC |= {"api/schema/", "api/docs/"}
# Endpoints without an object in the path: how another user could still reach owner's objects.
BODY_REFERENCED = {
    "api/upload/chunk": "post",
    "api/upload/complete": "post",
    "api/process/clip": "post",
    "api/process/export": "post",
}
# Endpoints about the caller alone: checked for not listing the owner's objects.
CALLER_SCOPED = {"api/auth/me", "api/projects", "api/jobs"}
# The same answer for every signed-in user, holding nobody's objects (fonts, templates).
SHARED = {"api/fonts", "api/templates"}


def api_routes() -> list[tuple[str, Any]]:
    def walk(patterns: list[Any], prefix: str = "") -> Any:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern

    routes = []
    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith("api/"):
            view = getattr(pattern.callback, "cls", None) or getattr(
                pattern.callback, "view_class", None
            )
            routes.append((route, view))
    return routes


def methods_of(view: Any) -> list[str]:
    return [method for method in METHODS if hasattr(view, method)]


def fill(route: str, owned: OwnedObjects) -> str:
    ids = {
        "project_id": owned.project.pk,
        "clip_id": owned.clip.pk,
        "upload_id": owned.upload.pk,
        "segment_id": owned.segment.pk,
        "job_id": owned.job.pk,
    }

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in ids, f"add an object for the path parameter <{name}> in {route}"
        return str(ids[name])

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", replace, route)


def body_for(route: str, owned: OwnedObjects) -> dict[str, Any]:
    """A body valid in shape, so a refusal comes from the ownership check, not validation."""
    if route.endswith("/timeline"):
        return {"version": owned.project.timeline_version, "segments": []}
    if route.startswith("api/timeline/segments"):
        return {"start_time": 0, "duration": 1}
    return {
        "name": "renamed",
        "upload_id": str(owned.upload.pk),
        "clip_id": str(owned.clip.pk),
        "project_id": str(owned.project.pk),
    }


def test_every_api_endpoint_is_classified() -> None:
    unclassified = [
        route
        for route, _ in api_routes()
        if "<" not in route and route not in PUBLIC | set(BODY_REFERENCED) | CALLER_SCOPED | SHARED
    ]

    assert unclassified == [], "classify these endpoints in the authorization matrix"


def test_anonymous_callers_get_401_everywhere(owned: OwnedObjects, anon_api: Any) -> None:
    failures = []
    for route, view in api_routes():
        if route in PUBLIC:
            continue
        path = fill(route, owned)
        for method in methods_of(view):
            response = getattr(anon_api, method)(path, body_for(route, owned), format="json")
            if response.status_code != 401 or response.json()["error"]["code"] != (
                "UNAUTHORIZED_ACCESS"
            ):
                failures.append((method.upper(), path, response.status_code))

    assert failures == []


def test_another_user_never_reaches_the_owners_objects(owned: OwnedObjects, other_api: Any) -> None:
    failures = []
    checked = 0
    for route, view in api_routes():
        if route in PUBLIC or route in CALLER_SCOPED or route in SHARED:
            continue
        path = fill(route, owned)
        methods = methods_of(view)
        if route in BODY_REFERENCED:
            methods = [BODY_REFERENCED[route]]
            if route == "api/upload/chunk":
                path = f"/{route}?upload_id={owned.upload.pk}&index=0"
        for method in methods:
            response = getattr(other_api, method)(path, body_for(route, owned), format="json")
            checked += 1
            if response.status_code not in (403, 404):
                failures.append((method.upper(), path, response.status_code))

    assert failures == []
    assert checked >= 15
    owned.project.refresh_from_db()
    owned.clip.refresh_from_db()
    owned.segment.refresh_from_db()
    owned.job.refresh_from_db()
    assert owned.project.name == "Project ok"
    assert owned.clip.name == "Clip ok"
    assert owned.job.status == "pending"


def test_caller_scoped_lists_never_show_the_owners_objects(
    owned: OwnedObjects, other_api: Any
) -> None:
    for route in sorted(CALLER_SCOPED):
        response = other_api.get(f"/{route}")
        assert response.status_code == 200, route
        text = response.content.decode()
        for obj in (owned.project, owned.clip, owned.job):
            assert str(obj.pk) not in text, route


def test_a_missing_object_and_another_users_object_answer_alike(
    owned: OwnedObjects, other_api: Any
) -> None:
    theirs = other_api.get(f"/api/projects/{owned.project.pk}")
    missing = other_api.get(f"/api/projects/{uuid.uuid4()}")

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


@pytest.mark.django_db(transaction=True)
def test_websockets_refuse_anonymous_callers_and_other_users(owner: Any, other_user: Any) -> None:
    from asgiref.sync import async_to_sync
    from channels.testing import WebsocketCommunicator

    from accounts.tokens import token_pair_issue
    from config.asgi import application
    from projects.models import Project

    project = Project.objects.create(owner=owner, name="Private")
    other_token = token_pair_issue(user=other_user).access
    owner_token = token_pair_issue(user=owner).access

    async def outcome(path: str) -> Any:
        communicator = WebsocketCommunicator(
            application, path, headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")]
        )
        connected, _ = await communicator.connect()
        if not connected:
            return "refused"
        message = await communicator.receive_output(timeout=2)
        await communicator.disconnect()
        if message["type"] == "websocket.close":
            return message.get("code")
        return "open"

    async def try_open(path: str) -> Any:
        communicator = WebsocketCommunicator(
            application, path, headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")]
        )
        connected, _ = await communicator.connect()
        nothing = await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()
        return connected and nothing

    assert async_to_sync(outcome)("/ws/") in (4401, "refused")
    assert async_to_sync(outcome)(f"/ws/projects/{project.pk}/") in (4401, "refused")
    assert async_to_sync(outcome)(f"/ws/projects/{project.pk}/?token={other_token}") in (
        4404,
        4403,
        "refused",
    )
    # The same routes open for the owner: the refusals above are about who asks.
    assert async_to_sync(try_open)(f"/ws/?token={owner_token}")
    assert async_to_sync(try_open)(f"/ws/projects/{project.pk}/?token={owner_token}")
