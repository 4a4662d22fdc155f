from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from clips.models import Clip
from projects.models import Project
from tests.projects.factories import make_clip, make_project
from timeline.models import TimelineSegment


def url(project: Project) -> str:
    return f"/api/projects/{project.id}/timeline"


def seg(clip: Clip, start: float, duration: float, **extra: Any) -> dict[str, Any]:
    return {"clip_id": str(clip.id), "start_time": start, "duration": duration, **extra}


def save(api: Any, project: Project, segments: list[dict[str, Any]], version: int = 0) -> Any:
    return api.post(url(project), {"version": version, "segments": segments}, format="json")


def stored(project: Project) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    return [
        (s.layer, s.start_time, s.source_start, s.duration)
        for s in TimelineSegment.objects.filter(project=project).order_by("start_time", "layer")
    ]


@pytest.fixture
def saved(api: Any, project: Project, clip: Clip) -> list[dict[str, Any]]:
    """A timeline saved once (now at version 1): two video segments, 0–4 s and 4–6 s."""
    response = save(api, project, [seg(clip, 0, 4), seg(clip, 4, 2, source_start=5)])
    assert response.status_code == 200
    return response.json()["segments"]


def test_it_saves_the_timeline_and_answers_with_it(
    api: Any, project: Project, clip: Clip, short_clip: Clip
) -> None:
    response = save(
        api,
        project,
        [
            seg(clip, 0, 4, name="Opening"),
            seg(short_clip, 4, 4.5, source_start=0),
            seg(clip, 1, 2, source_start=7, layer="audio"),
        ],
    )

    assert response.status_code == 200
    body = response.json()
    assert body["project_id"] == str(project.id)
    assert body["version"] == 1
    assert body["duration"] == 8.5
    assert [(s["name"], s["layer"], s["start_time"]) for s in body["segments"]] == [
        ("Opening", "video", 0),
        ("beach.mp4", "audio", 1),
        ("waves.mp4", "video", 4),
    ]
    assert stored(project) == [
        ("video", Decimal("0.000"), Decimal("0.000"), Decimal("4.000")),
        ("audio", Decimal("1.000"), Decimal("7.000"), Decimal("2.000")),
        ("video", Decimal("4.000"), Decimal("0.000"), Decimal("4.500")),
    ]
    project.refresh_from_db()
    assert (project.timeline_version, project.total_duration) == (1, Decimal("8.5"))
    assert api.get(url(project)).json() == body


def test_it_replaces_everything_that_was_there(
    api: Any, project: Project, clip: Clip, saved: list[dict[str, Any]]
) -> None:
    response = save(api, project, [seg(clip, 10, 1)], version=1)

    assert response.status_code == 200
    assert stored(project) == [("video", Decimal(10), Decimal(0), Decimal(1))]
    project.refresh_from_db()
    assert (project.timeline_version, project.total_duration) == (2, Decimal(11))


def test_it_keeps_the_ids_of_segments_it_already_had(
    api: Any,
    project: Project,
    clip: Clip,
    short_clip: Clip,
    saved: list[dict[str, Any]],
    other_user: Any,
) -> None:
    foreign = TimelineSegment.objects.create(
        project=(other := make_project(other_user)),
        clip=make_clip(other),
        start_time=Decimal(0),
        duration=Decimal(1),
    )
    made_up = str(uuid.uuid4())

    response = save(
        api,
        project,
        [
            seg(short_clip, 0, 3, id=saved[0]["id"], layer="audio"),
            seg(clip, 3, 1, id=made_up),
            seg(clip, 4, 1, id=str(foreign.id)),
            seg(clip, 5, 1),
        ],
        version=1,
    )

    assert response.status_code == 200
    ids = [s["id"] for s in response.json()["segments"]]
    assert ids[0] == saved[0]["id"]
    assert saved[1]["id"] not in ids
    assert made_up not in ids
    assert str(foreign.id) not in ids
    assert len(set(ids)) == 4
    kept = TimelineSegment.objects.get(pk=saved[0]["id"])
    assert (kept.clip_id, kept.layer, kept.duration) == (short_clip.id, "audio", Decimal(3))
    foreign.refresh_from_db()
    assert (foreign.project_id, foreign.duration) == (other.id, Decimal(1))


