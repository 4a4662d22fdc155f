"""Structured logs: JSON lines carrying the request id of the request, or the job id of the job."""

from __future__ import annotations

import io
import json
import logging
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from config.logging import ContextFilter, JsonFormatter
from config.worker import WorkerContext


@pytest.fixture
def json_lines() -> Any:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


@pytest.mark.django_db
def test_a_requests_log_lines_carry_its_request_id(api: Any, json_lines: Any) -> None:
    response = api.get(f"/api/projects/{uuid.uuid4()}", HTTP_X_REQUEST_ID="trace-42")

    lines = [line for line in json_lines() if line["logger"] == "django.request"]
    assert response["X-Request-ID"] == "trace-42"
    assert lines, "Django logs a 404 on django.request"
    assert lines[-1]["request_id"] == "trace-42"
    assert lines[-1]["level"] == "WARNING"
    assert "time" in lines[-1]


def test_a_jobs_log_lines_carry_its_job_id(json_lines: Any) -> None:
    job_id = str(uuid.uuid4())
    message = SimpleNamespace(actor_name="run_export_job", args=(job_id,), message_id="m1")
    middleware = WorkerContext()

    middleware.before_process_message(None, message)
    logging.getLogger("processing.runner").warning("rendering")
    middleware.after_process_message(None, message)
    logging.getLogger("processing.runner").warning("idle")

    during, after = json_lines()[-2:]
    assert during["job_id"] == job_id
    assert during["message"] == "rendering"
    assert "job_id" not in after


def test_extra_fields_and_exceptions_are_kept(json_lines: Any) -> None:
    try:
        raise ValueError("broken pipe")
    except ValueError:
        logging.getLogger("clipseq").exception("upload failed", extra={"upload_id": "u1"})

    line = json_lines()[-1]
    assert line["upload_id"] == "u1"
    assert "ValueError: broken pipe" in line["exception"]
