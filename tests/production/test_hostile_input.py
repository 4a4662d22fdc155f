"""Hostile request bodies answer the contract's JSON error, never a 500 or an HTML page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework import parsers as drf_parsers
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def nested(depth: int) -> str:
    """A JSON object `depth` levels deep: {"a": {"a": … {"a": 1} … }}."""
    return '{"a": ' * depth + "1" + "}" * depth


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
def test_it_refuses_a_json_body_nested_deeper_than_32_levels_before_sign_in(
    anon_api: APIClient, depth: int
) -> None:
    response = anon_api.post("/api/auth/login", nested(depth), content_type="application/json")

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert error["details"]["max_depth"] == 32


def test_it_refuses_deep_arrays_in_an_authenticated_body(api: APIClient) -> None:
    deep = "[" * 5_000 + "]" * 5_000

    response = api.patch(
        "/api/auth/me", f'{{"preferences": {{"x": {deep}}}}}', content_type="application/json"
    )

    assert_error(response, 400, "VALIDATION_ERROR")


def test_it_accepts_a_body_nested_exactly_32_levels(api: APIClient, owner: Any) -> None:
    # The preferences object is level 2 of the body, so 31 more levels make 32.
    preferences = json.loads(nested(30))

    response = api.patch("/api/auth/me", {"preferences": preferences}, format="json")

    assert response.status_code == 200
    owner.refresh_from_db()
    assert owner.preferences == preferences


def test_it_refuses_nan_which_is_not_json(api: APIClient) -> None:
    response = api.patch(
        "/api/auth/me", '{"preferences": {"x": NaN}}', content_type="application/json"
    )

    assert_error(response, 400, "VALIDATION_ERROR")


def test_it_answers_an_oversize_json_body_with_the_json_error(
    settings: Any, anon_api: APIClient
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    body = json.dumps({"email": "a@example.com", "password": "x" * (70 * 1024)})

    response = anon_api.post("/api/auth/login", body, content_type="application/json")

    error = assert_error(response, 413, "FILE_TOO_LARGE")
    assert error["details"]["max_bytes"] == 64 * 1024


def test_it_answers_an_oversize_form_field_with_the_json_error(
    settings: Any, api: APIClient, owner: Any
) -> None:
    from projects.models import Project

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    project = Project.objects.create(owner=owner, name="Form target")

    response = api.post(
        f"/api/projects/{project.pk}/clips", {"name": "n" * (70 * 1024)}, format="multipart"
    )

    assert_error(response, 413, "FILE_TOO_LARGE")


def test_every_api_view_parses_json_with_the_limited_parser() -> None:
    """A view that names DRF's own JSONParser would bring the unlimited parser back."""

    def views(patterns: list[Any]) -> list[Any]:
        found = []
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                found += views(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                view_class = getattr(pattern.callback, "cls", None)
                if view_class is not None:
                    found.append(view_class)
        return found

    api_views = views(get_resolver().url_patterns)
    assert len(api_views) > 10
    offenders = [
        view.__name__
        for view in api_views
        if any(issubclass(p, drf_parsers.JSONParser) for p in view.parser_classes)
    ]
    assert offenders == []


def test_discord_sign_in_page_without_discord_configured_redirects_with_a_message(
    settings: Any,
) -> None:
    from django.test import Client

    settings.SOCIALACCOUNT_PROVIDERS = {"discord": {"APPS": [], "SCOPE": ["identify", "email"]}}
    client = Client(raise_request_exception=False)

    response = client.get("/accounts/discord/login/", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[0][0] == "/accounts/login/"
    assert "Sign-in with Discord is not set up" in response.content.decode()


def test_what_django_refuses_outside_a_view_is_the_json_error_under_api() -> None:
    """Django answers a SuspiciousOperation raised outside DRF (a middleware reading the body)
    through the URLconf's handler400, which speaks JSON under /api/ and HTML elsewhere."""
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
    from django.test import RequestFactory
    from django.urls import get_resolver

    handler = get_resolver().resolve_error_handler(400)
    factory = RequestFactory()

    too_big = handler(factory.post("/api/projects"), RequestDataTooBig("too big"))
    too_many = handler(factory.post("/api/projects"), TooManyFieldsSent("fields"))
    page = handler(factory.post("/accounts/login/"), RequestDataTooBig("too big"))

    assert_error(too_big, 413, "FILE_TOO_LARGE")
    assert_error(too_many, 400, "VALIDATION_ERROR")
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")