def test_it_saves_an_empty_timeline_as_zero_seconds(
    api: Any, project: Project, saved: list[dict[str, Any]]
) -> None:
    response = save(api, project, [], version=1)

    assert response.status_code == 200
    assert response.json()["duration"] == 0
    project.refresh_from_db()
    assert project.total_duration == 0
    assert not TimelineSegment.objects.filter(project=project).exists()


def test_it_rounds_times_to_milliseconds(api: Any, project: Project, clip: Clip) -> None:
    response = save(api, project, [seg(clip, 0.1 + 0.2, 1.23456, source_start=2.0004)])

    assert response.status_code == 200
    (segment,) = response.json()["segments"]
    assert (segment["start_time"], segment["source_start"], segment["duration"]) == (
        0.3,
        2.0,
        1.235,
    )
    assert stored(project) == [("video", Decimal("0.3"), Decimal("2"), Decimal("1.235"))]


def test_it_refuses_a_save_based_on_an_old_version_and_loses_nothing(
    api: Any, project: Project, clip: Clip, saved: list[dict[str, Any]]
) -> None:
    before = stored(project)

    response = save(api, project, [seg(clip, 0, 1)], version=0)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "CONFLICT"
    assert error["details"]["current_version"] == 1
    assert stored(project) == before
    project.refresh_from_db()
    assert (project.timeline_version, project.total_duration) == (1, Decimal(6))


def test_it_accepts_video_segments_that_touch(api: Any, project: Project, clip: Clip) -> None:
    response = save(api, project, [seg(clip, 2.5, 2.5), seg(clip, 0, 2.5)])

    assert response.status_code == 200
    assert response.json()["duration"] == 5


def test_it_rejects_overlapping_video_segments_and_loses_nothing(
    api: Any, project: Project, clip: Clip, saved: list[dict[str, Any]]
) -> None:
    before = stored(project)

    response = save(api, project, [seg(clip, 0, 3), seg(clip, 5, 1), seg(clip, 2.999, 1)], 1)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["segment"] == 2
    assert error["details"]["field"] == "start_time"
    assert error["details"]["overlaps"] == {"segment": 0}
    assert "overlap" in error["message"]
    assert stored(project) == before
    project.refresh_from_db()
    assert project.timeline_version == 1


def test_it_lets_audio_segments_overlap_video_and_each_other(
    api: Any, project: Project, clip: Clip
) -> None:
    response = save(
        api,
        project,
        [
            seg(clip, 0, 5),
            seg(clip, 1, 5, layer="audio"),
            seg(clip, 2, 9, source_start=1, layer="audio"),
        ],
    )

    assert response.status_code == 200
    assert response.json()["duration"] == 11


def test_it_rejects_a_segment_that_runs_past_the_end_of_its_clip(
    api: Any, project: Project, clip: Clip
) -> None:
    response = save(api, project, [seg(clip, 0, 2), seg(clip, 2, 3, source_start=7.5)])

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["details"]["segment"], error["details"]["field"]) == (1, "duration")
    assert "end of the clip" in error["message"]
    assert not TimelineSegment.objects.exists()


def test_it_forgives_a_millisecond_past_the_end_of_the_clip(
    api: Any, project: Project, clip: Clip
) -> None:
    assert save(api, project, [seg(clip, 0, 3.001, source_start=7)]).status_code == 200
    assert save(api, project, [seg(clip, 0, 3.002, source_start=7)], 1).status_code == 400


