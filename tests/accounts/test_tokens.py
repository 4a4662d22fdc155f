"""Refresh rotation, logout and expiry of the JWT pairs."""

from __future__ import annotations

import threading
import time
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.tokens import token_pair_issue, token_pair_refresh
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_in(client: APIClient, user: Any) -> dict[str, Any]:
    response = client.post(
        "/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    return response.json()


def _me(access: str) -> int:
    return APIClient().get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {access}").status_code


def test_it_rotates_the_refresh_token(anon_api: Any, owner: Any) -> None:
    first = _sign_in(anon_api, owner)

    response = anon_api.post("/api/auth/refresh", {"refresh": first["refresh"]}, format="json")

    assert response.status_code == 200
    second = response.json()
    assert set(second) == {"access", "refresh"}
    assert second["refresh"] != first["refresh"]
    assert second["access"] != first["access"]
    assert _me(second["access"]) == 200
    again = anon_api.post("/api/auth/refresh", {"refresh": second["refresh"]}, format="json")
    assert again.status_code == 200


def test_a_replayed_refresh_token_ends_its_whole_sign_in(anon_api: Any, owner: Any) -> None:
    first = _sign_in(anon_api, owner)
    second = anon_api.post("/api/auth/refresh", {"refresh": first["refresh"]}, format="json").json()
    other_sign_in = _sign_in(anon_api, owner)

    reused = anon_api.post("/api/auth/refresh", {"refresh": first["refresh"]}, format="json")

    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "UNAUTHORIZED_ACCESS"
    # Every token issued since in that sign-in is dead too; other sign-ins live on.
    assert _me(second["access"]) == 401
    later = anon_api.post("/api/auth/refresh", {"refresh": second["refresh"]}, format="json")
    assert later.status_code == 401
    assert _me(other_sign_in["access"]) == 200


@pytest.mark.parametrize("token", ["garbage", "a.b.c"])
def test_it_refuses_a_malformed_refresh_token(anon_api: Any, token: str) -> None:
    response = anon_api.post("/api/auth/refresh", {"refresh": token}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED_ACCESS"


def test_it_does_not_take_an_access_token_for_a_refresh_token(anon_api: Any, owner: Any) -> None:
    pair = _sign_in(anon_api, owner)

    response = anon_api.post("/api/auth/refresh", {"refresh": pair["access"]}, format="json")

    assert response.status_code == 401


def test_it_requires_the_refresh_field(anon_api: Any) -> None:
    response = anon_api.post("/api/auth/refresh", {}, format="json")

    assert response.status_code == 400
    assert "refresh" in response.json()["error"]["details"]["fields"]


def test_logout_kills_the_refresh_token_and_its_access_tokens(anon_api: Any, owner: Any) -> None:
    pair = _sign_in(anon_api, owner)
    rotated = anon_api.post("/api/auth/refresh", {"refresh": pair["refresh"]}, format="json")
    rotated_pair = rotated.json()
    other_device = token_pair_issue(user=owner)
    assert _me(pair["access"]) == 200

    response = anon_api.post(
        "/api/auth/logout", {"refresh": rotated_pair["refresh"]}, format="json"
    )

    assert response.status_code == 204
    assert _me(pair["access"]) == 401
    assert _me(rotated_pair["access"]) == 401
    dead = anon_api.post("/api/auth/refresh", {"refresh": rotated_pair["refresh"]}, format="json")
    assert dead.status_code == 401
    # Signing out on one device leaves the others signed in.
    assert _me(other_device.access) == 200


def test_logout_of_a_dead_token_still_answers_204(anon_api: Any, owner: Any) -> None:
    pair = _sign_in(anon_api, owner)
    anon_api.post("/api/auth/logout", {"refresh": pair["refresh"]}, format="json")

    again = anon_api.post("/api/auth/logout", {"refresh": pair["refresh"]}, format="json")

    assert again.status_code == 204


def test_logout_requires_the_refresh_field(anon_api: Any) -> None:
    response = anon_api.post("/api/auth/logout", {}, format="json")

    assert response.status_code == 400


def test_an_access_token_stops_working_after_fifteen_minutes(owner: Any, settings: Any) -> None:
    assert settings.HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN == 15 * 60
    now = time.time()
    with mock.patch("time.time", return_value=now - 14 * 60):
        fresh_enough = token_pair_issue(user=owner)
    with mock.patch("time.time", return_value=now - 16 * 60):
        stale = token_pair_issue(user=owner)

    assert _me(fresh_enough.access) == 200
    response = APIClient().get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {stale.access}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED_ACCESS"


def test_a_short_access_lifetime_is_enforced(owner: Any, settings: Any) -> None:
    settings.HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN = 5
    now = time.time()
    with mock.patch("time.time", return_value=now - 3):
        live = token_pair_issue(user=owner)
    with mock.patch("time.time", return_value=now - 6):
        expired = token_pair_issue(user=owner)

    assert _me(live.access) == 200
    assert _me(expired.access) == 401


def test_a_refresh_token_expires_after_seven_days(anon_api: Any, owner: Any) -> None:
    pair = token_pair_issue(user=owner)

    with mock.patch("time.time", return_value=time.time() + 7 * 24 * 3600 + 60):
        response = anon_api.post("/api/auth/refresh", {"refresh": pair.refresh}, format="json")

    assert response.status_code == 401


def test_changing_the_password_ends_every_sign_in(owner: Any) -> None:
    pair = token_pair_issue(user=owner)
    owner.set_password("a-brand-new-long-password")
    owner.save(update_fields=["password"])

    assert _me(pair.access) == 401
    refreshed = APIClient().post("/api/auth/refresh", {"refresh": pair.refresh}, format="json")
    assert refreshed.status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_refresh_token_sent_twice_at_once_works_only_once(owner: Any) -> None:
    pair = token_pair_issue(user=owner)
    results: list[Any] = []
    start = threading.Barrier(4)

    def refresh() -> None:
        start.wait()
        try:
            results.append(token_pair_refresh(refresh=pair.refresh))
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 4
    assert sum(result is not None for result in results) == 1
