from __future__ import annotations

from typing import Any

from projects.models import Project

URL = "/api/projects"


def test_it_creates_a_blank_draft_project_for_the_caller(api: Any, owner: Any) -> None:
    response = api.post(URL, {"name": "  Summer trip "}, format="json")

    assert response.status_code == 201
    body = response.json()
    project = Project.objects.get(pk=body["id"])
    assert project.owner == owner
    assert project.name == "Summer trip"
    assert body["name"] == "Summer trip"
    assert body["status"] == "draft"
    assert body["template"] == "blank"
    assert body["settings"] == {}
    assert body["description"] == ""
    assert body["total_duration"] == 0
    assert body["clips_count"] == 0


def test_it_keeps_the_description_template_and_settings(api: Any) -> None:
    response = api.post(
        URL,
        {
            "name": "Match day",
            "description": "Best goals",
            "template": "highlights",
            "settings": {"resolution": "1920x1080", "fps": 30},
        },
        format="json",
    )

    assert response.status_code == 201
    project = Project.objects.get(pk=response.json()["id"])
    assert project.description == "Best goals"
    assert project.template == "highlights"
    # The template's presets, and the settings sent beside them.
    assert project.settings["canvas"] == "16:9"
    assert (project.settings["resolution"], project.settings["fps"]) == ("1920x1080", 30)


def test_it_ignores_read_only_fields(api: Any) -> None:
    response = api.post(
        URL,
        {"name": "Sneaky", "status": "exported", "clips_count": 9, "total_duration": 99},
        format="json",
    )

    assert response.status_code == 201
    project = Project.objects.get(pk=response.json()["id"])
    assert (project.status, project.clips_count, project.total_duration) == ("draft", 0, 0)


def test_it_requires_a_name(api: Any) -> None:
    for body in ({}, {"name": ""}, {"name": "   "}):
        response = api.post(URL, body, format="json")

        assert response.status_code == 400, body
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert "name" in error["message"]
    assert not Project.objects.exists()


def test_it_rejects_settings_that_are_not_an_object(api: Any) -> None:
    for settings in ([1, 2], "fps=30", 3, None):
        response = api.post(URL, {"name": "x", "settings": settings}, format="json")

        assert response.status_code == 400, settings
        assert "settings" in response.json()["error"]["details"]["fields"]
    assert not Project.objects.exists()


def test_it_rejects_huge_settings(api: Any) -> None:
    response = api.post(URL, {"name": "x", "settings": {"blob": "x" * 70_000}}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "settings"
    assert not Project.objects.exists()


def test_it_rejects_an_unknown_template(api: Any) -> None:
    response = api.post(URL, {"name": "x", "template": "wedding"}, format="json")

    assert response.status_code == 400
    assert "template" in response.json()["error"]["details"]["fields"]


def test_it_rejects_a_name_longer_than_255_characters(api: Any) -> None:
    response = api.post(URL, {"name": "x" * 256}, format="json")

    assert response.status_code == 400
    assert not Project.objects.exists()


def test_it_refuses_anonymous_callers(anon_api: Any, db: None) -> None:
    response = anon_api.post(URL, {"name": "x"}, format="json")

    assert response.status_code == 401
    assert not Project.objects.exists()
