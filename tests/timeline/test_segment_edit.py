from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from clips.models import Clip
from projects.models import Project
from tests.projects.factories import make_clip, make_project
from timeline.models import TimelineSegment

# What a segment shows for the fields it was never given.
DEFAULTS = {
    "volume": 1.0,
    "fade_in": 0.0,
    "fade_out": 0.0,
    "fit": "blur",
    "transition": None,
    "duck": False,
    "text": None,
}


def url(segment: TimelineSegment | uuid.UUID) -> str:
    return f"/api/timeline/segments/{getattr(segment, 'id', segment)}"


def place(project: Project, clip: Clip, start: str, duration: str, **extra: Any) -> TimelineSegment:
    return TimelineSegment.objects.create(
        project=project,
        clip=clip,
        name=extra.pop("name", "piece"),
        start_time=Decimal(start),
        duration=Decimal(duration),
        **extra,
    )


@pytest.fixture
def timeline(project: Project, clip: Clip) -> tuple[TimelineSegment, TimelineSegment]:
    """Video 0–2 s and 5–8 s, saved at version 3."""
    first = place(project, clip, "0", "2")
    second = place(project, clip, "5", "3")
    Project.objects.filter(pk=project.pk).update(timeline_version=3, total_duration=Decimal(8))
    return first, second


def test_it_moves_a_segment_and_recomputes_the_duration(
    api: Any, project: Project, timeline: tuple[TimelineSegment, TimelineSegment]
) -> None:
    _, second = timeline

    response = api.patch(url(second), {"start_time": 6.25}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["start_time"] == 6.25
    assert body["duration"] == 3
    assert body["timeline_version"] == 4
    second.refresh_from_db()
    assert (second.start_time, second.duration, second.name) == (
        Decimal("6.25"),
        Decimal(3),
        "piece",
    )
    project.refresh_from_db()
    assert (project.timeline_version, project.total_duration) == (4, Decimal("9.25"))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"start_time": 2}, Decimal(5)),  # the last segment moves earlier: the other ends later
        ({"start_time": 2, "duration": 0.5}, Decimal("2.5")),
        ({"duration": 4}, Decimal(9)),
        ({"name": "Outro"}, Decimal(8)),
    ],
)
def test_it_keeps_the_duration_true_whichever_way_the_last_segment_changes(
    api: Any,
    project: Project,
    timeline: tuple[TimelineSegment, TimelineSegment],
    change: dict[str, Any],
    expected: Decimal,
) -> None:
    _, second = timeline

    response = api.patch(url(second), change, format="json")

    assert response.status_code == 200
    project.refresh_from_db()
    assert project.total_duration == expected
    assert api.get(f"/api/projects/{project.id}/timeline").json()["duration"] == expected


def test_it_replaces_a_segment_with_put(
    api: Any,
    project: Project,
    short_clip: Clip,
    timeline: tuple[TimelineSegment, TimelineSegment],
) -> None:
    first, _ = timeline

    response = api.put(
        url(first),
        {
            "clip_id": str(short_clip.id),
            "layer": "audio",
            "start_time": 10,
            "source_start": 0.5,
            "duration": 4,
        },
        format="json",
    )

    assert response.status_code == 200
    first.refresh_from_db()
    assert (first.clip_id, first.layer, first.start_time, first.source_start, first.name) == (
        short_clip.id,
        "audio",
        Decimal(10),
        Decimal("0.5"),
        "waves.mp4",
    )
    project.refresh_from_db()
    assert project.total_duration == Decimal(14)


def test_it_requires_every_field_with_put(
    api: Any, timeline: tuple[TimelineSegment, TimelineSegment]
) -> None:
    first, _ = timeline

    response = api.put(url(first), {"start_time": 1}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] in {"clip_id", "duration"}
    first.refresh_from_db()
    assert first.start_time == 0


def test_it_refuses_to_overlap_another_video_segment(
    api: Any, project: Project, timeline: tuple[TimelineSegment, TimelineSegment]
) -> None:
    first, second = timeline

    response = api.patch(url(first), {"duration": 5.5}, format="json")

    # A conflict, not a bad request: it would have fitted before someone moved `second`.
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "CONFLICT"
    assert "overlap" in error["message"]
    assert error["details"]["field"] == "start_time"
    assert error["details"]["overlaps"] == {"segment_id": str(second.id)}
    assert error["details"]["segment"] == {
        "id": str(first.id),
        "clip_id": str(first.clip_id),
        "name": "piece",
        "layer": "video",
        "start_time": 0.0,
        "source_start": 0.0,
        "duration": 2.0,
        **DEFAULTS,
    }
    assert error["details"]["current_version"] == 3
    first.refresh_from_db()
    assert first.duration == 2
    project.refresh_from_db()
    assert project.timeline_version == 3


