from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Project
from tests.projects.factories import make_clip, make_project

URL = "/api/projects"


def test_it_lists_only_the_callers_projects_most_recently_changed_first(
    api: Any, owner: Any, other_user: Any
) -> None:
    older = make_project(owner, "Older")
    newer = make_project(owner, "Newer")
    make_project(other_user, "Not mine")
    older.name = "Older, renamed"
    older.save(update_fields=["name", "updated_at"])

    response = api.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [p["id"] for p in body["results"]] == [str(older.id), str(newer.id)]


def test_it_shows_every_field_of_a_project(api: Any, owner: Any) -> None:
    project = make_project(owner, description="Two weeks in Lisbon", settings={"fps": 30})
    make_clip(project)

    response = api.get(URL)

    (item,) = response.json()["results"]
    assert item == {
        "id": str(project.id),
        "name": "Summer trip",
        "description": "Two weeks in Lisbon",
        "template": "blank",
        "status": "draft",
        "settings": {"fps": 30},
        "total_duration": 0,
        "clips_count": 1,
        "role": "owner",
        "owner": {"id": str(owner.id), "name": "Olivia Owner", "avatar_url": ""},
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
    }
    assert item["created_at"].endswith("Z")


def test_it_paginates(api: Any, owner: Any) -> None:
    for number in range(5):
        make_project(owner, f"Project {number}")

    first = api.get(URL, {"page_size": 2}).json()
    last = api.get(URL, {"page_size": 2, "page": 3}).json()

    assert first["count"] == 5
    assert len(first["results"]) == 2
    assert first["previous"] is None
    assert "page=2" in first["next"]
    assert len(last["results"]) == 1
    assert last["next"] is None
    seen = {
        p["id"]
        for page in (1, 2, 3)
        for p in api.get(URL, {"page_size": 2, "page": page}).json()["results"]
    }
    assert seen == {str(p.id) for p in Project.objects.filter(owner=owner)}


def test_it_filters_by_status(api: Any, owner: Any) -> None:
    make_project(owner, "Current")
    archived = make_project(owner, "Old", status=Project.Status.ARCHIVED)

    body = api.get(URL, {"status": "archived"}).json()

    assert [p["id"] for p in body["results"]] == [str(archived.id)]


def test_it_rejects_an_unknown_status_filter(api: Any) -> None:
    response = api.get(URL, {"status": "deleted"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_it_shows_an_outsider_none_of_my_projects(other_api: Any, owner: Any) -> None:
    make_project(owner)

    response = other_api.get(URL)

    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_it_refuses_anonymous_callers(anon_api: Any) -> None:
    response = anon_api.get(URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED_ACCESS"


def _queries_for_list(api: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(URL)
    assert response.status_code == 200
    return len(queries)


def test_it_needs_the_same_number_of_queries_for_few_and_many_projects(
    api: Any, owner: Any, django_assert_max_num_queries: Any
) -> None:
    for number in range(2):
        make_clip(make_project(owner, f"Few {number}"))
    few = _queries_for_list(api)
    for number in range(20):
        make_clip(make_project(owner, f"Many {number}"))

    with django_assert_max_num_queries(few):
        response = api.get(URL)

    assert response.json()["count"] == 22
