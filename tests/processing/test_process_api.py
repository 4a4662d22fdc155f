"""POST /api/process/clip, GET /api/process/status/:id, POST /api/process/cancel/:id and
GET /api/jobs as API.md describes them."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clips.models import Clip
from processing.models import ProcessingJob
from projects.models import Project
from tests.projects.factories import make_project

pytestmark = pytest.mark.django_db

JOB_FIELDS = {
    "id",
    "job_type",
    "status",
    "progress",
    "clip_id",
    "project_id",
    "input_params",
    "output_data",
    "error_message",
    "created_at",
    "started_at",
    "completed_at",
}


def ready_clip(project: Project, *, has_audio: bool = True, **extra: Any) -> Clip:
    return Clip.objects.create(
        project=project,
        owner=project.owner,
        name="beach",
        file_path="clips/x/original",
        file_size=10_000,
        duration=Decimal("10.000"),
        resolution="1280x720",
        status=extra.pop("status", Clip.Status.READY),
        metadata={"has_audio": has_audio, "display_width": 1280, "display_height": 720},
        **extra,
    )


def make_job(owner: Any, *, project: Project | None = None, **extra: Any) -> ProcessingJob:
    return ProcessingJob.objects.create(
        owner=owner, project=project, job_type=extra.pop("job_type", "probe"), **extra
    )


def error_code(response: Any) -> str:
    return response.json()["error"]["code"]


# --- POST /api/process/clip -------------------------------------------------------------------


def test_it_starts_a_transcode_and_answers_202_with_the_job(
    api: APIClient, project: Project
) -> None:
    clip = ready_clip(project)

    response = api.post(
        "/api/process/clip",
        {"clip_id": str(clip.pk), "operation": "transcode", "params": {"height": 480}},
        format="json",
    )

    assert response.status_code == 202
    body = response.json()
    assert set(body) == JOB_FIELDS
    assert body["job_type"] == "transcode" and body["status"] == "pending"
    assert body["progress"] == 0
    assert body["clip_id"] == str(clip.pk) and body["project_id"] == str(project.pk)
    assert body["input_params"] == {"height": 480, "format": "mp4"}
    job = ProcessingJob.objects.get(pk=body["id"])
    assert job.owner == project.owner and job.clip == clip


def test_it_makes_the_proxy_when_no_operation_is_given(api: APIClient, project: Project) -> None:
    clip = ready_clip(project)

    response = api.post("/api/process/clip", {"clip_id": str(clip.pk)}, format="json")

    assert response.status_code == 202
    assert response.json()["job_type"] == "transcode"
    assert response.json()["input_params"] == {}


def test_it_starts_an_extract_with_its_times(api: APIClient, project: Project) -> None:
    clip = ready_clip(project)

    response = api.post(
        "/api/process/clip",
        {"clip_id": str(clip.pk), "operation": "extract", "params": {"start": 1.5, "duration": 2}},
        format="json",
    )

    assert response.status_code == 202
    assert response.json()["input_params"] == {"start": 1.5, "duration": 2.0}


@pytest.mark.parametrize(
    ("operation", "params", "field"),
    [
        ("explode", {}, "operation"),
        ("extract", {"duration": 2}, "params.start"),
        ("extract", {"start": -1, "duration": 2}, "params.start"),
        ("extract", {"start": 9, "duration": 2}, "params.duration"),
        ("extract", {"start": 1, "duration": 0}, "params.duration"),
        ("extract", {"start": "soon", "duration": 2}, "params.start"),
        ("transcode", {"height": 2160}, "params.height"),
        ("transcode", {"height": "480"}, "params.height"),
        ("transcode", {"height": 480, "format": "avi"}, "params.format"),
        ("thumbnail", {"size": 3}, "params.size"),
    ],
)
def test_it_refuses_invalid_operations_and_params(
    api: APIClient, project: Project, operation: str, params: dict[str, Any], field: str
) -> None:
    clip = ready_clip(project)

    response = api.post(
        "/api/process/clip",
        {"clip_id": str(clip.pk), "operation": operation, "params": params},
        format="json",
    )

    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"
    assert field in response.json()["error"]["details"]["fields"]
    assert not ProcessingJob.objects.exists()


@pytest.mark.parametrize("text", ["a\x00b", "\ud800"])
def test_it_refuses_params_with_characters_that_cannot_be_stored(
    api: APIClient, project: Project, text: str
) -> None:
    # NUL (PostgreSQL) and lone surrogates (UTF-8) in params used to reach the job row.
    clip = ready_clip(project)
    body = {"clip_id": str(clip.pk), "operation": "transcode", "params": {"note": text}}

    response = api.post("/api/process/clip", json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert "params" in response.json()["error"]["details"]["fields"]
    assert not ProcessingJob.objects.exists()


def test_it_refuses_to_normalise_a_clip_without_audio(api: APIClient, project: Project) -> None:
    clip = ready_clip(project, has_audio=False)

    response = api.post(
        "/api/process/clip",
        {"clip_id": str(clip.pk), "operation": "normalize_audio"},
        format="json",
    )

    assert response.status_code == 400
    assert "no audio" in response.json()["error"]["message"]


@pytest.mark.parametrize("status", [Clip.Status.PROCESSING, Clip.Status.FAILED])
def test_it_refuses_to_process_a_clip_that_is_not_ready(
    api: APIClient, project: Project, status: str
) -> None:
    clip = ready_clip(project, status=status)

    response = api.post("/api/process/clip", {"clip_id": str(clip.pk)}, format="json")

    assert response.status_code == 409
    assert error_code(response) == "CONFLICT"


def test_it_hides_another_users_clip(other_api: APIClient, project: Project) -> None:
    clip = ready_clip(project)

    response = other_api.post("/api/process/clip", {"clip_id": str(clip.pk)}, format="json")

    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"
    assert not ProcessingJob.objects.exists()


def test_it_asks_anonymous_callers_to_sign_in(anon_api: APIClient, project: Project) -> None:
    clip = ready_clip(project)

    response = anon_api.post("/api/process/clip", {"clip_id": str(clip.pk)}, format="json")

    assert response.status_code == 401
    assert error_code(response) == "UNAUTHORIZED_ACCESS"


# --- GET /api/process/status/:id --------------------------------------------------------------


def test_it_shows_a_job_without_developer_detail(api: APIClient, owner: Any) -> None:
    job = make_job(
        owner,
        status="failed",
        error_message="The video could not be processed.",
        developer_error="ffmpeg: moov atom not found at /var/tmp/job-1/source",
    )

    response = api.get(f"/api/process/status/{job.pk}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == JOB_FIELDS
    assert body["status"] == "failed"
    assert body["error_message"] == "The video could not be processed."
    assert "moov" not in response.content.decode()


def test_it_hides_another_users_job_status(
    other_api: APIClient, anon_api: APIClient, owner: Any
) -> None:
    job = make_job(owner)

    assert other_api.get(f"/api/process/status/{job.pk}").status_code == 404
    assert anon_api.get(f"/api/process/status/{job.pk}").status_code == 401


# --- POST /api/process/cancel/:id -------------------------------------------------------------


def test_it_cancels_a_pending_job(api: APIClient, owner: Any) -> None:
    job = make_job(owner)

    response = api.post(f"/api/process/cancel/{job.pk}")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["completed_at"] is not None
    job.refresh_from_db()
    assert job.status == "cancelled"


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_it_refuses_to_cancel_a_finished_job(api: APIClient, owner: Any, status: str) -> None:
    job = make_job(owner, status=status, completed_at=timezone.now())

    response = api.post(f"/api/process/cancel/{job.pk}")

    assert response.status_code == 409
    assert error_code(response) == "CONFLICT"
    assert status in response.json()["error"]["message"]
    job.refresh_from_db()
    assert job.status == status


def test_it_does_not_let_others_cancel_a_job(
    other_api: APIClient, anon_api: APIClient, owner: Any
) -> None:
    job = make_job(owner)

    assert other_api.post(f"/api/process/cancel/{job.pk}").status_code == 404
    assert anon_api.post(f"/api/process/cancel/{job.pk}").status_code == 401
    job.refresh_from_db()
    assert job.status == "pending"


# --- GET /api/jobs ----------------------------------------------------------------------------


def test_it_lists_the_callers_jobs_newest_first(
    api: APIClient, owner: Any, other_user: Any
) -> None:
    now = timezone.now()
    older = make_job(owner, job_type="probe")
    newer = make_job(owner, job_type="thumbnail")
    ProcessingJob.objects.filter(pk=older.pk).update(created_at=now - timedelta(minutes=5))
    make_job(other_user, job_type="transcode")

    response = api.get("/api/jobs")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [job["id"] for job in body["results"]] == [str(newer.pk), str(older.pk)]


def test_it_filters_jobs_by_status_and_project(api: APIClient, owner: Any) -> None:
    first, second = make_project(owner, "First"), make_project(owner, "Second")
    wanted = make_job(owner, project=first, status="failed")
    make_job(owner, project=first, status="completed")
    make_job(owner, project=second, status="failed")

    response = api.get("/api/jobs", {"status": "failed", "project": str(first.pk)})

    assert [job["id"] for job in response.json()["results"]] == [str(wanted.pk)]


def test_it_refuses_an_unknown_status_filter(api: APIClient) -> None:
    response = api.get("/api/jobs", {"status": "exploded"})

    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"


def test_it_paginates_jobs_in_a_constant_number_of_queries(
    api: APIClient, owner: Any, project: Project, django_assert_max_num_queries: Any
) -> None:
    clip = ready_clip(project)
    for _ in range(30):
        make_job(owner, project=project, clip=clip)

    with django_assert_max_num_queries(6):
        response = api.get("/api/jobs", {"page_size": 25})

    body = response.json()
    assert body["count"] == 30 and len(body["results"]) == 25
    assert body["next"] is not None
    assert body["results"][0]["clip_id"] == str(clip.pk)


def test_it_asks_anonymous_callers_to_sign_in_for_jobs(anon_api: APIClient) -> None:
    assert anon_api.get("/api/jobs").status_code == 401