def test_it_lets_an_audio_segment_overlap_video(
    api: Any, project: Project, timeline: tuple[TimelineSegment, TimelineSegment]
) -> None:
    first, _ = timeline

    response = api.patch(url(first), {"layer": "audio", "duration": 7}, format="json")

    assert response.status_code == 200
    project.refresh_from_db()
    assert project.total_duration == 8


def test_it_refuses_to_run_past_the_end_of_the_clip(
    api: Any, timeline: tuple[TimelineSegment, TimelineSegment]
) -> None:
    first, _ = timeline

    response = api.patch(url(first), {"source_start": 9}, format="json")

    assert response.status_code == 409
    details = response.json()["error"]["details"]
    assert details["field"] == "duration"
    assert details["segment"]["source_start"] == 0
    first.refresh_from_db()
    assert first.source_start == 0


@pytest.mark.parametrize("whose", ["mine", "theirs"])
def test_it_refuses_a_clip_from_another_project(
    whose: str,
    api: Any,
    owner: Any,
    other_user: Any,
    timeline: tuple[TimelineSegment, TimelineSegment],
) -> None:
    first, _ = timeline
    elsewhere = make_clip(make_project(owner if whose == "mine" else other_user))

    response = api.patch(url(first), {"clip_id": str(elsewhere.id)}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "clip_id"
    first.refresh_from_db()
    assert first.clip_id != elsewhere.id


@pytest.mark.parametrize(
    ("change", "field"),
    [({"duration": 0}, "duration"), ({"start_time": -1}, "start_time"), ({"layer": "x"}, "layer")],
)
def test_it_names_the_field_that_is_wrong(
    api: Any,
    timeline: tuple[TimelineSegment, TimelineSegment],
    change: dict[str, Any],
    field: str,
) -> None:
    first, _ = timeline

    response = api.patch(url(first), change, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == field
    assert TimelineSegment.objects.get(pk=first.pk).duration == 2


def test_it_refuses_a_time_too_large_to_store(
    api: Any, timeline: tuple[TimelineSegment, TimelineSegment]
) -> None:
    # Found by Schemathesis: a number with more whole digits than a time holds used to answer 500.
    first, _ = timeline

    response = api.patch(url(first), {"start_time": 233263427640199.3}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["details"]["field"] == "start_time"
    assert "no more than 7 digits before the decimal point" in error["message"]
    assert TimelineSegment.objects.get(pk=first.pk).start_time == 0


def test_it_refuses_an_edit_based_on_an_old_version(
    api: Any, project: Project, timeline: tuple[TimelineSegment, TimelineSegment]
) -> None:
    first, _ = timeline

    stale = api.patch(url(first), {"start_time": 3, "version": 2}, format="json")
    fresh = api.patch(url(first), {"start_time": 3, "version": 3}, format="json")

    assert stale.status_code == 409
    assert stale.json()["error"]["details"]["current_version"] == 3
    assert fresh.status_code == 200
    first.refresh_from_db()
    assert first.start_time == 3


def test_it_tells_everyone_watching_the_project(
    api: Any,
    owner: Any,
    project: Project,
    timeline: tuple[TimelineSegment, TimelineSegment],
    project_events: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    first, _ = timeline

    with django_capture_on_commit_callbacks(execute=True):
        api.patch(url(first), {"name": "Intro"}, format="json")

    assert project_events() == [
        {
            "type": "timeline:updated",
            "project_id": str(project.id),
            "version": 4,
            "by": str(owner.id),
        },
        {
            "type": "timeline:op",
            "project_id": str(project.id),
            "version": 4,
            "by": str(owner.id),
            "op": "update",
            "segment": {
                "id": str(first.id),
                "clip_id": str(first.clip_id),
                "name": "Intro",
                "layer": "video",
                "start_time": 0.0,
                "source_start": 0.0,
                "duration": 2.0,
                **DEFAULTS,
            },
        },
    ]


def test_it_answers_404_for_a_missing_segment(api: Any) -> None:
    response = api.patch(url(uuid.uuid4()), {"start_time": 1}, format="json")

    assert response.status_code == 404


@pytest.mark.parametrize("method", ["put", "patch"])
def test_it_hides_a_segment_from_an_outsider(
    method: str, other_api: Any, timeline: tuple[TimelineSegment, TimelineSegment]
) -> None:
    first, _ = timeline

    response = getattr(other_api, method)(url(first), {"start_time": 1}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    first.refresh_from_db()
    assert first.start_time == 0


@pytest.mark.parametrize("method", ["put", "patch"])
def test_it_refuses_anonymous_callers(
    method: str, anon_api: Any, timeline: tuple[TimelineSegment, TimelineSegment]
) -> None:
    first, _ = timeline

    response = getattr(anon_api, method)(url(first), {"start_time": 1}, format="json")

    assert response.status_code == 401
    first.refresh_from_db()
    assert first.start_time == 0
