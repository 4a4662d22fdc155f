"""Version history: GET /api/projects/:id/timeline/history and POST …/timeline/restore.

Every version is kept: each change is a history row, and any version's segment list can be
rebuilt (from the nearest snapshot plus the ops after it) and restored as a new version.
"""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clips.models import Clip
from projects.models import Project
from tests.projects.factories import make_clip
from timeline import services
from timeline.models import TimelineChange, TimelineSegment
from timeline.selectors import timeline_at_version


def history_url(project: Project) -> str:
    return f"/api/projects/{project.id}/timeline/history"


def restore_url(project: Project) -> str:
    return f"/api/projects/{project.id}/timeline/restore"


def segment_url(segment_id: str) -> str:
    return f"/api/timeline/segments/{segment_id}"


def create(api: Any, project: Project, clip: Clip, start: float, duration: float, **extra: Any):
    response = api.post(
        f"/api/projects/{project.id}/timeline/segments",
        {"clip_id": str(clip.id), "start_time": start, "duration": duration, **extra},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def timeline(api: Any, project: Project) -> dict[str, Any]:
    return api.get(f"/api/projects/{project.id}/timeline").json()


def test_it_lists_versions_newest_first_with_who_when_and_what(
    api: Any, owner: Any, project: Project, clip: Clip
) -> None:
    made = create(api, project, clip, 0, 2)
    assert api.patch(segment_url(made["id"]), {"start_time": 12}, format="json").status_code == 200
    assert api.patch(segment_url(made["id"]), {"name": "Intro"}, format="json").status_code == 200
    assert (
        api.patch(segment_url(made["id"]), {"duration": 3.5, "source_start": 1}, format="json")
    ).status_code == 200
    assert api.delete(segment_url(made["id"])).status_code == 204

    response = api.get(history_url(project))

    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 5
    assert [(r["version"], r["op"], r["summary"]) for r in page["results"]] == [
        (5, "delete", "deleted 'Intro'"),
        (4, "update", "trimmed 'Intro' to 3.5 s from 0:01"),
        (3, "update", "renamed 'beach.mp4' to 'Intro'"),
        (2, "update", "moved 'beach.mp4' to 0:12"),
        (1, "create", "added 'beach.mp4' at 0:00"),
    ]
    newest = page["results"][0]
    assert newest["by"] == {"id": str(owner.id), "name": "Olivia Owner", "avatar_url": ""}
    assert newest["at"].endswith("Z")


def test_it_pages_the_history(api: Any, project: Project, clip: Clip) -> None:
    for second in range(5):
        create(api, project, clip, second, 1)

    first = api.get(history_url(project), {"page_size": 2}).json()
    second = api.get(first["next"]).json()

    assert first["count"] == 5
    assert [r["version"] for r in first["results"]] == [5, 4]
    assert [r["version"] for r in second["results"]] == [3, 2]


def test_it_reads_the_history_in_the_same_number_of_queries_however_long(
    api: Any, project: Project, clip: Clip
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(history_url(project)).status_code == 200
        return len(captured)

    create(api, project, clip, 0, 1)
    short = queries()
    for second in range(1, 12):
        create(api, project, clip, second, 1)

    assert queries() == short


def test_it_hides_the_history_from_an_outsider(
    api: Any, other_api: Any, anon_api: Any, project: Project, clip: Clip
) -> None:
    create(api, project, clip, 0, 1)

    assert other_api.get(history_url(project)).status_code == 404
    assert anon_api.get(history_url(project)).status_code == 401
    assert other_api.post(restore_url(project), {"version": 1}, format="json").status_code == 404
    assert anon_api.post(restore_url(project), {"version": 1}, format="json").status_code == 401
    project.refresh_from_db()
    assert project.timeline_version == 1


def test_it_restores_a_version_as_a_new_one(
    api: Any,
    owner: Any,
    project: Project,
    clip: Clip,
    project_events: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    first = create(api, project, clip, 0, 2, name="A")
    second = create(api, project, clip, 2, 3, name="B")
    at_two = timeline(api, project)
    assert api.patch(segment_url(first["id"]), {"start_time": 6}, format="json").status_code == 200
    assert api.delete(segment_url(second["id"])).status_code == 204
    create(api, project, clip, 0, 1, name="C")

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(restore_url(project), {"version": 2}, format="json")

    assert response.status_code == 200
    restored = response.json()
    assert restored["version"] == 6
    assert restored["segments"] == at_two["segments"]
    assert restored["duration"] == at_two["duration"] == 5
    assert timeline(api, project) == restored
    # The deleted segment is back under its own id, and can be edited again.
    assert api.patch(segment_url(second["id"]), {"name": "B2"}, format="json").status_code == 200
    assert TimelineChange.objects.get(project=project, version=6).summary == "restored version 2"
    sent = project_events()
    assert [m["type"] for m in sent] == ["timeline:updated", "timeline:op"]
    assert sent[1] == {
        "type": "timeline:op",
        "project_id": str(project.id),
        "version": 6,
        "by": str(owner.id),
        "op": "replace",
        "segments": at_two["segments"],
    }


def test_it_leaves_out_segments_of_clips_deleted_since(
    api: Any, project: Project, clip: Clip
) -> None:
    late = make_clip(project, "sunset.mp4", duration="6.000")
    kept = create(api, project, clip, 0, 2)
    create(api, project, late, 2, 3)
    create(api, project, late, 0, 1, layer="audio")
    assert api.delete(f"/api/clips/{late.id}").status_code == 204
    project.refresh_from_db()
    assert project.timeline_version == 4
    removed = TimelineChange.objects.get(project=project, version=4)
    assert (removed.kind, removed.summary) == (
        "clip_removed",
        "removed the segments of a deleted clip",
    )

    response = api.post(restore_url(project), {"version": 3}, format="json")

    assert response.status_code == 200
    assert [s["id"] for s in response.json()["segments"]] == [kept["id"]]
    assert response.json()["version"] == 5
    assert (
        TimelineChange.objects.get(project=project, version=5).summary
        == "restored version 3 without 2 segments of deleted clips"
    )


@pytest.mark.parametrize("version", [7, -1])
def test_it_refuses_a_version_that_does_not_exist(
    api: Any, project: Project, clip: Clip, version: int
) -> None:
    create(api, project, clip, 0, 1)

    response = api.post(restore_url(project), {"version": version}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "version"
    project.refresh_from_db()
    assert project.timeline_version == 1


def test_it_can_rebuild_every_version_from_snapshots_and_ops(
    api: Any, project: Project, clip: Clip, short_clip: Clip, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A snapshot every 3rd version, so rebuilding crosses snapshots and replays ops after them.
    monkeypatch.setattr(services, "SNAPSHOT_EVERY", 3)
    seen: dict[int, list[dict[str, Any]]] = {}

    def remember() -> None:
        current = timeline(api, project)
        seen[current["version"]] = current["segments"]

    a = create(api, project, clip, 0, 2)
    remember()
    b = create(api, project, short_clip, 2, 1, layer="audio")
    remember()
    for step in range(4):
        api.patch(segment_url(a["id"]), {"start_time": 3 + step}, format="json")
        remember()
    api.patch(segment_url(b["id"]), {"clip_id": str(clip.id)}, format="json")
    remember()
    api.post(
        f"/api/projects/{project.id}/timeline",
        {"version": 7, "segments": [{"clip_id": str(clip.id), "start_time": 9, "duration": 1}]},
        format="json",
    )
    remember()
    c = create(api, project, short_clip, 0, 4)
    remember()
    api.delete(segment_url(c["id"]))
    remember()
    project.refresh_from_db()

    assert sorted(seen) == list(range(1, 11))
    assert TimelineChange.objects.filter(project=project, snapshot__isnull=False).count() >= 3
    for version, segments in seen.items():
        assert timeline_at_version(project=project, version=version) == segments, version
    assert timeline_at_version(project=project, version=0) == []
    response = api.post(restore_url(project), {"version": 5}, format="json")
    assert response.json()["segments"] == seen[5]


def test_it_begins_history_for_timelines_saved_before_it(
    api: Any, project: Project, clip: Clip
) -> None:
    # The migration's data step, run on a timeline that was edited before history existed.
    TimelineSegment.objects.create(
        project=project, clip=clip, name="old", start_time=Decimal(1), duration=Decimal(2)
    )
    Project.objects.filter(pk=project.pk).update(timeline_version=5, total_duration=Decimal(3))
    migration = importlib.import_module("timeline.migrations.0002_history")

    migration.baseline(apps, None)

    project.refresh_from_db()
    before = timeline(api, project)["segments"]
    baseline = TimelineChange.objects.get(project=project)
    assert (baseline.version, baseline.kind) == (5, "baseline")
    assert timeline_at_version(project=project, version=5) == before
    assert timeline_at_version(project=project, version=3) is None
    create(api, project, clip, 4, 1)
    restored = api.post(restore_url(project), {"version": 5}, format="json")
    assert restored.json()["segments"] == before
    assert restored.json()["version"] == 7
    refused = api.post(restore_url(project), {"version": 3}, format="json")
    assert refused.status_code == 400


def test_it_shows_the_history_to_staff_read_only_and_escaped(
    api: Any, staff: Any, project: Project, clip: Clip
) -> None:
    from django.test import Client

    create(api, project, clip, 0, 1, name="<script>alert(1)</script>")
    client = Client()
    client.force_login(staff)
    change = TimelineChange.objects.get(project=project)

    listing = client.get("/admin/timeline/timelinechange/")
    edit = client.post(
        f"/admin/timeline/timelinechange/{change.pk}/change/", {"summary": "rewritten"}
    )

    assert listing.status_code == 200
    html = listing.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "added &#x27;&lt;script&gt;alert(1)&lt;/script&gt;&#x27; at 0:00" in html
    assert edit.status_code == 403
    change.refresh_from_db()
    assert change.summary.startswith("added")
