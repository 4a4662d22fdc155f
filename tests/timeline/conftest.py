from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from clips.models import Clip
from projects.models import Project
from realtime.broadcast import project_group
from tests.projects.factories import make_clip, make_project


@pytest.fixture
def project(owner: Any) -> Project:
    return make_project(owner)


@pytest.fixture
def clip(project: Project) -> Clip:
    """A ready 10-second clip in the project's library."""
    return make_clip(project, "beach.mp4", duration="10.000")


@pytest.fixture
def short_clip(project: Project) -> Clip:
    return make_clip(project, "waves.mp4", duration="4.500")


@pytest.fixture
def project_events(project: Project) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Listen on the project's websocket group; call the result to get what arrived so far."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(project_group(project.id), channel)

    async def drain() -> list[dict[str, Any]]:
        events = []
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), timeout=0.2)
            except TimeoutError:
                return events
            events.append(message["event"])

    yield async_to_sync(drain)
    async_to_sync(layer.group_discard)(project_group(project.id), channel)
