"""The whole ingest as a client sees it: upload a file through the clips API, watch the clip
become ready with its poster and proxy, and retry a clip whose processing was cancelled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from clips.models import Clip
from processing.models import ProcessingJob
from projects.models import Project
from tests.media import MediaFactory
from tests.processing.conftest import clip_settled, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_clamd")]


def test_it_turns_an_uploaded_file_into_a_ready_clip(
    worker: Any, api: APIClient, project: Project, media: MediaFactory
) -> None:
    with open(media.normal(), "rb") as handle:
        response = api.post(
            f"/api/projects/{project.pk}/clips",
            {"file": handle, "name": "Beach"},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "processing"
    clip = Clip.objects.get(pk=response.json()["id"])

    wait_for(clip_settled(clip), what="the uploaded clip to be processed")
    body = api.get(f"/api/clips/{clip.pk}").json()

    assert body["status"] == "ready", body["error_message"]
    assert body["resolution"] == "320x240"
    assert body["duration"] == pytest.approx(2.0, abs=0.1)
    assert body["thumbnail_url"] and body["proxy_url"]
    assert body["metadata"]["video_codec"] == "h264"
    jobs = api.get("/api/jobs", {"project": str(project.pk)}).json()["results"]
    assert {job["job_type"] for job in jobs} == {"probe", "thumbnail", "transcode"}
    assert all(job["status"] == "completed" and job["progress"] == 100 for job in jobs)


def test_it_retries_a_clip_whose_processing_was_cancelled(
    worker: Any,
    api: APIClient,
    media: MediaFactory,
    stored_clip: Callable[..., Clip],
) -> None:
    clip = stored_clip(media.normal())
    Clip.objects.filter(pk=clip.pk).update(
        status=Clip.Status.FAILED,
        error_message="Processing was cancelled. Retry the clip to process it again.",
        metadata={"error_code": "PROCESSING_FAILED"},
    )

    response = api.post(f"/api/clips/{clip.pk}/retry")

    assert response.status_code == 202, response.content
    assert response.json()["job_type"] == "probe"
    clip = wait_for(clip_settled(clip))
    assert clip.status == Clip.Status.READY, clip.error_message
    assert "error_code" not in clip.metadata and clip.error_message == ""
    assert ProcessingJob.objects.filter(clip=clip, status="completed").count() == 3
