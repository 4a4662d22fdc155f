from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from projects.models import Project


def url(project: Project | uuid.UUID) -> str:
    return f"/api/projects/{getattr(project, 'id', project)}"


def test_it_shows_my_project(api: Any, project: Project) -> None:
    response = api.get(url(project))

    assert response.status_code == 200
    assert response.json()["id"] == str(project.id)
    assert response.json()["name"] == "Summer trip"


def test_it_answers_404_for_a_project_that_does_not_exist(api: Any) -> None:
    response = api.get(url(uuid.uuid4()))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_it_hides_my_project_from_an_outsider(
    method: str, other_api: Any, project: Project
) -> None:
    response = getattr(other_api, method)(url(project), {"name": "Mine now"}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    project.refresh_from_db()
    assert project.name == "Summer trip"


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_it_refuses_anonymous_callers(method: str, anon_api: Any, project: Project) -> None:
    response = getattr(anon_api, method)(url(project), {"name": "Mine now"}, format="json")

    assert response.status_code == 401
    assert Project.objects.filter(pk=project.pk, name="Summer trip").exists()


def test_it_renames_with_patch_and_keeps_the_rest(api: Any, owner: Any) -> None:
    project = Project.objects.create(
        owner=owner, name="Old", description="Keep me", settings={"fps": 25}
    )

    response = api.patch(url(project), {"name": "New"}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "New"
    project.refresh_from_db()
    assert (project.name, project.description, project.settings) == ("New", "Keep me", {"fps": 25})


def test_it_replaces_the_editable_fields_with_put(api: Any, project: Project) -> None:
    response = api.put(
        url(project),
        {
            "name": "Winter trip",
            "description": "Snow",
            "template": "youtube_video",
            "settings": {"resolution": "1280x720"},
        },
        format="json",
    )

    assert response.status_code == 200
    project.refresh_from_db()
    assert project.name == "Winter trip"
    assert project.description == "Snow"
    assert project.template == "youtube_video"
    assert project.settings == {"resolution": "1280x720"}


def test_it_requires_a_name_with_put(api: Any, project: Project) -> None:
    response = api.put(url(project), {"description": "No name"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    project.refresh_from_db()
    assert project.description == ""


def test_it_rejects_settings_that_are_not_an_object(api: Any, owner: Any) -> None:
    project = Project.objects.create(owner=owner, name="x", settings={"fps": 25})

    response = api.patch(url(project), {"settings": ["fps", 30]}, format="json")

    assert response.status_code == 400
    project.refresh_from_db()
    assert project.settings == {"fps": 25}


@pytest.mark.parametrize("text", ["a\x00b", "\ud800"])
def test_it_rejects_settings_with_characters_that_cannot_be_stored(
    api: Any, owner: Any, text: str
) -> None:
    # NUL (PostgreSQL) and lone surrogates (UTF-8) inside settings used to answer 500.
    project = Project.objects.create(owner=owner, name="x", settings={"fps": 25})

    response = api.patch(
        url(project),
        json.dumps({"settings": {"titles": [text]}}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "settings" in response.json()["error"]["details"]["fields"]
    project.refresh_from_db()
    assert project.settings == {"fps": 25}


def test_it_does_not_let_clients_set_computed_fields(api: Any, project: Project) -> None:
    response = api.patch(
        url(project), {"clips_count": 7, "total_duration": 12, "name": "Still mine"}, format="json"
    )

    assert response.status_code == 200
    project.refresh_from_db()
    assert (project.clips_count, project.total_duration, project.name) == (0, 0, "Still mine")


@pytest.mark.parametrize(
    ("before", "requested", "after"),
    [
        ("draft", "archived", "archived"),
        ("exported", "archived", "archived"),
        ("archived", "draft", "draft"),
        ("draft", "draft", "draft"),
    ],
)
def test_it_archives_and_unarchives(
    api: Any, owner: Any, before: str, requested: str, after: str
) -> None:
    project = Project.objects.create(owner=owner, name="x", status=before)

    response = api.patch(url(project), {"status": requested}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == after
    project.refresh_from_db()
    assert project.status == after


@pytest.mark.parametrize(
    ("before", "requested"),
    [
        ("draft", "exporting"),
        ("draft", "exported"),
        ("archived", "exported"),
        ("exported", "draft"),
    ],
)
def test_it_refuses_status_changes_that_belong_to_exports(
    api: Any, owner: Any, before: str, requested: str
) -> None:
    project = Project.objects.create(owner=owner, name="x", status=before)

    response = api.patch(url(project), {"status": requested, "name": "y"}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "status"
    project.refresh_from_db()
    assert (project.status, project.name) == (before, "x")


def test_it_refuses_to_archive_a_project_while_it_exports(api: Any, owner: Any) -> None:
    project = Project.objects.create(owner=owner, name="x", status=Project.Status.EXPORTING)

    response = api.patch(url(project), {"status": "archived"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"
    project.refresh_from_db()
    assert project.status == "exporting"


def test_it_rejects_an_unknown_status(api: Any, project: Project) -> None:
    response = api.patch(url(project), {"status": "deleted"}, format="json")

    assert response.status_code == 400
    project.refresh_from_db()
    assert project.status == "draft"
