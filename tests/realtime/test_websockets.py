"""The websockets of API.md: /ws/ for the caller's events, /ws/projects/:id/ for a project's.

Sockets go through the real ASGI application (origin check, session or ?token= auth, routing).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from django.test import Client

from accounts.tokens import token_pair_issue
from config.asgi import application
from processing.models import ProcessingJob
from processing.services import job_enqueue
from projects.models import Project
from realtime import broadcast as events
from realtime.consumers import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED
from tests.conftest import in_ci
from tests.projects.factories import make_project

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")


def run(coroutine: Callable[[], Awaitable[Any]]) -> Any:
    return async_to_sync(coroutine)()


def socket(
    path: str, *, user: Any | None = None, cookie: str | None = None
) -> WebsocketCommunicator:
    headers = [ORIGIN, (b"host", b"testserver")]
    if user is not None:
        path += f"?token={token_pair_issue(user=user).access}"
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def close_code(communicator: WebsocketCommunicator) -> int | None:
    """The application close code of a socket the server refused (accepted, then closed)."""
    connected, code = await communicator.connect(timeout=5)
    if not connected:
        return code
    output = await communicator.receive_output(timeout=5)
    assert output["type"] == "websocket.close"
    return output.get("code")


async def join_project(communicator: WebsocketCommunicator) -> None:
    """Connect to a project's socket; the first message says who is present."""
    assert (await communicator.connect(timeout=5))[0]
    assert (await communicator.receive_json_from(timeout=5))["type"] == "presence"


@pytest.fixture
def project(owner: Any) -> Project:
    return make_project(owner)


def test_it_relays_the_callers_events_on_ws(owner: Any) -> None:
    communicator = socket("/ws/", user=owner)

    async def body() -> None:
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        await database_sync_to_async(events.broadcast)(
            {"type": "notification", "level": "info", "message": "hi"},
            [events.user_group(owner.pk)],
        )
        assert await communicator.receive_json_from(timeout=5) == {
            "type": "notification",
            "level": "info",
            "message": "hi",
        }
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
        await communicator.disconnect()

    run(body)


def test_it_does_not_relay_other_users_events(owner: Any, other_user: Any) -> None:
    communicator = socket("/ws/", user=owner)

    async def body() -> None:
        assert (await communicator.connect(timeout=5))[0]
        await database_sync_to_async(events.broadcast)(
            {"type": "notification", "message": "secret"}, [events.user_group(other_user.pk)]
        )
        assert await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()

    run(body)


def test_it_authenticates_sockets_by_session_cookie(owner: Any) -> None:
    client = Client()
    client.force_login(owner)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    communicator = socket("/ws/", cookie=cookie)

    async def body() -> None:
        assert (await communicator.connect(timeout=5))[0]
        await database_sync_to_async(events.broadcast)(
            {"type": "notification", "message": "by cookie"}, [events.user_group(owner.pk)]
        )
        assert (await communicator.receive_json_from(timeout=5))["message"] == "by cookie"
        await communicator.disconnect()

    run(body)


@pytest.mark.parametrize("path", ["/ws/", "/ws/projects/{project}/"])
def test_it_closes_anonymous_sockets_with_4401(path: str, project: Project) -> None:
    communicator = socket(path.format(project=project.pk))

    async def body() -> None:
        assert await close_code(communicator) == CLOSE_UNAUTHENTICATED

    run(body)


def test_it_closes_a_socket_with_a_forged_token_with_4401() -> None:
    async def body() -> None:
        communicator = WebsocketCommunicator(
            application, "/ws/?token=not-a-token", headers=[ORIGIN, (b"host", b"testserver")]
        )
        assert await close_code(communicator) == CLOSE_UNAUTHENTICATED

    run(body)


def test_it_relays_a_projects_events_to_its_owner(owner: Any, project: Project) -> None:
    communicator = socket(f"/ws/projects/{project.pk}/", user=owner)

    async def body() -> None:
        await join_project(communicator)
        message = {"type": "timeline:updated", "project_id": str(project.pk), "version": 3}
        await database_sync_to_async(events.broadcast)(message, [events.project_group(project.pk)])
        assert await communicator.receive_json_from(timeout=5) == message
        await communicator.disconnect()

    run(body)


def test_it_refuses_an_outsider_before_joining_the_project_group(
    other_user: Any, project: Project
) -> None:
    communicator = socket(f"/ws/projects/{project.pk}/", user=other_user)

    async def body() -> None:
        assert await close_code(communicator) == CLOSE_NOT_FOUND
        # Nothing sent to the project reaches the refused socket.
        await database_sync_to_async(events.broadcast)(
            {"type": "timeline:updated"}, [events.project_group(project.pk)]
        )
        assert await communicator.receive_nothing(timeout=0.3)

    run(body)


