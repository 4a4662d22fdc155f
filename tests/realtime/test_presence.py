"""Presence on a project's socket (API.md "Editing together"): who is here, their playhead and
selection, joining and leaving; through the real ASGI application."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from projects.models import Project, ProjectMember
from realtime import presence
from realtime.consumers import CLOSE_NOT_FOUND
from tests.projects.factories import make_project
from tests.realtime.test_websockets import close_code, socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def project(owner: Any) -> Project:
    return make_project(owner, "Regatta")


@pytest.fixture
def member(project: Project, make_user: Callable[..., Any]) -> Callable[[str, str], Any]:
    def make(email: str, role: str) -> Any:
        user = make_user(email, name=email.split("@")[0].title())
        ProjectMember.objects.create(project=project, user=user, role=role)
        return user

    return make


def project_socket(project: Project, user: Any) -> WebsocketCommunicator:
    return socket(f"/ws/projects/{project.pk}/", user=user)


async def joined(communicator: WebsocketCommunicator) -> list[dict[str, Any]]:
    """Connect; the users the server says are present."""
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "presence"
    users: list[dict[str, Any]] = message["users"]
    return users


def run(body: Callable[[], Any]) -> None:
    async_to_sync(body)()


def test_it_tells_each_of_two_editors_who_else_is_here_and_where(
    owner: Any, project: Project, member: Callable[[str, str], Any]
) -> None:
    editor = member("nina@example.com", "editor")
    segment_id = str(uuid.uuid4())
    owner_socket = project_socket(project, owner)
    editor_socket = project_socket(project, editor)
    late = project_socket(project, owner)

    async def body() -> None:
        users = await joined(owner_socket)
        assert [u["id"] for u in users] == [str(owner.pk)]
        me = users[0]
        assert me["name"] == "Olivia Owner" and me["playhead"] == 0 and me["selection"] == []
        assert me["color"] in presence.COLORS

        users = await joined(editor_socket)
        assert [u["id"] for u in users] == [str(owner.pk), str(editor.pk)]
        arrival = await owner_socket.receive_json_from(timeout=5)
        assert arrival["type"] == "presence:join"
        assert arrival["user"] == {
            "id": str(editor.pk),
            "name": "Nina",
            "avatar_url": "",
            "color": presence.color_for(editor.pk),
            "playhead": 0,
            "selection": [],
        }

        # The editor moves the playhead and selects a segment: the owner sees it, the editor
        # does not hear their own update back.
        await editor_socket.send_json_to(
            {"type": "presence:update", "playhead": 4.25, "selection": [segment_id]}
        )
        assert await owner_socket.receive_json_from(timeout=5) == {
            "type": "presence:update",
            "user_id": str(editor.pk),
            "playhead": 4.25,
            "selection": [segment_id],
        }
        assert await editor_socket.receive_nothing(timeout=0.2)

        # And the other way round.
        await owner_socket.send_json_to({"type": "presence:update", "playhead": 1, "selection": []})
        message = await editor_socket.receive_json_from(timeout=5)
        assert (message["type"], message["user_id"], message["playhead"]) == (
            "presence:update",
            str(owner.pk),
            1,
        )

        # Someone arriving now learns where everyone is.
        users = await joined(late)
        editor_entry = next(u for u in users if u["id"] == str(editor.pk))
        assert editor_entry["playhead"] == 4.25 and editor_entry["selection"] == [segment_id]
        assert len(users) == 2  # the owner's two tabs are one person
        # The owner's second tab joined (the first tab hears it too, and ignores its own user).
        for communicator in (editor_socket, owner_socket):
            arrival = await communicator.receive_json_from(timeout=5)
            assert (arrival["type"], arrival["user"]["id"]) == ("presence:join", str(owner.pk))
        await late.disconnect()
        # The owner still has a tab open: nobody left.
        assert await editor_socket.receive_nothing(timeout=0.3)

        await editor_socket.disconnect()
        assert await owner_socket.receive_json_from(timeout=5) == {
            "type": "presence:leave",
            "user_id": str(editor.pk),
        }
        await owner_socket.disconnect()

    run(body)
    assert presence.presence_users(project_id=project.pk) == []


def test_it_gives_a_viewer_presence_too(
    owner: Any, project: Project, member: Callable[[str, str], Any]
) -> None:
    viewer = member("vera@example.com", "viewer")
    owner_socket = project_socket(project, owner)
    viewer_socket = project_socket(project, viewer)

    async def body() -> None:
        await owner_socket.connect(timeout=5)
        await owner_socket.receive_json_from(timeout=5)
        users = await joined(viewer_socket)
        assert {u["id"] for u in users} == {str(owner.pk), str(viewer.pk)}
        assert (await owner_socket.receive_json_from(timeout=5))["type"] == "presence:join"
        await owner_socket.send_json_to(
            {"type": "presence:update", "playhead": 2.5, "selection": []}
        )
        message = await viewer_socket.receive_json_from(timeout=5)
        assert (message["type"], message["playhead"]) == ("presence:update", 2.5)
        # A viewer's playhead is no secret either.
        await viewer_socket.send_json_to({"type": "presence:update", "playhead": 7})
        assert (await owner_socket.receive_json_from(timeout=5))["playhead"] == 7
        await viewer_socket.disconnect()
        await owner_socket.disconnect()

    run(body)


def test_it_keeps_an_outsider_out_of_presence(
    owner: Any, other_user: Any, project: Project
) -> None:
    owner_socket = project_socket(project, owner)
    outsider = project_socket(project, other_user)

    async def body() -> None:
        await joined(owner_socket)
        assert await close_code(outsider) == CLOSE_NOT_FOUND
        # Nobody was told anyone joined, and the outsider is not listed.
        assert await owner_socket.receive_nothing(timeout=0.3)
        await owner_socket.disconnect()

    run(body)
    assert presence.presence_users(project_id=project.pk) == []


@pytest.mark.parametrize(
    "update",
    [
        {"type": "presence:update", "playhead": "5", "selection": []},
        {"type": "presence:update", "playhead": True, "selection": []},
        {"type": "presence:update", "playhead": -1, "selection": []},
        {"type": "presence:update", "playhead": 1, "selection": "all"},
        {"type": "presence:update", "playhead": 1, "selection": ["not-an-id"]},
        {"type": "presence:update", "playhead": 1, "selection": [{"id": 1}]},
        {
            "type": "presence:update",
            "playhead": 1,
            "selection": [str(uuid.uuid4()) for _ in range(presence.MAX_SELECTION + 1)],
        },
    ],
)
def test_it_drops_presence_updates_that_are_not_numbers_and_ids(
    owner: Any, project: Project, member: Callable[[str, str], Any], update: dict[str, Any]
) -> None:
    editor = member("nina@example.com", "editor")
    owner_socket = project_socket(project, owner)
    editor_socket = project_socket(project, editor)

    async def body() -> None:
        await joined(owner_socket)
        await joined(editor_socket)
        await owner_socket.receive_json_from(timeout=5)
        await editor_socket.send_json_to(update)
        await editor_socket.send_to(text_data="not json")
        await editor_socket.send_to(
            text_data=json.dumps({"type": "presence:update", "x": "y" * 20_000})
        )
        assert await owner_socket.receive_nothing(timeout=0.3)
        # The socket is still fine: a good update goes through.
        await editor_socket.send_json_to(
            {"type": "presence:update", "playhead": 3, "selection": []}
        )
        assert (await owner_socket.receive_json_from(timeout=5))["playhead"] == 3
        await editor_socket.disconnect()
        await owner_socket.disconnect()

    run(body)


def test_it_merges_a_burst_of_presence_updates(
    owner: Any, project: Project, member: Callable[[str, str], Any]
) -> None:
    editor = member("nina@example.com", "editor")
    owner_socket = project_socket(project, owner)
    editor_socket = project_socket(project, editor)

    async def body() -> None:
        await joined(owner_socket)
        await joined(editor_socket)
        await owner_socket.receive_json_from(timeout=5)
        for step in range(100):
            await editor_socket.send_json_to(
                {"type": "presence:update", "playhead": step / 10, "selection": []}
            )
        seen = []
        while True:
            message = await owner_socket.receive_json_from(timeout=5)
            seen.append(message["playhead"])
            if message["playhead"] == 9.9:
                break
        # Far fewer than sent, and the last one is where the editor stopped.
        assert len(seen) < 20 and seen[-1] == 9.9
        await editor_socket.disconnect()
        await owner_socket.disconnect()

    run(body)
