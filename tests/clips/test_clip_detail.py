"""Reading, editing, deleting, downloading and retrying one clip."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from clips.ingest.pipeline import clip_original_discard
from clips.models import Clip
from clips.storage import clip_derived_key, clip_original_key
from processing.models import ProcessingJob
from tests.clips.conftest import ingest_jobs, send_chunk
from timeline.models import TimelineSegment


@pytest.fixture
def stored_clip(owner: Any, project: Any) -> Clip:
    """A ready clip whose 1000 bytes are stored and counted in the owner's storage."""
    clip = Clip.objects.create(
        project=project,
        owner=owner,
        name="Dive",
        original_filename="dive.mp4",
        status=Clip.Status.READY,
        file_size=1000,
        duration=Decimal("12.5"),
        resolution="1920x1080",
    )
    clip.file_path = default_storage.save(clip_original_key(clip.pk), ContentFile(b"d" * 1000))
    clip.thumbnail_path = default_storage.save(
        clip_derived_key(clip.pk, "poster.jpg"), ContentFile(b"jpeg")
    )
    clip.save()
    owner.storage_used = 1000
    owner.save()
    project.clips_count = 1
    project.save()
    return clip


def test_it_shows_a_clip(api: Any, stored_clip: Clip) -> None:
    response = api.get(f"/api/clips/{stored_clip.pk}")

    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("name", "duration", "resolution", "status", "file_size")} == {
        "name": "Dive",
        "duration": 12.5,
        "resolution": "1920x1080",
        "status": "ready",
        "file_size": 1000,
    }
    assert set(body) >= {
        "id", "project_id", "description", "original_filename", "metadata", "tags",
        "thumbnail_url", "proxy_url", "error_message", "created_at", "updated_at",
    }  # fmt: skip
    assert body["thumbnail_url"].split("?")[0].endswith(stored_clip.thumbnail_path)


def test_it_edits_name_description_and_tags(api: Any, stored_clip: Clip) -> None:
    response = api.patch(
        f"/api/clips/{stored_clip.pk}",
        {"description": "Reef at noon", "tags": ["reef", " sea ", "reef"], "status": "failed"},
        format="json",
    )

    assert response.status_code == 200
    stored_clip.refresh_from_db()
    assert stored_clip.name == "Dive"
    assert stored_clip.description == "Reef at noon"
    assert stored_clip.tags == ["reef", "sea"]
    assert stored_clip.status == Clip.Status.READY


def test_put_replaces_the_editable_fields(api: Any, stored_clip: Clip) -> None:
    response = api.put(f"/api/clips/{stored_clip.pk}", {"name": "Reef"}, format="json")
    missing_name = api.put(f"/api/clips/{stored_clip.pk}", {"tags": []}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "Reef"
    assert missing_name.status_code == 400


@pytest.mark.parametrize(
    "body",
    [{"name": ""}, {"tags": "reef"}, {"tags": ["x" * 51]}, {"tags": [str(n) for n in range(31)]}],
)
def test_it_rejects_invalid_edits(api: Any, stored_clip: Clip, body: dict) -> None:
    response = api.patch(f"/api/clips/{stored_clip.pk}", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    stored_clip.refresh_from_db()
    assert (stored_clip.name, stored_clip.tags) == ("Dive", [])


def test_it_deletes_a_clip_and_frees_its_storage(
    api: Any, owner: Any, project: Any, stored_clip: Clip, django_capture_on_commit_callbacks: Any
) -> None:
    TimelineSegment.objects.create(
        project=project, clip=stored_clip, start_time=0, source_start=0, duration=5
    )
    project.total_duration = 5
    project.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"/api/clips/{stored_clip.pk}")

    assert response.status_code == 204
    assert not Clip.objects.filter(pk=stored_clip.pk).exists()
    assert not default_storage.exists(stored_clip.file_path)
    assert not default_storage.exists(stored_clip.thumbnail_path)
    owner.refresh_from_db()
    assert owner.storage_used == 0
    project.refresh_from_db()
    assert (project.clips_count, project.total_duration) == (0, 0)


def test_deleting_a_clip_still_uploading_releases_its_reservation(
    api: Any, owner: Any, start_upload: Any, django_capture_on_commit_callbacks: Any
) -> None:
    started = start_upload(b"u" * 100)
    send_chunk(api, started["upload"]["id"], 0, b"u" * 100)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"/api/clips/{started['clip']['id']}")

    assert response.status_code == 204
    owner.refresh_from_db()
    assert (owner.storage_used, owner.storage_reserved) == (0, 0)
    assert not default_storage.exists(clip_original_key(started["clip"]["id"]))