@pytest.mark.parametrize("whose", ["my other project", "another user"])
def test_it_rejects_a_clip_from_elsewhere_without_telling_whose(
    whose: str, api: Any, owner: Any, other_user: Any, project: Project, clip: Clip
) -> None:
    elsewhere = make_clip(make_project(owner if whose == "my other project" else other_user))

    response = save(api, project, [seg(clip, 0, 1), seg(elsewhere, 1, 1)])
    missing = save(
        api, project, [seg(clip, 0, 1), {**seg(clip, 1, 1), "clip_id": str(uuid.uuid4())}]
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["details"]["segment"], error["details"]["field"]) == (1, "clip_id")
    assert error == missing.json()["error"]
    assert not TimelineSegment.objects.exists()


@pytest.mark.parametrize(
    ("status", "duration"),
    [("uploading", None), ("processing", None), ("failed", "10.000")],
)
def test_it_rejects_a_clip_whose_length_is_not_known(
    api: Any, project: Project, status: str, duration: str | None
) -> None:
    clip = make_clip(project, status=status, duration=duration)

    response = save(api, project, [seg(clip, 0, 1)])

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "clip_id"
    assert not TimelineSegment.objects.exists()


def test_it_accepts_a_clip_still_processing_once_its_length_is_known(
    api: Any, project: Project
) -> None:
    clip = make_clip(project, status="processing", duration="3.000")

    assert save(api, project, [seg(clip, 0, 3)]).status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start_time": -1}, "start_time"),
        ({"source_start": -0.5}, "source_start"),
        ({"duration": 0}, "duration"),
        ({"duration": 0.0004}, "duration"),
        ({"duration": -2}, "duration"),
        ({"duration": "soon"}, "duration"),
        ({"layer": "titles"}, "layer"),
        ({"clip_id": "not-a-uuid"}, "clip_id"),
        ({"start_time": None}, "start_time"),
    ],
)
def test_it_names_the_segment_and_field_that_are_wrong(
    api: Any,
    project: Project,
    clip: Clip,
    saved: list[dict[str, Any]],
    change: dict[str, Any],
    field: str,
) -> None:
    before = stored(project)

    response = save(api, project, [seg(clip, 0, 1), {**seg(clip, 1, 1), **change}], version=1)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert (error["details"]["segment"], error["details"]["field"]) == (1, field)
    assert f"segments[1].{field}" in error["message"]
    assert stored(project) == before


@pytest.mark.parametrize(
    "body",
    [
        {"segments": []},
        {"version": -1, "segments": []},
        {"version": 0},
        {"version": 0, "segments": {"a": 1}},
        [],
    ],
)
def test_it_rejects_a_malformed_timeline(api: Any, project: Project, body: Any) -> None:
    response = api.post(url(project), body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    project.refresh_from_db()
    assert project.timeline_version == 0


def test_it_tells_everyone_watching_the_project(
    api: Any,
    owner: Any,
    project: Project,
    clip: Clip,
    project_events: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = save(api, project, [seg(clip, 0, 1)])

    assert response.status_code == 200
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
            "op": "replace",
            "segments": response.json()["segments"],
        },
    ]


def test_it_tells_nobody_about_a_refused_save(
    api: Any,
    project: Project,
    clip: Clip,
    project_events: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = save(api, project, [seg(clip, 0, 1), seg(clip, 0.5, 1)])

    assert response.status_code == 400
    assert project_events() == []


def test_it_hides_the_project_from_an_outsider(
    other_api: Any, project: Project, clip: Clip, saved: list[dict[str, Any]]
) -> None:
    before = stored(project)

    response = save(other_api, project, [seg(clip, 0, 1)], version=1)

    assert response.status_code == 404
    assert stored(project) == before


def test_it_refuses_anonymous_callers(anon_api: Any, project: Project, clip: Clip) -> None:
    response = save(anon_api, project, [seg(clip, 0, 1)])

    assert response.status_code == 401
    assert not TimelineSegment.objects.exists()
