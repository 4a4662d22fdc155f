from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress

from accounts.authentication import user_for_access_token
from accounts.models import User

pytestmark = pytest.mark.django_db

STRONG = "violet-meadow-42-lantern"


def test_it_creates_an_account_and_signs_it_in(anon_api: Any, settings: Any) -> None:
    response = anon_api.post(
        "/api/auth/register",
        {"email": "New.Person@Example.com", "password": STRONG, "name": "New Person"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"access", "refresh", "user"}
    user = User.objects.get(email="new.person@example.com")
    assert user.check_password(STRONG)
    assert user.name == "New Person"
    assert user.last_login is not None
    assert body["user"] == {
        "id": str(user.id),
        "email": "new.person@example.com",
        "name": "New Person",
        "avatar_url": "",
        "bio": "",
        "preferences": {},
        "storage_used": 0,
        "storage_limit": settings.DEFAULT_STORAGE_LIMIT,
        "discord_id": None,
        "created_at": body["user"]["created_at"],
        "last_login": body["user"]["last_login"],
    }
    assert EmailAddress.objects.filter(user=user, email=user.email, primary=True).exists()
    assert user_for_access_token(body["access"]) == user
    me = anon_api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.json()["email"] == "new.person@example.com"


def test_it_refuses_a_weak_password(anon_api: Any) -> None:
    response = anon_api.post(
        "/api/auth/register",
        {"email": "weak@example.com", "password": "12345678", "name": "Weak"},
        format="json",
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "password" in error["details"]["fields"]
    assert "too common" in error["message"]
    assert not User.objects.filter(email="weak@example.com").exists()


def test_it_refuses_a_password_like_the_email(anon_api: Any) -> None:
    response = anon_api.post(
        "/api/auth/register",
        {"email": "marmalade.sky@example.com", "password": "marmalade.sky", "name": "M"},
        format="json",
    )

    assert response.status_code == 400
    assert "too similar" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"password": STRONG, "name": "No Email"}, "email"),
        ({"email": "not-an-email", "password": STRONG, "name": "Bad"}, "email"),
        ({"email": "nopass@example.com", "name": "No Password"}, "password"),
        ({"email": "noname@example.com", "password": STRONG}, "name"),
    ],
)
def test_it_names_the_missing_or_invalid_field(anon_api: Any, payload: dict, field: str) -> None:
    response = anon_api.post("/api/auth/register", payload, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in error["details"]["fields"]
    assert User.objects.count() == 0


def test_it_refuses_an_email_that_is_taken_whatever_its_case(anon_api: Any, owner: Any) -> None:
    response = anon_api.post(
        "/api/auth/register",
        {"email": "OWNER@example.com", "password": STRONG, "name": "Impostor"},
        format="json",
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "already exists" in error["message"]
    assert list(error["details"]["fields"]) == ["email"]
    assert User.objects.count() == 1
    owner.refresh_from_db()
    assert owner.name == "Olivia Owner"


def test_it_is_closed_when_local_registration_is_switched_off(anon_api: Any, settings: Any) -> None:
    settings.LOCAL_REGISTRATION_ENABLED = False

    response = anon_api.post(
        "/api/auth/register",
        {"email": "late@example.com", "password": STRONG, "name": "Late"},
        format="json",
    )

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "UNAUTHORIZED_ACCESS"
    assert "switched off" in error["message"]
    assert not User.objects.filter(email="late@example.com").exists()


def test_it_ignores_a_stale_bearer_header(anon_api: Any) -> None:
    anon_api.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")

    response = anon_api.post(
        "/api/auth/register",
        {"email": "fresh@example.com", "password": STRONG, "name": "Fresh"},
        format="json",
    )

    assert response.status_code == 201
