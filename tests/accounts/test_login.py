from __future__ import annotations

from typing import Any

import pytest

from accounts.authentication import user_for_access_token
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_signs_in_with_email_and_password(anon_api: Any, owner: Any) -> None:
    assert owner.last_login is None

    response = anon_api.post(
        "/api/auth/login", {"email": "Owner@Example.com", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"]["id"] == str(owner.id)
    assert body["user"]["email"] == "owner@example.com"
    assert user_for_access_token(body["access"]) == owner
    owner.refresh_from_db()
    assert owner.last_login is not None
    me = anon_api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.status_code == 200
    assert me.json()["last_login"] is not None


def test_it_refuses_a_wrong_password(anon_api: Any, owner: Any) -> None:
    response = anon_api.post(
        "/api/auth/login", {"email": owner.email, "password": "not-the-password"}, format="json"
    )

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "UNAUTHORIZED_ACCESS",
            "message": "The e-mail address or password is not correct.",
            "details": {},
        }
    }
    owner.refresh_from_db()
    assert owner.last_login is None


def test_it_answers_an_unknown_email_like_a_wrong_password(anon_api: Any, owner: Any) -> None:
    response = anon_api.post(
        "/api/auth/login", {"email": "nobody@example.com", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "The e-mail address or password is not correct."


def test_it_refuses_a_deactivated_account(anon_api: Any, owner: Any) -> None:
    owner.is_active = False
    owner.save(update_fields=["is_active"])

    response = anon_api.post(
        "/api/auth/login", {"email": owner.email, "password": PASSWORD}, format="json"
    )

    assert response.status_code == 401
    assert "access" not in response.json()


def test_it_requires_email_and_password(anon_api: Any) -> None:
    response = anon_api.post("/api/auth/login", {"email": "owner@example.com"}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert list(error["details"]["fields"]) == ["password"]


def test_it_refuses_an_unknown_provider(anon_api: Any) -> None:
    response = anon_api.post(
        "/api/auth/login", {"provider": "myspace", "access_token": "x"}, format="json"
    )

    assert response.status_code == 400
    assert "provider" in response.json()["error"]["details"]["fields"]


def test_it_slows_down_password_guessing(anon_api: Any, owner: Any) -> None:
    statuses = [
        anon_api.post(
            "/api/auth/login", {"email": owner.email, "password": f"guess-{i}"}, format="json"
        ).status_code
        for i in range(6)
    ]

    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    blocked = anon_api.post(
        "/api/auth/login", {"email": owner.email, "password": PASSWORD}, format="json"
    )
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "RATE_LIMITED"
    assert int(blocked["Retry-After"]) > 0


def test_it_ignores_a_stale_bearer_header(anon_api: Any, owner: Any) -> None:
    anon_api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = anon_api.post(
        "/api/auth/login", {"email": owner.email, "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
