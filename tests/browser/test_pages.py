"""The server-rendered pages: who sees what, and that user text stays text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import PASSWORD
from tests.projects.factories import make_project


def signed_in(user: Any) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def test_it_shows_visitors_the_landing_page_with_sign_in_and_sign_up(db: None) -> None:
    answer = Client().get("/")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "/accounts/signup/" in html and "/accounts/login/" in html
    assert 'id="project-grid"' not in html


def test_it_shows_a_signed_in_user_the_dashboard_with_a_csrf_cookie(owner: Any) -> None:
    answer = signed_in(owner).get("/")
    assert answer.status_code == 200
    assert 'id="project-grid"' in answer.content.decode()
    assert "csrftoken" in answer.cookies  # the page's API calls send it back as X-CSRFToken


def test_it_opens_the_editor_of_the_owners_project(owner: Any) -> None:
    project = make_project(owner, name="Trip")
    answer = signed_in(owner).get(f"/projects/{project.id}/")
    assert answer.status_code == 200
    config = json.loads(_config(answer.content.decode()))
    assert config["project"]["id"] == str(project.id)
    assert config["chunkSize"] > 0


def _config(html: str) -> str:
    start = html.index('<script id="editor-config" type="application/json">') + len(
        '<script id="editor-config" type="application/json">'
    )
    return html[start : html.index("</script>", start)]


def test_it_renders_a_project_name_as_text_never_as_markup(owner: Any) -> None:
    name = '</script><script>alert("x")</script><b>bold</b>'
    project = make_project(owner, name=name)
    html = signed_in(owner).get(f"/projects/{project.id}/").content.decode()
    assert "<b>bold</b>" not in html
    assert '<script>alert("x")' not in html
    assert json.loads(_config(html))["project"]["name"] == name


def test_it_answers_404_for_another_users_project(owner: Any, other_user: Any) -> None:
    project = make_project(owner)
    assert signed_in(other_user).get(f"/projects/{project.id}/").status_code == 404


def test_it_sends_anonymous_visitors_of_the_editor_to_sign_in(owner: Any) -> None:
    project = make_project(owner)
    answer = Client().get(f"/projects/{project.id}/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("path", ["/static/js/editor/main.js", "/static/css/app.css"])
def test_it_ships_the_page_assets(path: str) -> None:
    from django.contrib.staticfiles import finders

    assert finders.find(path.removeprefix("/static/")) is not None
