"""/healthz reports every backing service; /metrics is Prometheus text behind a token."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from config import health

pytestmark = pytest.mark.django_db


def test_it_reports_every_service_ok_with_its_latency() -> None:
    response = Client().get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker", "storage"}
    for check in body["checks"].values():
        assert check["status"] == "ok"
        assert check["latency_ms"] >= 0


def test_it_answers_503_naming_the_failing_service(monkeypatch: Any) -> None:
    def broken() -> None:
        raise ConnectionError("connection refused")

    monkeypatch.setitem(health.CHECKS, "cache", broken)
    response = Client().get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["cache"] == {
        "status": "error",
        "error": "ConnectionError: connection refused",
    }
    assert body["checks"]["database"]["status"] == "ok"


def test_it_reports_a_hanging_service_as_an_error_within_the_deadline(
    settings: Any, monkeypatch: Any
) -> None:
    import threading

    release = threading.Event()
    settings.HEALTHZ_TIMEOUT_SECONDS = 0.3
    monkeypatch.setitem(health.CHECKS, "storage", lambda: release.wait(5))
    try:
        response = Client().get("/healthz")
    finally:
        release.set()

    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["error"].startswith("no answer within")


def test_it_needs_no_sign_in_and_is_never_rate_limited(settings: Any) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "ip": "1/min"}
    settings.ALLOWED_HOSTS = ["example.com"]  # probes call it by container address
    statuses = [Client().get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code for _ in range(3)]

    assert statuses == [200, 200, 200]


def test_it_serves_metrics_to_an_allowed_address_or_a_token(settings: Any, api: Any) -> None:
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    api.get("/api/projects")

    by_address = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    by_token = Client(REMOTE_ADDR="203.0.113.1").get(
        "/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token"
    )
    wrong_token = Client(REMOTE_ADDR="203.0.113.1").get(
        "/metrics", HTTP_AUTHORIZATION="Bearer guess"
    )
    stranger = Client(REMOTE_ADDR="203.0.113.1").get("/metrics")

    assert by_address.status_code == 200
    assert by_token.status_code == 200
    assert wrong_token.status_code == 403
    assert stranger.status_code == 403
    text = by_address.content.decode()
    assert 'clipseq_http_request_duration_seconds_count{method="GET",route="api/projects"' in text
    assert "clipseq_queue_depth" in text


def test_it_counts_finished_jobs_by_type_and_status(settings: Any) -> None:
    from datetime import timedelta
    from types import SimpleNamespace

    from django.utils import timezone

    from config.metrics import record_finished_job

    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    now = timezone.now()
    job_type = "probe-metrics-test"
    before = Client().get("/metrics").content.decode()
    record_finished_job(
        SimpleNamespace(
            pk="x",
            job_type=job_type,
            status="failed",
            started_at=now - timedelta(seconds=3),
            completed_at=now,
        )
    )
    after = Client().get("/metrics").content.decode()

    def value(text: str, prefix: str) -> float:
        for line in text.splitlines():
            if line.startswith(prefix):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    counter = f'clipseq_jobs_total{{job_type="{job_type}",status="failed"}}'
    bucket = f'clipseq_job_duration_seconds_bucket{{job_type="{job_type}",le="5.0"}}'
    assert value(after, counter) == value(before, counter) + 1
    assert value(after, bucket) == value(before, bucket) + 1


def test_it_echoes_or_creates_a_request_id(api: Any) -> None:
    echoed = api.get("/api/projects", HTTP_X_REQUEST_ID="abc-123")
    created = api.get("/api/projects")
    refused = api.get("/api/projects", HTTP_X_REQUEST_ID="bad id\r\nX-Evil: 1")

    assert echoed["X-Request-ID"] == "abc-123"
    assert len(created["X-Request-ID"]) == 32
    assert refused["X-Request-ID"] != "bad id\r\nX-Evil: 1"
