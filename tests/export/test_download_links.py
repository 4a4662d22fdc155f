"""An export's download link is issued when the job is shown, to whoever may see it, and
expires; the stored job never holds a URL."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from django.core.files.storage import default_storage
from django.test import Client

from processing.models import ProcessingJob
from tests.export.conftest import export, lay_out

# The job runs here as on a worker, with its heartbeat thread: committed rows, as export specs do.
pytestmark = pytest.mark.django_db(transaction=True)


def fetched_bytes(url: str) -> bytes:
    """What a browser gets from a media link (the app's media view, or S3 in CI)."""
    if url.startswith("/"):
        response = Client().get(url)
        assert response.status_code == 200, response.content[:200]
        return b"".join(response.streaming_content)
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    return response.content


def stored_bytes(key: str) -> bytes:
    with default_storage.open(key, "rb") as stored:
        return stored.read()


@pytest.fixture
def finished_export(project: Any, clip_of: Any, sources: Any) -> ProcessingJob:
    clip = clip_of(sources.video(seconds=1))
    lay_out(project, [{"clip": clip, "start": 0, "duration": 1}])
    return export(project, preset="source")


def test_it_issues_the_download_url_when_the_job_is_shown(
    api: Any, finished_export: ProcessingJob, settings: Any
) -> None:
    settings.MEDIA_URL_TTL = 900
    key = finished_export.output_data["storage_key"]

    shown = api.get(f"/api/process/status/{finished_export.pk}").json()
    listed = api.get("/api/jobs", {"project": str(finished_export.project_id)}).json()

    assert "download_url" not in finished_export.output_data
    url = shown["output_data"]["download_url"]
    assert fetched_bytes(url) == stored_bytes(key)
    assert listed["results"][0]["output_data"]["download_url"]
    # Short-lived: a local link carries its expiry, a presigned one its lifetime.
    assert "expires=" in url or "X-Amz-Expires=900" in url


def test_it_replaces_a_stored_download_url_of_an_older_job(
    api: Any, finished_export: ProcessingJob
) -> None:
    finished_export.output_data = {
        **finished_export.output_data,
        "download_url": f"/media/{finished_export.output_data['storage_key']}",
    }
    finished_export.save(update_fields=["output_data"])

    url = api.get(f"/api/process/status/{finished_export.pk}").json()["output_data"]["download_url"]

    assert url != finished_export.output_data["download_url"]
    assert fetched_bytes(url) == stored_bytes(finished_export.output_data["storage_key"])


def test_it_gives_another_user_neither_the_job_nor_a_link(
    other_api: Any, finished_export: ProcessingJob
) -> None:
    assert other_api.get(f"/api/process/status/{finished_export.pk}").status_code == 404
    assert other_api.get(f"/api/process/export/{finished_export.pk}/download").status_code == 404
    assert other_api.get("/api/jobs").json()["count"] == 0


def test_it_redirects_the_download_endpoint_to_a_fresh_link_that_saves_the_file(
    api: Any, finished_export: ProcessingJob
) -> None:
    response = api.get(f"/api/process/export/{finished_export.pk}/download")

    assert response.status_code == 302
    location = response["Location"]
    # Named after the project (API.md "Canvas, …"), not by the job id.
    name = '"Export me.mp4"'
    if location.startswith("/"):
        fetched = Client().get(location)
        disposition = fetched["Content-Disposition"]
    else:
        disposition = requests.get(location, timeout=30).headers["Content-Disposition"]
    assert disposition.startswith("attachment") and name in disposition
