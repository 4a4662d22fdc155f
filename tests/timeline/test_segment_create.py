"""POST /api/projects/:id/timeline/segments: one new segment, checked against the timeline as
it is when the request arrives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from clips.models import Clip
from projects.models import Project
from tests.projects.factories import make_clip, make_project
from timeline.models import TimelineChange, TimelineSegment


def url(project: Project) -> str:
    return f"/api/projects/{project.id}/timeline/segments"


def body(clip: Clip, start: float, duration: float, **extra: Any) -> dict[str, Any]:
    return {"clip_id": str(clip.id), "start_time": start, "duration": duration, **extra}


def test_it_adds_a_segment_as_the_next_version(
    api: Any, owner: Any, project: Project, clip: Clip
) -> None:
    response = api.post(url(project), body(clip, 2.5, 3, source_start=1), format="json")

    assert response.status_code == 201
    created = response.json()
    assert created["start_time"] == 2.5
    assert created["source_start"] == 1
    assert created["name"] == "beach.mp4"
    assert created["layer"] == "video"
    assert created["timeline_version"] == 1
    segment = TimelineSegment.objects.get(pk=created["id"])
    assert (segment.project_id, segment.start_time, segment.duration) == (
        project.id,
        Decimal("2.5"),
        Decimal(3),
    )
    project.refresh_from_db()
    assert (project.timeline_version, project.total_duration) == (1, Decimal("5.5"))
    change = TimelineChange.objects.get(project=project)
    assert (change.version, change.by_id, change.kind, change.summary) == (
        1,
        owner.id,
        "create",
        "added 'beach.mp4' at 0:02.5",
    )
    assert response["Server-Timing"].startswith("apply;dur=")


def test_it_tells_everyone_watching_the_project(
    api: Any,
    owner: Any,
    project: Project,
    clip: Clip,
    project_events: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url(project), body(clip, 0, 1, name="Intro"), format="json")

    created = response.json()
    assert project_events() == [
        {
            "type": "timeline:updated",
            "project_id": str(project.id),
            "version": 1,
            "by": str(owner.id),
        },
        {
            "type": "timeline:op",
            "project_id": str(project.id),
            "version": 1,
            "by": str(owner.id),
            "op": "create",
            "segment": {k: v for k, v in created.items() if k != "timeline_version"},
        },
    ]


def test_it_answers_409_when_the_new_segment_would_overlap_a_video_segment(
    api: Any, project: Project, clip: Clip
) -> None:
    first = api.post(url(project), body(clip, 0, 4), format="json").json()

    response = api.post(url(project), body(clip, 3, 2), format="json")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "CONFLICT"
    assert error["details"]["segment"] is None
    assert error["details"]["overlaps"] == {"segment_id": first["id"]}
    assert TimelineSegment.objects.filter(project=project).count() == 1
    project.refresh_from_db()
    assert project.timeline_version == 1


def test_it_lets_audio_overlap_and_video_touch(api: Any, project: Project, clip: Clip) -> None:
    assert api.post(url(project), body(clip, 0, 4), format="json").status_code == 201

    touching = api.post(url(project), body(clip, 4, 2), format="json")
    audio = api.post(url(project), body(clip, 1, 5, layer="audio"), format="json")

    assert (touching.status_code, audio.status_code) == (201, 201)
    assert audio.json()["timeline_version"] == 3


def test_it_refuses_a_segment_past_the_end_of_its_clip(
    api: Any, project: Project, clip: Clip
) -> None:
    # Nothing anyone else did makes this fit: a plain validation error, not a conflict.
    response = api.post(url(project), body(clip, 0, 4, source_start=8), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "duration"
    assert not TimelineSegment.objects.filter(project=project).exists()


@pytest.mark.parametrize("whose", ["mine", "theirs"])
def test_it_refuses_a_clip_from_another_project(
    whose: str, api: Any, owner: Any, other_user: Any, project: Project
) -> None:
    elsewhere = make_clip(make_project(owner if whose == "mine" else other_user))

    response = api.post(url(project), body(elsewhere, 0, 1), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "clip_id"


@pytest.mark.parametrize(
    ("change", "field"),
    [({"duration": 0}, "duration"), ({"start_time": -1}, "start_time"), ({"layer": "x"}, "layer")],
)
def test_it_names_the_field_that_is_wrong(
    api: Any, project: Project, clip: Clip, change: dict[str, Any], field: str
) -> None:
    response = api.post(url(project), {**body(clip, 0, 1), **change}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == field


def test_it_refuses_a_segment_beyond_the_segment_limit(
    api: Any, project: Project, clip: Clip, settings: Any
) -> None:
    settings.TIMELINE_MAX_SEGMENTS = MAX_SEGMENTS = 20
    TimelineSegment.objects.bulk_create(
        TimelineSegment(
            project=project,
            clip=clip,
            layer="audio",
            start_time=Decimal(0),
            duration=Decimal(1),
        )
        for _ in range(MAX_SEGMENTS)
    )

    response = api.post(url(project), body(clip, 0, 1, layer="audio"), format="json")

    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert details["max_segments"] == MAX_SEGMENTS
    assert details["segments"] == MAX_SEGMENTS + 1
    assert TimelineSegment.objects.filter(project=project).count() == MAX_SEGMENTS


def test_it_hides_the_project_from_an_outsider(
    other_api: Any, project: Project, clip: Clip
) -> None:
    response = other_api.post(url(project), body(clip, 0, 1), format="json")

    assert response.status_code == 404
    assert not TimelineSegment.objects.exists()


def test_it_refuses_anonymous_callers(anon_api: Any, project: Project, clip: Clip) -> None:
    response = anon_api.post(url(project), body(clip, 0, 1), format="json")

    assert response.status_code == 401
    assert not TimelineSegment.objects.exists()
