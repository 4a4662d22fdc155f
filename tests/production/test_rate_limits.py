"""Rate limits: per user and per address, stricter on sign-in and uploads, atomic counting."""

from __future__ import annotations

import threading
import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache

from common.ratelimit import UserRateThrottle, client_ip
from tests.production.services import PrivateRedis

pytestmark = pytest.mark.django_db


def _limits(settings: Any, **scopes: str) -> None:
    # Windows are fixed (common/ratelimit.py): limits per hour keep a test's few requests in one
    # window, where per minute they could straddle its end and start counting afresh.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, **scopes}


def test_it_answers_429_rate_limited_with_retry_after(settings: Any, api: Any) -> None:
    _limits(settings, user="3/hour")
    statuses = [api.get("/api/projects").status_code for _ in range(3)]
    response = api.get("/api/projects")

    assert statuses == [200, 200, 200]
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(response["Retry-After"]) <= 3600


def test_it_counts_each_user_separately(settings: Any, api: Any, other_api: Any) -> None:
    _limits(settings, user="2/hour")
    for _ in range(2):
        api.get("/api/projects")

    assert api.get("/api/projects").status_code == 429
    assert other_api.get("/api/projects").status_code == 200


def test_it_never_lets_more_than_the_limit_through_100_concurrent_requests(settings: Any) -> None:
    _limits(settings, user="10/hour")
    user = SimpleNamespace(pk=uuid.uuid4(), is_authenticated=True)
    request = SimpleNamespace(user=user, META={"REMOTE_ADDR": "10.0.0.1"}, method="GET")
    barrier = threading.Barrier(100)
    allowed: list[bool] = []
    lock = threading.Lock()

    def one_request() -> None:
        barrier.wait()
        verdict = UserRateThrottle().allow_request(request, None)
        with lock:
            allowed.append(verdict)

    threads = [threading.Thread(target=one_request) for _ in range(100)]
    first_window = int(time.time() // 60)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    windows = int(time.time() // 60) - first_window + 1

    assert len(allowed) == 100
    # Each one-minute window lets exactly 10 through, even when the burst straddles two.
    assert 10 <= allowed.count(True) <= 10 * windows


def test_it_limits_sign_in_attempts_per_address(settings: Any, anon_api: Any) -> None:
    _limits(settings, auth="3/hour")
    body = {"email": f"{uuid.uuid4().hex}@example.com", "password": "wrong-password-123"}
    statuses = [anon_api.post("/api/auth/login", body, format="json").status_code for _ in range(4)]

    assert 429 not in statuses[:3]
    assert statuses[3] == 429


def test_it_ignores_a_spoofed_x_forwarded_for_without_configured_proxies(
    settings: Any, anon_api: Any
) -> None:
    _limits(settings, auth="3/hour")
    body = {"email": f"{uuid.uuid4().hex}@example.com", "password": "wrong-password-123"}
    statuses = [
        anon_api.post(
            "/api/auth/login", body, format="json", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}"
        ).status_code
        for i in range(5)
    ]

    assert statuses[3:] == [429, 429]


def test_it_trusts_only_the_hop_its_proxy_appended(settings: Any, anon_api: Any) -> None:
    settings.NUM_PROXIES = 1
    _limits(settings, auth="2/hour")
    body = {"email": f"{uuid.uuid4().hex}@example.com", "password": "wrong-password-123"}

    def login(forwarded: str) -> int:
        return anon_api.post(
            "/api/auth/login", body, format="json", HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    # The attacker writes a new fake address each time; nginx appends the real one.
    statuses = [login(f"10.9.9.{i}, 203.0.113.7") for i in range(3)]
    body["email"] = (
        f"{uuid.uuid4().hex}@example.com"  # failed passwords are also counted per account
    )
    other_client = login("203.0.113.8")

    assert statuses[2] == 429
    assert other_client != 429


def test_it_picks_the_client_address_behind_trusted_proxies(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = SimpleNamespace(
        META={"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.1.1.1, 203.0.113.5, 10.0.0.9"}
    )

    assert client_ip(request) == "203.0.113.5"


def test_it_limits_uploads_more_strictly_than_other_calls(settings: Any, api: Any) -> None:
    _limits(settings, upload="2/hour")
    path = f"/api/projects/{uuid.uuid4()}/clips"
    statuses = [api.post(path, {}, format="json").status_code for _ in range(3)]

    assert statuses == [404, 404, 429]
    assert api.get("/api/projects").status_code == 200


def test_it_answers_503_when_the_cache_is_down_and_recovers(
    settings: Any, api: Any, tmp_path: Any
) -> None:
    redis_server = PrivateRedis(tmp_path).start()
    try:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis_server.url,
                "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
            }
        }
        assert api.get("/api/projects").status_code == 200

        redis_server.stop()
        started = time.monotonic()
        down = api.get("/api/projects")
        elapsed = time.monotonic() - started

        redis_server.start()
        recovered = api.get("/api/projects")
    finally:
        redis_server.stop()
        cache.close()

    assert down.status_code == 503
    assert down.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert "try again" in down.json()["error"]["message"]
    assert down["Retry-After"]
    assert elapsed < 5
    assert recovered.status_code == 200