def test_it_redirects_a_download_to_the_stored_file(api: Any, stored_clip: Clip) -> None:
    response = api.get(f"/api/clips/{stored_clip.pk}/download")

    assert response.status_code == 302
    location = response["Location"]
    if settings.USE_S3:
        # A short-lived signed URL that names the file; fetch it like a browser would.
        assert "X-Amz-Signature=" in location
        assert "X-Amz-Expires=" in location
        fetched = requests.get(location, timeout=10)
        assert fetched.content == b"d" * 1000
        assert 'filename="dive.mp4"' in fetched.headers["Content-Disposition"]
    else:
        # A link to the app's media view, signed and expiring; fetch it like a browser would.
        assert location.startswith(f"/media/{stored_clip.file_path}?")
        fetched = Client().get(location)
        assert fetched.status_code == 200
        assert b"".join(fetched.streaming_content) == b"d" * 1000
        assert 'filename="dive.mp4"' in fetched["Content-Disposition"]


def test_it_has_nothing_to_download_before_the_upload_completes(
    api: Any, start_upload: Any
) -> None:
    clip_id = start_upload(b"x" * 10)["clip"]["id"]

    response = api.get(f"/api/clips/{clip_id}/download")

    assert response.status_code == 409
    assert "not complete" in response.json()["error"]["message"]


def test_it_retries_a_failed_clip(api: Any, stored_clip: Clip) -> None:
    stored_clip.status = Clip.Status.FAILED
    stored_clip.error_message = "FFmpeg stopped."
    stored_clip.save()

    response = api.post(f"/api/clips/{stored_clip.pk}/retry")

    assert response.status_code == 202
    job = ProcessingJob.objects.get(pk=response.json()["id"])
    assert response.json()["clip_id"] == str(stored_clip.pk)
    assert response.json()["status"] == "pending"
    assert job.clip_id == stored_clip.pk
    stored_clip.refresh_from_db()
    assert (stored_clip.status, stored_clip.error_message) == ("processing", "")


def test_it_retries_only_failed_clips(api: Any, stored_clip: Clip) -> None:
    response = api.post(f"/api/clips/{stored_clip.pk}/retry")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"
    assert ingest_jobs(stored_clip.pk) == []


def test_discarding_the_original_gives_the_storage_back(
    owner: Any, stored_clip: Clip, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        clip_original_discard(
            clip=stored_clip, message="This is not a video.", code="INVALID_FILE_FORMAT"
        )

    stored_clip.refresh_from_db()
    assert stored_clip.status == Clip.Status.FAILED
    assert stored_clip.error_message == "This is not a video."
    assert stored_clip.metadata["error_code"] == "INVALID_FILE_FORMAT"
    assert not default_storage.exists(clip_original_key(stored_clip.pk))
    assert not default_storage.exists(clip_derived_key(stored_clip.pk, "poster.jpg"))
    owner.refresh_from_db()
    assert owner.storage_used == 0
    # Deleting it afterwards frees nothing twice; retrying is pointless without the file.
    assert api.post(f"/api/clips/{stored_clip.pk}/retry").status_code == 409
    assert api.delete(f"/api/clips/{stored_clip.pk}").status_code == 204
    owner.refresh_from_db()
    assert owner.storage_used == 0
