"""Two people editing one timeline at the same moment, on PostgreSQL: each client is a thread
with its own database connection, and both requests are released together by a barrier.

Operations are serialised by the project row lock, so none is lost, each gets its own
version (no gaps, no duplicates), and on one segment the last writer wins per field.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections

from clips.models import Clip
from projects.models import Project
from tests.conftest import client_for, in_ci
from timeline.models import TimelineChange, TimelineSegment
from timeline.selectors import timeline_at_version

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql" and not in_ci(),
        reason="row locks need PostgreSQL; runs with DATABASE_URL (always in CI)",
    ),
]


@pytest.fixture(autouse=True)
def _on_postgresql() -> None:
    assert connection.vendor == "postgresql", "CI must run the concurrency specs on PostgreSQL"


def segment_url(segment_id: Any) -> str:
    return f"/api/timeline/segments/{segment_id}"


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run each call in its own thread (own connection), all released at the same moment."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def place(project: Project, clip: Clip, start: str, duration: str, name: str) -> TimelineSegment:
    return TimelineSegment.objects.create(
        project=project,
        clip=clip,
        name=name,
        start_time=Decimal(start),
        duration=Decimal(duration),
    )


@pytest.fixture
def clients(owner: Any) -> tuple[Any, Any]:
    """Two editors' clients (two signed-in browsers)."""
    return client_for(owner), client_for(owner)


def project_version(project: Project) -> int:
    project.refresh_from_db()
    return project.timeline_version


def versions_in_history(project: Project) -> list[int]:
    return list(
        TimelineChange.objects.filter(project=project)
        .order_by("version")
        .values_list("version", flat=True)
    )


def test_it_keeps_concurrent_edits_of_different_segments(
    clients: tuple[Any, Any], project: Project, clip: Clip
) -> None:
    left, right = clients
    a = place(project, clip, "0", "1", "A")
    b = place(project, clip, "50", "1", "B")
    rounds = 12
    responses: list[Any] = []

    for i in range(rounds):
        responses += race(
            lambda i=i: left.patch(segment_url(a.id), {"start_time": 2 * i + 2}, format="json"),
            lambda i=i: right.patch(
                segment_url(b.id), {"name": f"B{i}", "duration": 1 + i / 10}, format="json"
            ),
        )

    assert [r.status_code for r in responses] == [200] * 2 * rounds
    versions = sorted(r.json()["timeline_version"] for r in responses)
    assert versions == list(range(1, 2 * rounds + 1))
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.start_time == 2 * (rounds - 1) + 2
    assert (b.name, b.duration) == (f"B{rounds - 1}", Decimal("2.1"))
    project.refresh_from_db()
    assert project.timeline_version == 2 * rounds
    assert versions_in_history(project) == versions
    # The history's ops replay to the timeline as it is.
    rebuilt = timeline_at_version(project=project, version=project.timeline_version)
    assert rebuilt is not None
    assert {s["id"]: (s["start_time"], s["name"]) for s in rebuilt} == {
        str(a.id): (float(a.start_time), "A"),
        str(b.id): (50.0, b.name),
    }


def test_it_keeps_both_fields_when_two_people_edit_one_segment(
    clients: tuple[Any, Any], project: Project, clip: Clip
) -> None:
    left, right = clients
    segment = place(project, clip, "0", "1", "start")

    for i in range(10):
        renamed, moved = race(
            lambda i=i: left.patch(segment_url(segment.id), {"name": f"take {i}"}, format="json"),
            lambda i=i: right.patch(segment_url(segment.id), {"start_time": i + 1}, format="json"),
        )

        assert (renamed.status_code, moved.status_code) == (200, 200)
        segment.refresh_from_db()
        assert (segment.name, segment.start_time) == (f"take {i}", i + 1)
        # Whichever came second answers with both changes.
        later = max(renamed, moved, key=lambda r: r.json()["timeline_version"])
        assert (later.json()["name"], later.json()["start_time"]) == (f"take {i}", i + 1)


def test_it_lets_the_last_writer_win_on_the_same_field(
    clients: tuple[Any, Any], project: Project, clip: Clip
) -> None:
    left, right = clients
    segment = place(project, clip, "0", "1", "start")

    for i in range(10):
        responses = race(
            lambda i=i: left.patch(segment_url(segment.id), {"name": f"left {i}"}, format="json"),
            lambda i=i: right.patch(segment_url(segment.id), {"name": f"right {i}"}, format="json"),
        )

        first, last = sorted(responses, key=lambda r: r.json()["timeline_version"])
        assert last.json()["timeline_version"] == first.json()["timeline_version"] + 1
        segment.refresh_from_db()
        assert segment.name == last.json()["name"]

    project.refresh_from_db()
    assert versions_in_history(project) == list(range(1, 21))


def test_it_answers_409_to_an_edit_that_loses_the_race_to_a_delete(
    clients: tuple[Any, Any], project: Project, clip: Clip
) -> None:
    left, right = clients

    for i in range(8):
        segment = place(project, clip, str(i * 2), "1", f"doomed {i}")
        moved, deleted = race(
            lambda s=segment: left.patch(segment_url(s.id), {"duration": 1.5}, format="json"),
            lambda s=segment: right.delete(segment_url(s.id)),
        )

        assert deleted.status_code == 204
        assert not TimelineSegment.objects.filter(pk=segment.pk).exists()
        if moved.status_code == 409:
            error = moved.json()["error"]
            assert error["code"] == "CONFLICT"
            assert error["details"]["segment"] is None
        else:
            assert moved.status_code == 200
            assert moved.json()["timeline_version"] < project_version(project)

    project.refresh_from_db()
    # Every successful operation is one version, in order, with no gaps.
    assert versions_in_history(project) == list(range(1, project.timeline_version + 1))


def test_it_lets_only_one_of_two_overlapping_new_segments_in(
    clients: tuple[Any, Any], project: Project, clip: Clip
) -> None:
    left, right = clients
    url = f"/api/projects/{project.id}/timeline/segments"

    for i in range(6):
        start = i * 10
        responses = race(
            lambda s=start: left.post(
                url, {"clip_id": str(clip.id), "start_time": s, "duration": 3}, format="json"
            ),
            lambda s=start: right.post(
                url, {"clip_id": str(clip.id), "start_time": s + 1, "duration": 3}, format="json"
            ),
        )

        assert sorted(r.status_code for r in responses) == [201, 409]
        refused = next(r for r in responses if r.status_code == 409).json()["error"]
        admitted = next(r for r in responses if r.status_code == 201).json()
        assert refused["details"]["overlaps"] == {"segment_id": admitted["id"]}

    video = TimelineSegment.objects.filter(project=project).order_by("start_time")
    assert video.count() == 6
    assert versions_in_history(project) == list(range(1, 7))
