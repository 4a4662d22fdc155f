"""Fixtures for clip and upload specs: a project, real media made by FFmpeg, chunk helpers.

The same specs run on local storage and, when AWS_STORAGE_BUCKET_NAME is set, against an
S3 protocol server, where every part but the last must be at least 5 MiB.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from clips.models import UploadSession
from processing.models import ProcessingJob
from projects.models import Project


@pytest.fixture
def project(owner: Any) -> Project:
    return Project.objects.create(owner=owner, name="Holiday")


@pytest.fixture
def chunk_size(settings: Any) -> int:
    size = 5 * 1024**2 if settings.USE_S3 else 64 * 1024
    settings.UPLOAD_CHUNK_SIZE = size
    return size


@pytest.fixture
def payload(chunk_size: int) -> bytes:
    """Two and a half chunks of random bytes: three chunks, the last one short."""
    return os.urandom(2 * chunk_size + chunk_size // 2)


def ingest_jobs(clip_id: Any) -> list[ProcessingJob]:
    """The processing jobs started for a clip (the ingest pipeline's first step)."""
    return list(ProcessingJob.objects.filter(clip_id=clip_id))


@pytest.fixture(scope="session")
def video_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real two-second 320x240 MP4 with sound."""
    path = tmp_path_factory.mktemp("media-src") / "beach.mp4"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
            "-f", "lavfi", "-i", "sine=frequency=440", "-t", "2", "-c:v", "libx264",
            "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
            str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_bytes(key: str) -> bytes:
    with default_storage.open(key, "rb") as file:
        return file.read()


@pytest.fixture
def start_upload(api: APIClient, project: Project) -> Callable[..., dict[str, Any]]:
    """Start a chunked upload of `data` (or of `size` bytes) and return the answer's body."""

    def start(data: bytes | None = None, *, client: APIClient = api, **body: Any) -> dict[str, Any]:
        body = {"name": "Beach", "filename": "beach.mp4", **body}
        if data is not None:
            body.setdefault("size", len(data))
        response = client.post(f"/api/projects/{project.pk}/clips", body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return start


def send_chunk(
    client: APIClient, upload_id: str, index: int, data: bytes, *, digest: str | None = None
) -> Any:
    headers = {"HTTP_X_CHUNK_SHA256": digest} if digest else {}
    return client.post(
        f"/api/upload/chunk?upload_id={upload_id}&index={index}",
        data=data,
        content_type="application/octet-stream",
        **headers,
    )


def chunks_of(data: bytes, chunk_size: int) -> list[bytes]:
    return [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]


def upload_all(client: APIClient, upload: dict[str, Any], data: bytes) -> None:
    for index, chunk in enumerate(chunks_of(data, upload["chunk_size"])):
        response = send_chunk(client, upload["id"], index, chunk)
        assert response.status_code == 200, response.json()


def session(upload: dict[str, Any]) -> UploadSession:
    return UploadSession.objects.get(pk=upload["id"])
