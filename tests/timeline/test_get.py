from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from clips.models import Clip
from projects.models import Project
from timeline.models import TimelineSegment


def url(project: Project) -> str:
    return f"/api/projects/{project.id}/timeline"


def test_it_shows_an_empty_timeline_of_a_new_project(api: Any, project: Project) -> None:
    response = api.get(url(project))

    assert response.status_code == 200
    assert response.json() == {
        "project_id": str(project.id),
        "version": 0,
        "duration": 0,
        "segments": [],
    }


def test_it_shows_the_segments_in_time_order(api: Any, project: Project, clip: Clip) -> None:
    second = TimelineSegment.objects.create(
        project=project,
        clip=clip,
        name="Waves",
        start_time=Decimal("2.500"),
        source_start=Decimal("1.250"),
        duration=Decimal("3.000"),
    )
    first = TimelineSegment.objects.create(
        project=project, clip=clip, name="Intro", start_time=Decimal("0"), duration=Decimal("2.5")
    )
    Project.objects.filter(pk=project.pk).update(timeline_version=4, total_duration=Decimal("5.5"))

    body = api.get(url(project)).json()

    # Sound, picture and text fields show their defaults.
    defaults = {
        "volume": 1,
        "fade_in": 0,
        "fade_out": 0,
        "fit": "blur",
        "transition": None,
        "duck": False,
        "text": None,
    }
    assert body["version"] == 4
    assert body["duration"] == 5.5
    assert body["segments"] == [
        {
            "id": str(first.id),
            "clip_id": str(clip.id),
            "name": "Intro",
            "layer": "video",
            "start_time": 0,
            "source_start": 0,
            "duration": 2.5,
            **defaults,
        },
        {
            "id": str(second.id),
            "clip_id": str(clip.id),
            "name": "Waves",
            "layer": "video",
            "start_time": 2.5,
            "source_start": 1.25,
            "duration": 3,
            **defaults,
        },
    ]


def test_it_answers_404_for_a_missing_project(api: Any) -> None:
    response = api.get(f"/api/projects/{uuid.uuid4()}/timeline")

    assert response.status_code == 404


def test_it_hides_the_timeline_from_an_outsider(
    other_api: Any, project: Project, clip: Clip
) -> None:
    TimelineSegment.objects.create(
        project=project, clip=clip, start_time=Decimal(0), duration=Decimal(1)
    )

    response = other_api.get(url(project))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_it_refuses_anonymous_callers(anon_api: Any, project: Project) -> None:
    response = anon_api.get(url(project))

    assert response.status_code == 401
