"""A timeline longer than TIMELINE_MAX_DURATION or with more than TIMELINE_MAX_SEGMENTS
segments is refused with 400 VALIDATION_ERROR, whichever way it arrives (API.md "Limits").
The OTIO import is specified in tests/export/test_otio_limits.py."""

from __future__ import annotations

from typing import Any

import pytest

from clips.models import Clip
from projects.models import Project
from tests.projects.factories import make_clip
from timeline.models import TimelineSegment

pytestmark = pytest.mark.django_db


def seg(clip: Clip, start: float, duration: float, **extra: Any) -> dict[str, Any]:
    return {"clip_id": str(clip.id), "start_time": start, "duration": duration, **extra}


def replace(api: Any, project: Project, segments: list[dict[str, Any]]) -> Any:
    project.refresh_from_db()
    body = {"version": project.timeline_version, "segments": segments}
    return api.post(f"/api/projects/{project.id}/timeline", body, format="json")


def assert_refused(response: Any, project: Project, version: int) -> dict[str, Any]:
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    project.refresh_from_db()
    assert project.timeline_version == version
    return error


def test_it_refuses_a_timeline_whose_only_segment_starts_at_9999999_seconds(
    api: Any, project: Project, clip: Clip
) -> None:
    response = replace(api, project, [seg(clip, 9_999_999, 1)])

    error = assert_refused(response, project, 0)
    assert "12-hour limit" in error["message"]
    assert error["details"]["segment"] == 0
    assert error["details"]["max_duration"] == 43200
    assert not TimelineSegment.objects.filter(project=project).exists()


def test_it_accepts_a_timeline_ending_exactly_at_the_limit_and_refuses_one_past_it(
    api: Any, project: Project, clip: Clip
) -> None:
    at_limit = replace(api, project, [seg(clip, 43190, 10)])
    past = replace(api, project, [seg(clip, 0, 5), seg(clip, 43191, 10, layer="audio")])

    assert at_limit.status_code == 200
    assert at_limit.json()["duration"] == 43200
    error = assert_refused(past, project, 1)
    assert error["details"]["segment"] == 1
    assert error["details"]["end"] == 43201


def test_the_duration_limit_is_a_setting(
    settings: Any, api: Any, project: Project, clip: Clip
) -> None:
    settings.TIMELINE_MAX_DURATION = 60

    assert replace(api, project, [seg(clip, 50, 10)]).status_code == 200
    assert_refused(replace(api, project, [seg(clip, 55, 10)]), project, 1)


def test_it_refuses_more_than_2000_segments(api: Any, project: Project, clip: Clip) -> None:
    segments = [seg(clip, i * 0.01, 0.01, layer="audio") for i in range(2001)]

    error = assert_refused(replace(api, project, segments), project, 0)

    assert "at most 2000 segments" in error["message"]
    assert not TimelineSegment.objects.filter(project=project).exists()


def test_the_segment_count_limit_is_a_setting_and_exactly_the_limit_is_fine(
    settings: Any, api: Any, project: Project, clip: Clip
) -> None:
    settings.TIMELINE_MAX_SEGMENTS = 3

    fits = replace(api, project, [seg(clip, i, 1) for i in range(3)])
    too_many = replace(api, project, [seg(clip, i, 1) for i in range(4)])

    assert fits.status_code == 200
    error = assert_refused(too_many, project, 1)
    assert error["details"]["fields"]["segments"] == [
        "A timeline may have at most 3 segments, and this one would have 4. "
        "Merge segments, or split the video into several projects."
    ]
    assert TimelineSegment.objects.filter(project=project).count() == 3


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_segment_edit_cannot_move_a_segment_past_the_limit(
    api: Any, project: Project, clip: Clip, method: str
) -> None:
    assert replace(api, project, [seg(clip, 0, 4)]).status_code == 200
    segment = TimelineSegment.objects.get(project=project)
    body = {"clip_id": str(clip.id), "start_time": 9_999_990, "duration": 4}

    response = getattr(api, method)(f"/api/timeline/segments/{segment.id}", body, format="json")

    error = assert_refused(response, project, 1)
    assert error["message"].startswith("This segment: it ends at 9999994")
    segment.refresh_from_db()
    assert (segment.start_time, segment.duration) == (0, 4)


def test_a_segment_edit_within_the_limit_still_works(
    api: Any, project: Project, clip: Clip
) -> None:
    long_clip = make_clip(project, "long.mp4", duration="20.000")
    assert replace(api, project, [seg(clip, 0, 4)]).status_code == 200
    segment = TimelineSegment.objects.get(project=project)

    response = api.patch(
        f"/api/timeline/segments/{segment.id}",
        {"clip_id": str(long_clip.id), "start_time": 43180, "duration": 20},
        format="json",
    )

    assert response.status_code == 200, response.json()
    project.refresh_from_db()
    assert project.total_duration == 43200
