"""Structured logs: one JSON object per line carrying the request id and the job id.

The ids live in context variables: `config.middleware.RequestContextMiddleware` binds the
request id (X-Request-ID, in and out) and `config.worker.WorkerContext` binds the job id of
the Dramatiq message a worker thread is running, so every log line written on their behalf,
by any module, can be traced back to the request or job.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
job_id_var: ContextVar[str] = ContextVar("job_id", default="")

# Attributes every LogRecord has; anything else was passed with `extra=` and is kept.
_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_STANDARD_ATTRS |= {"request_id", "job_id", "request", "status_code", "server_time"}


@contextmanager
def bind_job(job_id: str) -> Iterator[None]:
    """Attach `job_id` to every log line written inside the block."""
    token = job_id_var.set(str(job_id))
    try:
        yield
    finally:
        job_id_var.reset(token)


class ContextFilter(logging.Filter):
    """Copies the request and job ids onto each record (for both formatters)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs a failed response after the middleware has unbound the id; the
        # record carries the request itself then.
        request = getattr(record, "request", None)
        record.request_id = request_id_var.get() or getattr(request, "request_id", "")
        record.job_id = job_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "") or request_id_var.get()
        job_id = getattr(record, "job_id", "") or job_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        if job_id:
            entry["job_id"] = job_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    """Errors to Sentry from the web (Django) and the workers (Dramatiq)."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.dramatiq import DramatiqIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        integrations=[DjangoIntegration(), DramatiqIntegration()],
    )
