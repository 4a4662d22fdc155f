"""A job's stored output names its files by storage key only; the API adds a short-lived link
beside each key when it shows the job, for a caller who may see it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from django.core.files.storage import default_storage
from django.test import Client
from rest_framework.test import APIClient

from clips.models import Clip
from tests.media import MediaFactory
from tests.processing.test_operations import start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_clamd")]


def fetched_bytes(url: str) -> bytes:
    if url.startswith("/"):
        response = Client().get(url)
        assert response.status_code == 200
        return b"".join(response.streaming_content)
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    return response.content


def test_it_links_a_rendition_when_showing_its_job_and_stores_no_url(
    worker: Any,
    api: APIClient,
    other_api: APIClient,
    media: MediaFactory,
    ready_clip: Callable[..., Clip],
) -> None:
    clip = ready_clip(media.normal())
    job = start(api, clip, "transcode", {"height": 144, "format": "webm"})
    assert job.status == "completed", job.developer_error

    shown = api.get(f"/api/process/status/{job.pk}").json()["output_data"]

    assert "url" not in job.output_data
    assert shown["key"] == job.output_data["key"]
    with default_storage.open(job.output_data["key"], "rb") as stored:
        assert fetched_bytes(shown["url"]) == stored.read()
    assert other_api.get(f"/api/process/status/{job.pk}").status_code == 404
