"""CI runs the suite against the production services; a missing one must fail, never skip."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.mark.django_db
def test_it_uses_postgresql_when_database_url_is_set() -> None:
    if IN_CI or os.environ.get("DATABASE_URL"):
        assert connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    else:
        assert connection.vendor == "sqlite"


def test_it_uses_redis_for_cache_when_redis_url_is_set() -> None:
    if IN_CI or os.environ.get("REDIS_URL"):
        assert "RedisCache" in settings.CACHES["default"]["BACKEND"]
        cache.set("environment-check", "ok", 10)
        assert cache.get("environment-check") == "ok"
    else:
        assert "LocMemCache" in settings.CACHES["default"]["BACKEND"]


def test_it_stores_files_in_s3_when_a_bucket_is_configured() -> None:
    if IN_CI or os.environ.get("AWS_STORAGE_BUCKET_NAME"):
        assert settings.USE_S3
        key = default_storage.save("environment-check/probe.txt", ContentFile(b"hello"))
        try:
            with default_storage.open(key) as handle:
                assert handle.read() == b"hello"
            assert "X-Amz-Signature" in default_storage.url(key)
        finally:
            default_storage.delete(key)
    else:
        assert not settings.USE_S3


def test_it_uses_a_real_broker_when_one_is_configured() -> None:
    import dramatiq

    broker = dramatiq.get_broker()
    if IN_CI or settings.DRAMATIQ_BROKER_URL:
        assert type(broker).__name__ in {"RedisBroker", "RabbitmqBroker"}
    else:
        assert type(broker).__name__ == "StubBroker"
