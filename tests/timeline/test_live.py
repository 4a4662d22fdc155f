"""Every timeline change reaches the project's open sockets (through the real ASGI app), as
`timeline:updated` and `timeline:op`, after its transaction commits."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.tokens import token_pair_issue
from clips.models import Clip
from config.asgi import application
from projects.models import Project
from tests.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def project_socket(project: Project, user: Any) -> WebsocketCommunicator:
    token = token_pair_issue(user=user).access
    return WebsocketCommunicator(
        application,
        f"/ws/projects/{project.pk}/?token={token}",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")],
    )


def test_it_sends_each_operation_to_the_projects_sockets(
    owner: Any, project: Project, clip: Clip
) -> None:
    api = client_for(owner)
    watcher = project_socket(project, owner)
    base = {"project_id": str(project.pk), "by": str(owner.pk)}

    async def both(version: int) -> dict[str, Any]:
        updated = await watcher.receive_json_from(timeout=5)
        op = await watcher.receive_json_from(timeout=5)
        assert updated == {"type": "timeline:updated", "version": version, **base}
        assert {k: op.pop(k) for k in ("type", "version", "project_id", "by")} == {
            "type": "timeline:op",
            "version": version,
            **base,
        }
        return op

    async def body() -> None:
        assert (await watcher.connect(timeout=5))[0]
        assert (await watcher.receive_json_from(timeout=5))["type"] == "presence"
        call = database_sync_to_async

        created = await call(api.post)(
            f"/api/projects/{project.pk}/timeline/segments",
            {"clip_id": str(clip.pk), "start_time": 1, "duration": 2, "name": "Intro"},
            format="json",
        )
        segment = {k: v for k, v in created.json().items() if k != "timeline_version"}
        assert await both(1) == {"op": "create", "segment": segment}

        moved = await call(api.patch)(
            f"/api/timeline/segments/{segment['id']}", {"start_time": 12}, format="json"
        )
        assert moved.status_code == 200
        assert await both(2) == {"op": "update", "segment": {**segment, "start_time": 12}}

        assert (
            await call(api.delete)(f"/api/timeline/segments/{segment['id']}")
        ).status_code == 204
        assert await both(3) == {"op": "delete", "segment_id": segment["id"]}

        restored = await call(api.post)(
            f"/api/projects/{project.pk}/timeline/restore", {"version": 2}, format="json"
        )
        assert restored.status_code == 200
        assert await both(4) == {"op": "replace", "segments": [{**segment, "start_time": 12}]}

        # A refused operation tells nobody anything.
        clash = await call(api.post)(
            f"/api/projects/{project.pk}/timeline/segments",
            {"clip_id": str(clip.pk), "start_time": 12.5, "duration": 1},
            format="json",
        )
        assert clash.status_code == 409
        assert await watcher.receive_nothing(timeout=0.3)
        await watcher.disconnect()

    async_to_sync(body)()