def test_it_refuses_a_project_that_does_not_exist(owner: Any) -> None:
    communicator = socket(f"/ws/projects/{uuid.uuid4()}/", user=owner)

    async def body() -> None:
        assert await close_code(communicator) == CLOSE_NOT_FOUND

    run(body)


def test_it_sends_job_events_only_after_commit(owner: Any, project: Project) -> None:
    communicator = socket(f"/ws/projects/{project.pk}/", user=owner)

    async def body() -> None:
        await join_project(communicator)

        def broadcast_then_roll_back() -> None:
            try:
                with transaction.atomic():
                    events.broadcast(
                        {"type": "notification", "message": "x"},
                        [events.user_group(owner.pk), events.project_group(project.pk)],
                    )
                    raise RuntimeError("rolled back")
            except RuntimeError:
                pass

        await database_sync_to_async(broadcast_then_roll_back)()
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()

    run(body)


# --- across processes -------------------------------------------------------------------------

SUBPROCESS_SCRIPT = """
import sys, uuid
from decimal import Decimal
import django
django.setup()
from realtime import broadcast as events
from processing.models import ProcessingJob
from processing.engine import job_groups, progress_message

job = ProcessingJob(
    id=uuid.UUID(sys.argv[1]), owner_id=sys.argv[2], project_id=sys.argv[3],
    job_type="transcode", status="running", progress=Decimal("42.5"),
)
events.broadcast(progress_message(job), job_groups(job))
print("sent")
"""


@pytest.mark.skipif(
    not settings.REDIS_URL and not in_ci(),
    reason="the in-memory channel layer cannot cross processes; runs with REDIS_URL (always in CI)",
)
def test_it_delivers_progress_sent_by_another_process(owner: Any, project: Project) -> None:
    assert settings.REDIS_URL, "CI must set REDIS_URL: progress from workers crosses processes"
    assert "RedisChannelLayer" in settings.CHANNEL_LAYERS["default"]["BACKEND"]
    job_id = uuid.uuid4()

    user_socket = socket("/ws/", user=owner)
    project_socket = socket(f"/ws/projects/{project.pk}/", user=owner)

    async def body() -> None:
        assert (await user_socket.connect(timeout=5))[0]
        await join_project(project_socket)

        def worker_process() -> None:
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
            completed = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    SUBPROCESS_SCRIPT,
                    str(job_id),
                    str(owner.pk),
                    str(project.pk),
                ],
                env=env,
                capture_output=True,
                timeout=60,
                cwd=settings.BASE_DIR,
                check=False,
            )
            assert completed.returncode == 0, completed.stderr.decode()[-2000:]
            assert completed.stdout.decode().strip().endswith("sent")

        await database_sync_to_async(worker_process)()
        for communicator in (user_socket, project_socket):
            message = await communicator.receive_json_from(timeout=10)
            assert message["type"] == "processing:progress"
            assert message["job_id"] == str(job_id)
            assert message["progress"] == 42.5
            assert message["project_id"] == str(project.pk)
            await communicator.disconnect()

    run(body)


# --- a real job -------------------------------------------------------------------------------


def test_it_streams_a_running_jobs_progress_and_completion(
    owner: Any, project: Project, worker: Any, media: Any, stored_clip: Callable[..., Any]
) -> None:
    clip = stored_clip(media.normal(), status="ready")

    communicator = socket(f"/ws/projects/{project.pk}/", user=owner)

    async def body() -> None:
        assert (await communicator.connect(timeout=5))[0]

        def start() -> ProcessingJob:
            with transaction.atomic():
                return job_enqueue(owner=owner, job_type="transcode", clip=clip)

        job = await database_sync_to_async(start)()
        seen = []
        while True:
            message = await communicator.receive_json_from(timeout=60)
            if message.get("job_id") != str(job.pk):
                continue
            seen.append(message)
            if message["type"] != "processing:progress":
                break
        await communicator.disconnect()

        assert seen[0]["type"] == "processing:progress" and seen[0]["status"] == "running"
        assert seen[-1]["type"] == "processing:completed"
        assert seen[-1]["output_data"]["key"].endswith("proxy.mp4")
        progress = [m["progress"] for m in seen[:-1]]
        assert progress == sorted(progress)
        # Throttled: a couple of messages a second at most, not one per FFmpeg progress line.
        assert len(seen) <= 20

    run(body)
