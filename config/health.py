"""GET /healthz: is every backing service reachable? For load balancers and orchestrators.

Each check runs in its own thread under one deadline, so a service that hangs reports
`error` after HEALTHZ_TIMEOUT_SECONDS instead of hanging the probe. No authentication and no
rate limit (the middleware answers before either); the body names services, never secrets.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse


def check_database() -> None:
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()  # this thread is about to end; never leak its connection


def check_cache() -> None:
    from django.core.cache import cache

    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", 10)
    if cache.get(key) != "ok":
        raise RuntimeError("the cache did not return what was just written")
    cache.delete(key)


def check_broker() -> None:
    import dramatiq

    broker: Any = dramatiq.get_broker()  # RedisBroker or RabbitmqBroker attributes below
    name = type(broker).__name__
    if name == "RedisBroker":
        broker.client.ping()
    elif name == "RabbitmqBroker" and not broker.connection.is_open:
        raise RuntimeError("the RabbitMQ connection is closed")


def check_storage() -> None:
    from django.core.files.storage import default_storage

    # A lookup of a key that does not exist proves reachability and credentials, writes nothing.
    default_storage.exists(f"healthz/{uuid.uuid4().hex}")


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "storage": check_storage,
}


def _timed(check: Callable[[], None]) -> float:
    started = time.perf_counter()
    check()
    return (time.perf_counter() - started) * 1000


def run_checks() -> dict[str, dict[str, object]]:
    results: dict[str, dict[str, object]] = {}
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="healthz")
    try:
        futures = {name: pool.submit(_timed, check) for name, check in CHECKS.items()}
        deadline = time.monotonic() + settings.HEALTHZ_TIMEOUT_SECONDS
        for name, future in futures.items():
            try:
                latency = future.result(timeout=max(0.0, deadline - time.monotonic()))
                results[name] = {"status": "ok", "latency_ms": round(latency, 1)}
            except FutureTimeout:
                results[name] = {
                    "status": "error",
                    "error": f"no answer within {settings.HEALTHZ_TIMEOUT_SECONDS:g} s",
                }
            except Exception as exc:  # any failure of a check is that service's error
                results[name] = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return results


def backup_summary(database_ok: bool) -> dict[str, object]:
    """The newest backup's age and verification. Informative only: a stale backup is an alert
    for an operator (see /metrics), never a reason to take the web out of a load balancer."""
    if not database_ok:
        return {"status": "unknown"}
    from backups.selectors import backup_status

    try:
        return backup_status().as_dict()
    except Exception as exc:  # e.g. the table does not exist before `migrate`
        return {"status": "unknown", "error": f"{type(exc).__name__}: {exc}"[:300]}


def healthz(request: HttpRequest) -> JsonResponse:
    checks = run_checks()
    healthy = all(result["status"] == "ok" for result in checks.values())
    body = {
        "status": "ok" if healthy else "error",
        "checks": checks,
        "backup": backup_summary(checks.get("database", {}).get("status") == "ok"),
    }
    response = JsonResponse(body, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response
