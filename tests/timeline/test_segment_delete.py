from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from clips.models import Clip
from projects.models import Project, ProjectMember
from tests.conftest import client_for
from timeline.models import TimelineSegment


def url(segment: TimelineSegment | uuid.UUID) -> str:
    return f"/api/timeline/segments/{getattr(segment, 'id', segment)}"


@pytest.fixture
def timeline(project: Project, clip: Clip) -> tuple[TimelineSegment, TimelineSegment]:
    """Video 0–2 s and audio 1–7 s, saved at version 2."""
    video = TimelineSegment.objects.create(
        project=project, clip=clip, start_time=Decimal(0), duration=Decimal(2)
    )
    audio = TimelineSegment.objects.create(
        project=project, clip=clip, layer="audio", start_time=Decimal(1), duration=Decimal(6)
    )
    Project.objects.filter(pk=project.pk).update(timeline_version=2, total_duration=Decimal(7))
    return video, audio


def test_it_deletes_a_segment_and_recomputes_the_duration(
    api: Any,
    owner: Any,
    project: Project,
    timeline: tuple[TimelineSegment, TimelineSegment],
    project_events: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    video, audio = timeline

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(url(audio))

    assert response.status_code == 204
    assert list(TimelineSegment.objects.values_list("id", flat=True)) == [video.id]
    project.refresh_from_db()
    assert (project.timeline_version, project.total_duration) == (3, Decimal(2))
    assert project_events() == [
        {
            "type": "timeline:updated",
            "project_id": str(project.id),
            "version": 3,
            "by": str(owner.id),
        },
        {
            "type": "timeline:op",
            "project_id": str(project.id),
            "version": 3,
            "by": str(owner.id),
            "op": "delete",
            "segment_id": str(audio.id),
        },
    ]


def test_it_brings_the_duration_to_zero_with_the_last_segment(
    api: Any, project: Project, timeline: tuple[TimelineSegment, TimelineSegment]
) -> None:
    for segment in timeline:
        assert api.delete(url(segment)).status_code == 204

    project.refresh_from_db()
    assert (project.timeline_version, project.total_duration) == (4, 0)


def test_it_refuses_a_delete_based_on_an_old_version(
    api: Any, project: Project, timeline: tuple[TimelineSegment, TimelineSegment]
) -> None:
    video, _ = timeline

    response = api.delete(f"{url(video)}?version=1")

    assert response.status_code == 409
    assert response.json()["error"]["details"]["current_version"] == 2
    assert TimelineSegment.objects.filter(pk=video.pk).exists()


def test_it_rejects_a_version_that_is_not_a_number(
    api: Any, timeline: tuple[TimelineSegment, TimelineSegment]
) -> None:
    video, _ = timeline

    response = api.delete(f"{url(video)}?version=latest")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "version"
    assert TimelineSegment.objects.filter(pk=video.pk).exists()


def test_it_answers_409_for_a_segment_someone_deleted_first(
    api: Any, project: Project, timeline: tuple[TimelineSegment, TimelineSegment]
) -> None:
    video, _ = timeline
    assert api.delete(url(video)).status_code == 204

    response = api.delete(url(video))

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "CONFLICT"
    assert error["details"] == {"segment": None, "current_version": 3}
    project.refresh_from_db()
    assert project.timeline_version == 3


def test_it_answers_404_for_a_segment_that_never_was(api: Any) -> None:
    assert api.delete(url(uuid.uuid4())).status_code == 404


def test_it_answers_404_for_an_outsiders_deleted_segment(
    api: Any, other_api: Any, timeline: tuple[TimelineSegment, TimelineSegment]
) -> None:
    # A deleted segment of someone else's project is as unknown as one that never existed.
    video, _ = timeline
    assert api.delete(url(video)).status_code == 204

    response = other_api.delete(url(video))

    assert response.status_code == 404


def test_it_answers_a_viewer_about_a_deleted_segment_with_403_not_409(
    api: Any,
    project: Project,
    timeline: tuple[TimelineSegment, TimelineSegment],
    make_user: Callable[..., Any],
) -> None:
    # Only an editor learns that it lost a race: a viewer could not have edited it anyway.
    viewer = make_user("viewer@example.com")
    ProjectMember.objects.create(project=project, user=viewer, role="viewer")
    video, _ = timeline
    assert api.delete(url(video)).status_code == 204

    response = client_for(viewer).delete(url(video))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "UNAUTHORIZED_ACCESS"
    assert response.json()["error"]["details"] == {"role": "viewer", "required_role": "editor"}


def test_it_hides_a_segment_from_an_outsider(
    other_api: Any, project: Project, timeline: tuple[TimelineSegment, TimelineSegment]
) -> None:
    video, _ = timeline

    response = other_api.delete(url(video))

    assert response.status_code == 404
    assert TimelineSegment.objects.filter(pk=video.pk).exists()
    project.refresh_from_db()
    assert project.timeline_version == 2


def test_it_refuses_anonymous_callers(
    anon_api: Any, timeline: tuple[TimelineSegment, TimelineSegment]
) -> None:
    video, _ = timeline

    response = anon_api.delete(url(video))

    assert response.status_code == 401
    assert TimelineSegment.objects.filter(pk=video.pk).exists()
