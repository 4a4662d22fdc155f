"""Shared fixtures: the three personas (owner, other user, staff) and API clients for them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.tokens import token_pair_issue

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _test_settings(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Tests talk plain HTTP to the test client even when production settings are loaded.
    settings.SECURE_SSL_REDIRECT = False
    if settings.USE_S3:
        # Every test gets a folder of its own in the shared bucket, as it gets its own media
        # folder on local disk: leftovers of one test are never another test's business.
        default = settings.STORAGES["default"]
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                **default,
                "OPTIONS": {**default.get("OPTIONS", {}), "location": f"test-{uuid.uuid4().hex}"},
            },
        }
    else:
        media = tmp_path_factory.mktemp("media")
        settings.MEDIA_ROOT = media
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(media), "base_url": "/media/"},
            },
        }
    settings.PROCESSING_TMP_DIR = tmp_path_factory.mktemp("processing-tmp")
    # Fresh rate-limit counters per test: the shared cache (Redis in CI) outlives a test.
    settings.RATE_LIMIT_NAMESPACE = f"rl-{uuid.uuid4().hex}"
    # The same for everything else kept in the cache, such as allauth's failed-login counts
    # per address: one test's sign-in failures must not lock out the next test's client.
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"{config.get('KEY_PREFIX', '')}t{uuid.uuid4().hex[:12]}"}
        for name, config in settings.CACHES.items()
    }


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    from accounts.models import User

    def make(email: str, **extra: Any) -> User:
        return User.objects.create_user(email=email, password=PASSWORD, **extra)

    return make


@pytest.fixture
def owner(make_user: Callable[..., Any]) -> Any:
    return make_user("owner@example.com", name="Olivia Owner")


@pytest.fixture
def other_user(make_user: Callable[..., Any]) -> Any:
    return make_user("other@example.com", name="Oscar Other")


@pytest.fixture
def staff(make_user: Callable[..., Any]) -> Any:
    return make_user("staff@example.com", name="Sam Staff", is_staff=True, is_superuser=True)


def client_for(user: Any | None) -> APIClient:
    """An API client that authenticates the way real clients do: a Bearer access token."""
    client = APIClient()
    if user is not None:
        pair = token_pair_issue(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    return client


@pytest.fixture
def api(owner: Any) -> APIClient:
    return client_for(owner)


@pytest.fixture
def other_api(other_user: Any) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def anon_api() -> APIClient:
    return APIClient()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"
