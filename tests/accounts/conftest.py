"""Fixtures for the accounts tests: a clean rate-limit cache and a configured Discord app."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    # Failed sign-ins are counted in the cache; one test's failures must not lock out another.
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # The production hasher is slow on purpose; these tests hash passwords dozens of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def discord_app(settings: Any) -> dict[str, str]:
    app = {"client_id": "discord-client-id", "secret": "discord-client-secret", "key": ""}
    settings.SOCIALACCOUNT_PROVIDERS = {
        "discord": {"APPS": [app], "SCOPE": ["identify", "email"], "VERIFIED_EMAIL": False}
    }
    return app
