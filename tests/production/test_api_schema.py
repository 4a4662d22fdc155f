"""Schemathesis against the served OpenAPI description (/api/schema/), as an authenticated user:
no answer is a server error, and every answer (status, content type, body, headers) is one
the schema describes. Path parameters hit the caller's real objects as often as random ids."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tokens import token_pair_issue
from tests.production.conftest import OwnedObjects

app = WSGIHandler()
schema = schemathesis.openapi.from_wsgi("/api/schema/", app)
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    deterministic=False,
    database="none",
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture
def in_process_app() -> Iterator[None]:
    """Keep the test's database connection across requests: a real server closes it after
    each request, which would end the test's transaction (Django's test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def real_ids(owned: OwnedObjects) -> dict[str, str]:
    return {
        "project_id": str(owned.project.pk),
        "project": str(owned.project.pk),
        "clip_id": str(owned.clip.pk),
        "upload_id": str(owned.upload.pk),
        "segment_id": str(owned.segment.pk),
        "job_id": str(owned.job.pk),
    }


def with_real_ids(case: schemathesis.Case, ids: dict[str, str]) -> None:
    """Point the ids a case names (path, query, body and timeline segments) at owned objects."""

    def swap(values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        return {
            name: ids[name] if name in ids and isinstance(value, str) else value
            for name, value in values.items()
        }

    case.path_parameters = swap(case.path_parameters)
    case.query = swap(case.query)
    case.body = swap(case.body)
    if isinstance(case.body, dict) and isinstance(case.body.get("segments"), list):
        case.body["segments"] = [swap(segment) for segment in case.body["segments"]]


@pytest.mark.django_db
@schema.parametrize()
@schema.given(use_real_ids=st.booleans())
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_described(
    case: schemathesis.Case, use_real_ids: bool, owned: OwnedObjects, in_process_app: None
) -> None:
    if use_real_ids:
        with_real_ids(case, real_ids(owned))
    token = token_pair_issue(user=owned.project.owner).access
    # Each example starts from the same objects: what one example deletes, the next still has.
    with transaction.atomic():
        case.call_and_validate(
            app=app,
            headers={"Authorization": f"Bearer {token}"},
            # Werkzeug's test environ has no client address; every real server sets one.
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
            checks=CHECKS,
        )
        transaction.set_rollback(True)


def test_the_schema_validates_without_warnings() -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/projects/not-an-id", "/api/nothing-here"])
def test_it_answers_an_unknown_api_address_with_the_error_body(api: Any, path: str) -> None:
    response = api.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.django_db
def test_pages_keep_their_html_not_found_page(anon_api: Any) -> None:
    response = anon_api.get("/no-such-page")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
