from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_it_shows_the_signed_in_user(api: APIClient, owner: Any) -> None:
    owner.storage_used = 1234
    owner.save(update_fields=["storage_used"])

    response = api.get("/api/auth/me")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(owner.id)
    assert body["email"] == "owner@example.com"
    assert body["name"] == "Olivia Owner"
    assert body["storage_used"] == 1234
    assert body["storage_limit"] == 10 * 1024**3
    assert set(body) == {
        "id",
        "email",
        "name",
        "avatar_url",
        "bio",
        "preferences",
        "storage_used",
        "storage_limit",
        "discord_id",
        "created_at",
        "last_login",
    }


def test_each_user_sees_themselves(other_api: APIClient, other_user: Any) -> None:
    response = other_api.get("/api/auth/me")

    assert response.json()["email"] == "other@example.com"


@pytest.mark.parametrize("method", ["get", "patch"])
def test_anonymous_gets_the_contract_401(anon_api: APIClient, method: str) -> None:
    response = getattr(anon_api, method)("/api/auth/me", {}, format="json")

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "UNAUTHORIZED_ACCESS",
            "message": "Sign in to continue: the credentials are missing, invalid or expired.",
            "details": {},
        }
    }
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_forged_token_gets_401(anon_api: APIClient) -> None:
    anon_api.credentials(HTTP_AUTHORIZATION="Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl")

    response = anon_api.get("/api/auth/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED_ACCESS"


def test_it_updates_the_profile(api: APIClient, owner: Any) -> None:
    response = api.patch(
        "/api/auth/me",
        {"name": "  Olivia O.  ", "bio": "Cuts trailers.", "preferences": {"theme": "dark"}},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Olivia O."
    assert response.json()["preferences"] == {"theme": "dark"}
    owner.refresh_from_db()
    assert owner.name == "Olivia O."
    assert owner.bio == "Cuts trailers."
    assert owner.preferences == {"theme": "dark"}


def test_it_changes_only_the_fields_sent(api: APIClient, owner: Any) -> None:
    owner.bio = "Keeps this."
    owner.preferences = {"snap": True}
    owner.save(update_fields=["bio", "preferences"])

    response = api.patch("/api/auth/me", {"name": "Liv"}, format="json")

    assert response.status_code == 200
    owner.refresh_from_db()
    assert (owner.name, owner.bio, owner.preferences) == ("Liv", "Keeps this.", {"snap": True})


def test_it_ignores_fields_a_user_may_not_edit(api: APIClient, owner: Any) -> None:
    response = api.patch(
        "/api/auth/me",
        {"email": "hijack@example.com", "storage_limit": 10**15, "discord_id": "1"},
        format="json",
    )

    assert response.status_code == 200
    owner.refresh_from_db()
    assert owner.email == "owner@example.com"
    assert owner.storage_limit == 10 * 1024**3
    assert owner.discord_id is None


@pytest.mark.parametrize("preferences", [["dark"], "dark", 3, None])
def test_preferences_must_be_an_object(api: APIClient, owner: Any, preferences: Any) -> None:
    response = api.patch("/api/auth/me", {"preferences": preferences}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "preferences" in error["details"]["fields"]
    owner.refresh_from_db()
    assert owner.preferences == {}


def test_it_refuses_huge_preferences(api: APIClient, owner: Any) -> None:
    response = api.patch("/api/auth/me", {"preferences": {"x": "y" * 20_000}}, format="json")

    assert response.status_code == 400
    assert "preferences" in response.json()["error"]["details"]["fields"]


@pytest.mark.parametrize("text", ["a\x00b", "\ud800"])
def test_it_refuses_preferences_with_characters_that_cannot_be_stored(
    api: APIClient, owner: Any, text: str
) -> None:
    # NUL (PostgreSQL) and lone surrogates (UTF-8) in a JSON value used to answer 500 when
    # saved. json.dumps escapes them, as a client would.
    body = json.dumps({"preferences": {"theme": text, text: 1}})

    response = api.patch("/api/auth/me", body, content_type="application/json")

    assert response.status_code == 400
    assert "preferences" in response.json()["error"]["details"]["fields"]
    owner.refresh_from_db()
    assert owner.preferences == {}


def test_it_refuses_a_name_that_is_too_long(api: APIClient, owner: Any) -> None:
    response = api.patch("/api/auth/me", {"name": "n" * 256}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()["error"]["details"]["fields"]
    owner.refresh_from_db()
    assert owner.name == "Olivia Owner"
