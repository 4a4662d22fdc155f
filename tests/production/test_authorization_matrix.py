"""Every API endpoint and both websocket routes, for every role and for outsiders.

A project's members are viewers, commenters or editors; its owner is the fourth role
(API.md, "Sharing a project"). For each endpoint the matrix names the least role it needs:
a member below it gets 403 UNAUTHORIZED_ACCESS, a member at or above it gets through the
access check, a user who is not a member gets 404 as for a missing object, an anonymous caller
401. Endpoints are read from the URLconf, so a new one is covered (or fails this spec until it
is classified) without anyone remembering to add it here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tests.conftest import client_for
from tests.production.conftest import OwnedObjects, make_owned_objects

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
CALLER_SCOPED = {
    "api/auth/me",
    "api/projects",
    "api/jobs",
    "api/invitations",
    "api/notifications",
}
# The same answer for every signed-in user, holding nobody's objects (fonts, templates).
SHARED = {"api/fonts", "api/templates"}
# Actions on the caller's own things, checked one by one below.
CALLER_ACTIONS = {"api/invitations/accept", "api/notifications/read"}

VIEWER, COMMENTER, EDITOR, OWNER = "viewer", "commenter", "editor", "owner"
ROLES = [VIEWER, COMMENTER, EDITOR, OWNER]

# The least role each action needs (API.md: viewers see, commenters comment, editors edit the
# clips and the timeline and export, the owner manages the project and its members).
NEEDS: dict[str, dict[str, str]] = {
    "api/projects/<uuid:project_id>": {
        "get": VIEWER,
        "put": OWNER,
        "patch": OWNER,
        "delete": OWNER,
    },
    "api/projects/<uuid:project_id>/clips": {"get": VIEWER, "post": EDITOR},
    "api/clips/<uuid:clip_id>": {"get": VIEWER, "put": EDITOR, "patch": EDITOR, "delete": EDITOR},
    "api/clips/<uuid:clip_id>/download": {"get": VIEWER},
    "api/clips/<uuid:clip_id>/retry": {"post": EDITOR},
    "api/upload/chunk": {"post": EDITOR},
    "api/upload/complete": {"post": EDITOR},
    "api/upload/status/<uuid:upload_id>": {"get": EDITOR},
    "api/upload/cancel/<uuid:upload_id>": {"delete": EDITOR},
    "api/projects/<uuid:project_id>/timeline": {"get": VIEWER, "post": EDITOR},
    "api/projects/<uuid:project_id>/timeline/segments": {"post": EDITOR},
    "api/projects/<uuid:project_id>/timeline/history": {"get": VIEWER},
    "api/projects/<uuid:project_id>/timeline/restore": {"post": EDITOR},
    "api/timeline/segments/<uuid:segment_id>": {"put": EDITOR, "patch": EDITOR, "delete": EDITOR},
    "api/process/clip": {"post": EDITOR},
    "api/process/status/<uuid:job_id>": {"get": VIEWER},
    "api/process/cancel/<uuid:job_id>": {"post": EDITOR},
    "api/projects/<uuid:project_id>/export": {"post": EDITOR},
    "api/process/export": {"post": EDITOR},
    "api/process/export/<uuid:job_id>/download": {"get": VIEWER},
    "api/projects/<uuid:project_id>/timeline.otio": {"get": VIEWER},
    "api/projects/<uuid:project_id>/timeline/import-otio": {"post": EDITOR},
    "api/projects/<uuid:project_id>/chapters": {"get": VIEWER},
    "api/projects/<uuid:project_id>/captions/import": {"post": EDITOR},
    "api/projects/<uuid:project_id>/captions.srt": {"get": VIEWER},
    "api/projects/<uuid:project_id>/captions.vtt": {"get": VIEWER},
    "api/projects/<uuid:project_id>/members": {"get": VIEWER},
    "api/projects/<uuid:project_id>/members/<uuid:user_id>": {"patch": OWNER, "delete": OWNER},
    "api/projects/<uuid:project_id>/invitations": {"get": OWNER, "post": OWNER},
    "api/projects/<uuid:project_id>/invitations/<uuid:invitation_id>": {"delete": OWNER},
    "api/projects/<uuid:project_id>/comments": {"get": VIEWER, "post": COMMENTER},
    # The comment is the owner's: resolving it needs an editor, deleting it its author.
    "api/comments/<uuid:comment_id>": {"patch": EDITOR, "delete": OWNER},
}


@dataclass
class Shared:
    """The owner's objects in a project shared with one member of each role, plus a member
    the member-management endpoints act on, a comment, an invitation and an export job."""

    owned: OwnedObjects
    members: dict[str, Any]
    target: Any
    comment: Any
    invitation: Any
    export_job: Any


@pytest.fixture
def personas(make_user: Callable[..., Any], owner: Any, other_user: Any) -> dict[str, Any]:
    return {
        VIEWER: make_user("viewer@example.com", name="Vera Viewer"),
        COMMENTER: make_user("commenter@example.com", name="Cole Commenter"),
        EDITOR: make_user("editor@example.com", name="Edda Editor"),
        OWNER: owner,
        "outsider": other_user,
    }


def make_shared(owner: Any, personas: dict[str, Any]) -> Shared:
    from collaboration.models import Comment, Invitation
    from processing.models import ProcessingJob
    from projects.models import ProjectMember

    owned = make_owned_objects(owner)
    for role in (VIEWER, COMMENTER, EDITOR):
        ProjectMember.objects.create(project=owned.project, user=personas[role], role=role)
    target = type(owner).objects.create_user(email=f"target-{uuid.uuid4().hex[:8]}@example.com")
    ProjectMember.objects.create(project=owned.project, user=target, role=VIEWER)
    comment = Comment.objects.create(project=owned.project, author=owner, body="Cut here?")
    invitation = Invitation.objects.create(
        project=owned.project,
        email=f"invitee-{uuid.uuid4().hex[:8]}@example.com",
        role=VIEWER,
        invited_by=owner,
        expires_at=timezone.now() + timedelta(days=7),
    )
    export_job = ProcessingJob.objects.create(
        owner=owner, project=owned.project, job_type=ProcessingJob.JobType.EXPORT
    )
    return Shared(owned, dict(personas), target, comment, invitation, export_job)


@pytest.fixture
def shared(owner: Any, personas: dict[str, Any]) -> Shared:
    return make_shared(owner, personas)


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


def fill(route: str, shared: Shared) -> str:
    owned = shared.owned
    ids = {
        "project_id": owned.project.pk,
        "clip_id": owned.clip.pk,
        "upload_id": owned.upload.pk,
        "segment_id": owned.segment.pk,
        # An export, so that the download route answers about the export, not the job type.
        "job_id": shared.export_job.pk,
        "comment_id": shared.comment.pk,
        "invitation_id": shared.invitation.pk,
        "user_id": shared.target.pk,
    }

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in ids, f"add an object for the path parameter <{name}> in {route}"
        return str(ids[name])

    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", replace, route)
    if route == "api/upload/chunk":
        path += f"?upload_id={owned.upload.pk}&index=0"
    return path


def body_for(route: str, shared: Shared) -> dict[str, Any]:
    """A body valid in shape, so a refusal comes from the access check, not validation."""
    owned = shared.owned
    if route.endswith("/timeline"):
        return {"version": owned.project.timeline_version, "segments": []}
    if route.startswith("api/timeline/segments"):
        return {"start_time": 0, "duration": 1}
    if route.endswith("/timeline/segments"):
        return {"clip_id": str(owned.clip.pk), "start_time": 100, "duration": 1}
    if route.endswith("/timeline/restore"):
        return {"version": 0}
    if route.endswith("/invitations"):
        return {"email": "new-member@example.com", "role": "viewer"}
    if "/members/" in route:
        return {"role": "commenter"}
    if route.endswith("/comments"):
        return {"body": "Looks good", "time": 1.5}
    if route.startswith("api/comments/"):
        return {"resolved": True}
    return {
        "name": "renamed",
        "upload_id": str(owned.upload.pk),
        "clip_id": str(owned.clip.pk),
        "project_id": str(owned.project.pk),
    }


def object_routes() -> list[tuple[str, str]]:
    """Every (route, method) that reaches an object of a project."""
    pairs = []
    for route, view in api_routes():
        if route in PUBLIC | CALLER_SCOPED | CALLER_ACTIONS | SHARED:
            continue
        methods = [BODY_REFERENCED[route]] if route in BODY_REFERENCED else methods_of(view)
        pairs += [(route, method) for method in methods]
    return pairs


def call(client: Any, route: str, method: str, shared: Shared) -> Any:
    return getattr(client, method)(fill(route, shared), body_for(route, shared), format="json")


def test_every_api_endpoint_is_classified() -> None:
    classified = PUBLIC | set(BODY_REFERENCED) | CALLER_SCOPED | CALLER_ACTIONS | SHARED
    unclassified = [
        route for route, _ in api_routes() if "<" not in route and route not in classified
    ]
    without_role = [
        f"{method.upper()} {route}"
        for route, method in object_routes()
        if method not in NEEDS.get(route, {})
    ]

    assert unclassified == [], "classify these endpoints in the authorization matrix"
    assert without_role == [], "name the least role these need in NEEDS"


def test_anonymous_callers_get_401_everywhere(shared: Shared, anon_api: Any) -> None:
    failures = []
    for route, view in api_routes():
        if route in PUBLIC:
            continue
        for method in methods_of(view):
            response = call(anon_api, route, method, shared)
            if response.status_code != 401 or response.json()["error"]["code"] != (
                "UNAUTHORIZED_ACCESS"
            ):
                failures.append((method.upper(), route, response.status_code))

    assert failures == []


def test_another_user_never_reaches_the_owners_objects(shared: Shared, other_api: Any) -> None:
    failures = []
    checked = 0
    for route, method in object_routes():
        response = call(other_api, route, method, shared)
        checked += 1
        if response.status_code != 404 or response.json()["error"]["code"] != "NOT_FOUND":
            failures.append((method.upper(), route, response.status_code))

    assert failures == []
    assert checked >= 35
    owned = shared.owned
    owned.project.refresh_from_db()
    owned.clip.refresh_from_db()
    owned.segment.refresh_from_db()
    owned.job.refresh_from_db()
    shared.comment.refresh_from_db()
    shared.invitation.refresh_from_db()
    assert owned.project.name == "Project ok"
    assert owned.clip.name == "Clip ok"
    assert owned.job.status == "pending"
    assert shared.comment.resolved is False
    assert shared.invitation.status == "pending"
    assert owned.project.members.count() == 4


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_it_is_allowed(
    role: str, owner: Any, personas: dict[str, Any]
) -> None:
    """Below the role an action needs: 403 UNAUTHORIZED_ACCESS and nothing changes. At or
    above it: past the access check (whatever the action itself then answers)."""
    from projects.models import Role

    client = client_for(personas[role])
    refused, wrongly_refused, checked = [], [], 0
    reads = make_shared(owner, personas)
    for route, method in object_routes():
        # Anything but a read gets a project of its own: an allowed delete must not take the
        # objects of the next check with it.
        target = reads if method == "get" else make_shared(owner, personas)
        response = call(client, route, method, target)
        checked += 1
        allowed = Role(role).includes(Role(NEEDS[route][method]))
        if allowed and response.status_code in (401, 403, 404):
            wrongly_refused.append((method.upper(), route, response.status_code))
        if not allowed and (
            response.status_code != 403 or response.json()["error"]["code"] != "UNAUTHORIZED_ACCESS"
        ):
            refused.append((method.upper(), route, response.status_code))

    assert wrongly_refused == []
    assert refused == []
    assert checked >= 35


def test_a_refused_member_changes_nothing(shared: Shared) -> None:
    viewer = client_for(shared.members[VIEWER])
    owned = shared.owned

    responses = [
        viewer.patch(f"/api/projects/{owned.project.pk}", {"name": "Mine now"}, format="json"),
        viewer.patch(f"/api/clips/{owned.clip.pk}", {"name": "Mine"}, format="json"),
        viewer.delete(f"/api/timeline/segments/{owned.segment.pk}"),
        viewer.delete(f"/api/projects/{owned.project.pk}/members/{shared.target.pk}"),
        viewer.patch(f"/api/comments/{shared.comment.pk}", {"resolved": True}, format="json"),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert responses[0].json()["error"]["details"] == {
        "role": "viewer",
        "required_role": "owner",
    }
    owned.project.refresh_from_db()
    owned.clip.refresh_from_db()
    owned.segment.refresh_from_db()
    shared.comment.refresh_from_db()
    assert owned.project.name == "Project ok"
    assert owned.clip.name == "Clip ok"
    assert shared.comment.resolved is False
    assert owned.project.members.filter(user=shared.target).exists()


def test_caller_scoped_lists_never_show_the_owners_objects(shared: Shared, other_api: Any) -> None:
    owned = shared.owned
    for route in sorted(CALLER_SCOPED):
        response = other_api.get(f"/{route}")
        assert response.status_code == 200, route
        text = response.content.decode()
        for obj in (owned.project, owned.clip, owned.job, shared.invitation, shared.comment):
            assert str(obj.pk) not in text, route


def test_members_see_the_shared_project_and_its_jobs_in_their_lists(shared: Shared) -> None:
    for role in (VIEWER, COMMENTER, EDITOR):
        client = client_for(shared.members[role])

        projects = client.get("/api/projects").json()["results"]
        jobs = client.get("/api/jobs").json()["results"]

        assert [(p["id"], p["role"]) for p in projects] == [(str(shared.owned.project.pk), role)]
        assert {j["id"] for j in jobs} == {str(shared.owned.job.pk), str(shared.export_job.pk)}


def test_caller_actions_never_touch_someone_elses_things(
    shared: Shared, owner: Any, other_api: Any
) -> None:
    from collaboration.models import Notification
    from collaboration.tokens import invitation_token

    notification = Notification.objects.create(
        user=owner, kind=Notification.Kind.COMMENT, message="Someone commented"
    )

    read = other_api.post("/api/notifications/read", {"ids": [str(notification.pk)]}, format="json")
    read_all = other_api.post("/api/notifications/read", {}, format="json")
    accept = other_api.post(
        "/api/invitations/accept", {"token": invitation_token(shared.invitation.pk)}, format="json"
    )

    assert read.status_code == read_all.status_code == 204
    notification.refresh_from_db()
    assert notification.read_at is None
    assert accept.status_code == 403
    assert accept.json()["error"]["code"] == "UNAUTHORIZED_ACCESS"
    shared.invitation.refresh_from_db()
    assert shared.invitation.status == "pending"
    assert not shared.owned.project.members.filter(user__email="other@example.com").exists()


def test_a_missing_object_and_another_users_object_answer_alike(
    shared: Shared, other_api: Any
) -> None:
    for path in ("/api/projects/{}", "/api/comments/{}", "/api/projects/{}/members"):
        theirs = other_api.get(path.format(shared.owned.project.pk))
        missing = other_api.get(path.format(uuid.uuid4()))
        if "comments" in path:
            theirs = other_api.patch(path.format(shared.comment.pk), {}, format="json")
            missing = other_api.patch(path.format(uuid.uuid4()), {}, format="json")

        assert theirs.status_code == missing.status_code == 404, path
        assert theirs.json() == missing.json(), path


@pytest.mark.django_db(transaction=True)
def test_websockets_refuse_anonymous_callers_and_outsiders_and_open_for_every_role(
    owner: Any, personas: dict[str, Any]
) -> None:
    from asgiref.sync import async_to_sync
    from channels.testing import WebsocketCommunicator

    from accounts.tokens import token_pair_issue
    from config.asgi import application
    from projects.models import Project, ProjectMember

    project = Project.objects.create(owner=owner, name="Private")
    for role in (VIEWER, COMMENTER, EDITOR):
        ProjectMember.objects.create(project=project, user=personas[role], role=role)
    tokens = {name: token_pair_issue(user=user).access for name, user in personas.items()}

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
        if "/projects/" in path:  # a project's socket first says who is present
            first = await communicator.receive_output(timeout=2)
            connected = connected and first["type"] == "websocket.send"
        nothing = await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()
        return connected and nothing

    assert async_to_sync(outcome)("/ws/") in (4401, "refused")
    assert async_to_sync(outcome)(f"/ws/projects/{project.pk}/") in (4401, "refused")
    assert async_to_sync(outcome)(f"/ws/projects/{project.pk}/?token={tokens['outsider']}") in (
        4404,
        "refused",
    )
    # The same routes open for every role: the refusals above are about who asks.
    for role in ROLES:
        assert async_to_sync(try_open)(f"/ws/?token={tokens[role]}"), role
        assert async_to_sync(try_open)(f"/ws/projects/{project.pk}/?token={tokens[role]}"), role
    # A member who is removed is refused from then on.
    ProjectMember.objects.filter(project=project, user=personas[EDITOR]).delete()
    assert async_to_sync(outcome)(f"/ws/projects/{project.pk}/?token={tokens[EDITOR]}") == 4404
