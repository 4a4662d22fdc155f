"""Templates preset a project's canvas, fit and export settings; canvas and fit are validated."""

from __future__ import annotations

from typing import Any

import pytest

from projects.models import Project

URL = "/api/projects"


def test_it_lists_the_templates_blank_first(api: Any) -> None:
    response = api.get("/api/templates")

    assert response.status_code == 200
    templates = {t["id"]: t for t in response.json()}
    assert response.json()[0]["id"] == "blank"
    assert set(templates) == set(Project.Template.values)
    assert templates["youtube_video"]["name"] == "YouTube video"
    assert templates["youtube_video"]["settings"]["canvas"] == "16:9"
    assert templates["youtube_short"]["settings"]["canvas"] == "9:16"
    assert templates["highlights"]["settings"]["fit"] == "fill"


def test_it_asks_for_credentials_to_list_templates(anon_api: Any) -> None:
    assert anon_api.get("/api/templates").status_code == 401


@pytest.mark.parametrize(
    ("template", "canvas", "fit", "captions"),
    [
        ("youtube_video", "16:9", "blur", "sidecar"),
        ("youtube_short", "9:16", "blur", "burn"),
        ("highlights", "16:9", "fill", "none"),
        ("square_post", "1:1", "blur", "burn"),
        ("portrait_post", "4:5", "blur", "burn"),
    ],
)
def test_it_presets_the_settings_of_the_chosen_template(
    api: Any, template: str, canvas: str, fit: str, captions: str
) -> None:
    response = api.post(URL, {"name": "New", "template": template}, format="json")

    assert response.status_code == 201, response.json()
    settings = response.json()["settings"]
    assert (settings["canvas"], settings["fit"]) == (canvas, fit)
    assert settings["export_preset"] == "1080p"
    assert settings["export_format"] == "mp4"
    assert settings["export_captions"] == captions
    stored = Project.objects.get(pk=response.json()["id"])
    assert (stored.template, stored.settings) == (template, settings)


def test_it_lets_the_creators_settings_win_over_the_template(api: Any) -> None:
    response = api.post(
        URL,
        {"name": "Mine", "template": "youtube_short", "settings": {"fit": "fill", "fps": 60}},
        format="json",
    )

    assert response.status_code == 201, response.json()
    settings = response.json()["settings"]
    assert (settings["canvas"], settings["fit"], settings["fps"]) == ("9:16", "fill", 60)


def test_it_leaves_a_blank_projects_settings_as_sent(api: Any) -> None:
    response = api.post(URL, {"name": "Plain", "settings": {"canvas": "1:1"}}, format="json")

    assert response.status_code == 201
    assert response.json()["settings"] == {"canvas": "1:1"}


def test_it_keeps_the_settings_when_the_template_changes_later(api: Any) -> None:
    created = api.post(URL, {"name": "x", "template": "youtube_short"}, format="json").json()

    response = api.patch(f"{URL}/{created['id']}", {"template": "highlights"}, format="json")

    assert response.status_code == 200
    assert response.json()["template"] == "highlights"
    assert response.json()["settings"] == created["settings"]


def test_it_refuses_an_unknown_template(api: Any) -> None:
    response = api.post(URL, {"name": "x", "template": "tiktok_dance"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert not Project.objects.exists()


@pytest.mark.parametrize("canvas", ["16:9", "9:16", "1:1", "4:5"])
def test_it_accepts_every_canvas(api: Any, project: Project, canvas: str) -> None:
    response = api.patch(f"{URL}/{project.pk}", {"settings": {"canvas": canvas}}, format="json")

    assert response.status_code == 200
    project.refresh_from_db()
    assert project.settings["canvas"] == canvas


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"canvas": "21:9"}, "settings.canvas"),
        ({"canvas": 1.78}, "settings.canvas"),
        ({"fit": "stretch"}, "settings.fit"),
        ({"fit": None}, "settings.fit"),
        ({"export_preset": "4k"}, "settings.export_preset"),
        ({"export_format": "avi"}, "settings.export_format"),
        ({"export_captions": "yes"}, "settings.export_captions"),
    ],
)
def test_it_refuses_settings_outside_their_choices(
    api: Any, project: Project, values: dict[str, Any], field: str
) -> None:
    for response in (
        api.post(URL, {"name": "x", "settings": values}, format="json"),
        api.patch(f"{URL}/{project.pk}", {"settings": values}, format="json"),
    ):
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"]["field"] == field
        assert field in error["message"]
    project.refresh_from_db()
    assert project.settings == {}
    assert Project.objects.count() == 1
