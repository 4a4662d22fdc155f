"""Importing an OTIO timeline: the timeline limits apply, and a malformed or hostile file is a
400 VALIDATION_ERROR that changes nothing (never a 500, never a crashed process)."""

from __future__ import annotations

import io
import json
from typing import Any

import opentimelineio as otio
import pytest
from opentimelineio.opentime import RationalTime, TimeRange

from clips.models import Clip
from projects.models import Project
from tests.projects.factories import make_clip
from timeline.models import TimelineSegment

pytestmark = pytest.mark.django_db


@pytest.fixture
def beach(project: Project) -> Clip:
    return make_clip(project, "beach.mp4", duration="20.000")


def otio_clip(clip: Clip, duration: RationalTime, start: RationalTime | None = None) -> Any:
    item = otio.schema.Clip(
        name=clip.name,
        media_reference=otio.schema.ExternalReference(target_url=f"clipseq:clip/{clip.pk}"),
        source_range=TimeRange(start or RationalTime(0, duration.rate), duration),
    )
    item.metadata["clip_sequencer"] = {"clip_id": str(clip.pk)}
    return item


def document(*items: Any) -> str:
    timeline = otio.schema.Timeline(name="Imported")
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    for item in items:
        track.append(item)
    timeline.tracks.append(track)
    return otio.adapters.write_to_string(timeline, "otio_json")


def import_json(api: Any, project: Project, text: str) -> Any:
    return api.post(
        f"/api/projects/{project.pk}/timeline/import-otio",
        data=text,
        content_type="application/json",
    )


def import_file(api: Any, project: Project, text: str) -> Any:
    upload = io.BytesIO(text.encode())
    upload.name = "cut.otio"
    return api.post(
        f"/api/projects/{project.pk}/timeline/import-otio", {"file": upload}, format="multipart"
    )


def assert_refused(response: Any, project: Project) -> dict[str, Any]:
    assert response.status_code == 400, response.content[:500]
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    project.refresh_from_db()
    assert project.timeline_version == 0
    assert not TimelineSegment.objects.filter(project=project).exists()
    return error


def test_it_refuses_an_otio_timeline_of_5000_segments(
    api: Any, project: Project, beach: Clip
) -> None:
    items = [otio_clip(beach, RationalTime(1, 100)) for _ in range(5000)]

    error = assert_refused(import_json(api, project, document(*items)), project)

    assert "at most 2000 segments" in error["message"]


def test_it_imports_an_otio_timeline_of_exactly_the_segment_limit(
    settings: Any, api: Any, project: Project, beach: Clip
) -> None:
    settings.TIMELINE_MAX_SEGMENTS = 50
    items = [otio_clip(beach, RationalTime(10, 100)) for _ in range(50)]

    response = import_json(api, project, document(*items))

    assert response.status_code == 200, response.json()
    assert TimelineSegment.objects.filter(project=project).count() == 50


def test_it_refuses_an_otio_segment_placed_after_the_duration_limit(
    api: Any, project: Project, beach: Clip
) -> None:
    gap = otio.schema.Gap(source_range=TimeRange(duration=RationalTime(9_999_999, 1)))

    error = assert_refused(
        import_json(api, project, document(gap, otio_clip(beach, RationalTime(1, 1)))), project
    )

    assert "12-hour limit" in error["message"]


@pytest.mark.parametrize(
    "duration",
    [RationalTime(10, 0), RationalTime(1e300, 1), RationalTime(float("nan"), 24)],
    ids=["rate-0", "absurd", "nan"],
)
def test_it_refuses_otio_times_that_are_not_usable_seconds(
    api: Any, project: Project, beach: Clip, duration: RationalTime
) -> None:
    error = assert_refused(import_file(api, project, document(otio_clip(beach, duration))), project)

    assert "not a usable number of seconds" in error["message"]


def test_it_refuses_an_otio_json_body_with_rate_0(api: Any, project: Project, beach: Clip) -> None:
    text = document(otio_clip(beach, RationalTime(10, 24)))
    assert '"rate": 24.0' in text

    assert_refused(import_json(api, project, text.replace('"rate": 24.0', '"rate": 0.0')), project)


def test_a_deeply_nested_otio_file_is_refused_without_reaching_the_otio_reader(
    api: Any, project: Project
) -> None:
    # OTIO 0.17's own reader crashes the whole process (SIGSEGV) on this file: seen with
    # `otio.adapters.read_from_string` on 100,000 levels, in a separate process.
    deep = '{"OTIO_SCHEMA": "Timeline.1", "metadata": ' + '{"a": ' * 100_000 + "1"
    deep += "}" * 100_000 + "}"

    error = assert_refused(import_file(api, project, deep), project)

    assert error["details"]["max_depth"] == 32


def test_it_refuses_an_otio_file_that_is_not_json(api: Any, project: Project) -> None:
    error = assert_refused(import_file(api, project, "{not json" + "[" * 50_000), project)

    assert "not an OpenTimelineIO" in error["message"]


def test_a_plain_otio_file_still_imports(api: Any, project: Project, beach: Clip) -> None:
    text = document(otio_clip(beach, RationalTime(48, 24), start=RationalTime(24, 24)))
    json.loads(text)

    response = import_file(api, project, text)

    assert response.status_code == 200, response.json()
    segment = TimelineSegment.objects.get(project=project)
    assert (segment.source_start, segment.duration) == (1, 2)
