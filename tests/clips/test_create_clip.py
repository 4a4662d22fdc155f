"""A small file sent in one multipart request becomes a clip after a synchronous probe."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from clips.models import Clip
from processing.models import ProcessingJob
from tests.clips.conftest import ingest_jobs, sha256, stored_bytes


def test_it_stores_a_video_sent_in_one_request(
    api: Any, owner: Any, project: Any, video_file: Path
) -> None:
    data = video_file.read_bytes()
    with video_file.open("rb") as file:
        response = api.post(
            f"/api/projects/{project.pk}/clips", {"file": file, "name": "Sea"}, format="multipart"
        )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Sea"
    assert body["original_filename"] == "beach.mp4"
    assert body["file_size"] == len(data)
    assert body["status"] == "processing"
    assert body["project_id"] == str(project.pk)
    assert body["upload_id"] is None
    clip = Clip.objects.get(pk=body["id"])
    assert sha256(stored_bytes(clip.file_path)) == sha256(data)
    assert clip.sha256 == sha256(data)
    owner.refresh_from_db()
    assert (owner.storage_used, owner.storage_reserved) == (len(data), 0)
    assert [job.clip_id for job in ingest_jobs(clip.pk)] == [clip.pk]
    project.refresh_from_db()
    assert project.clips_count == 1


def test_it_names_the_clip_after_the_file(api: Any, project: Any, video_file: Path) -> None:
    with video_file.open("rb") as file:
        response = api.post(f"/api/projects/{project.pk}/clips", {"file": file})

    assert response.status_code == 201
    assert response.json()["name"] == "beach"


def test_it_rejects_a_file_that_is_not_a_video(
    api: Any, owner: Any, project: Any, tmp_path: Path
) -> None:
    fake = tmp_path / "holiday.mp4"
    fake.write_bytes(os.urandom(50_000))

    with fake.open("rb") as file:
        response = api.post(f"/api/projects/{project.pk}/clips", {"file": file})

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "INVALID_FILE_FORMAT"
    assert not Clip.objects.exists()
    owner.refresh_from_db()
    assert (owner.storage_used, owner.storage_reserved) == (0, 0)
    assert not ProcessingJob.objects.exists()


def test_it_sends_large_files_to_the_chunked_upload(
    api: Any, project: Any, settings: Any, tmp_path: Path
) -> None:
    settings.UPLOAD_SINGLE_REQUEST_MAX = 100_000
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(200_000))

    with big.open("rb") as file:
        response = api.post(f"/api/projects/{project.pk}/clips", {"file": file})

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "FILE_TOO_LARGE"
    assert "chunked upload" in error["message"]
    assert error["details"]["use_chunked_upload"] is True
    assert not Clip.objects.exists()


def test_it_refuses_a_video_over_quota(
    api: Any, owner: Any, project: Any, video_file: Path
) -> None:
    owner.storage_limit = 1000
    owner.save()

    with video_file.open("rb") as file:
        response = api.post(f"/api/projects/{project.pk}/clips", {"file": file})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "STORAGE_QUOTA_EXCEEDED"
    assert not Clip.objects.exists()


def test_it_requires_a_file(api: Any, project: Any) -> None:
    response = api.post(f"/api/projects/{project.pk}/clips", {"name": "x"}, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
