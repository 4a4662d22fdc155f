from __future__ import annotations

from decimal import Decimal
from typing import Any

from clips.models import Clip
from projects.models import Project
from tests.projects.factories import make_clip
from timeline.models import TimelineSegment
from timeline.services import timeline_recompute


def test_it_keeps_the_duration_true_when_a_clip_and_its_segments_go(
    api: Any, project: Project, clip: Clip, django_capture_on_commit_callbacks: Any
) -> None:
    late = make_clip(project, "sunset.mp4", duration="6.000")
    response = api.post(
        f"/api/projects/{project.id}/timeline",
        {
            "version": 0,
            "segments": [
                {"clip_id": str(clip.id), "start_time": 0, "duration": 3},
                {"clip_id": str(late.id), "start_time": 3, "duration": 6},
                {"clip_id": str(late.id), "start_time": 0, "duration": 5, "layer": "audio"},
            ],
        },
        format="json",
    )
    assert response.json()["duration"] == 9

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        deleted = api.delete(f"/api/clips/{late.id}")

    assert deleted.status_code == 204
    project.refresh_from_db()
    assert project.total_duration == Decimal(3)
    # The version moves on, so an editor still showing the vanished segments must reload.
    assert project.timeline_version == 2
    assert callbacks, "a timeline:updated event is sent after commit"
    assert list(TimelineSegment.objects.values_list("clip_id", flat=True)) == [clip.id]
    timeline = api.get(f"/api/projects/{project.id}/timeline").json()
    assert (timeline["duration"], timeline["version"]) == (3, 2)


def test_it_counts_zero_when_no_segment_is_left(project: Project, clip: Clip) -> None:
    TimelineSegment.objects.create(
        project=project, clip=clip, start_time=Decimal(1), duration=Decimal(2)
    )
    Project.objects.filter(pk=project.pk).update(total_duration=Decimal(3))
    clip.delete()

    timeline_recompute(project=project)

    project.refresh_from_db()
    assert project.total_duration == 0
