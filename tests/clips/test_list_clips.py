from __future__ import annotations

from typing import Any

from clips.models import Clip


def make_clip(project: Any, name: str, **extra: Any) -> Clip:
    return Clip.objects.create(project=project, owner=project.owner, name=name, **extra)


def test_it_lists_the_project_clips_oldest_first(
    api: Any, project: Any, start_upload: Any, django_assert_max_num_queries: Any
) -> None:
    first = make_clip(project, "first", status="ready", thumbnail_path="clips/x/poster.jpg")
    start_upload(b"x" * 10)
    for number in range(5):
        make_clip(project, f"more {number}")

    with django_assert_max_num_queries(6):
        response = api.get(f"/api/projects/{project.pk}/clips")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 7
    assert [clip["name"] for clip in body["results"]][:2] == ["first", "Beach"]
    assert body["results"][0]["id"] == str(first.pk)
    assert body["results"][0]["thumbnail_url"].split("?")[0].endswith("clips/x/poster.jpg")
    assert body["results"][1]["upload_id"] is not None
    assert body["results"][2]["thumbnail_url"] is None


def test_it_paginates(api: Any, project: Any) -> None:
    for number in range(3):
        make_clip(project, f"clip {number}")

    response = api.get(f"/api/projects/{project.pk}/clips?page_size=2")

    assert response.json()["count"] == 3
    assert len(response.json()["results"]) == 2
    assert response.json()["next"] is not None


def test_it_lists_only_that_project(api: Any, project: Any, owner: Any) -> None:
    from projects.models import Project

    other = Project.objects.create(owner=owner, name="Other")
    make_clip(other, "elsewhere")

    response = api.get(f"/api/projects/{project.pk}/clips")

    assert response.json()["count"] == 0
