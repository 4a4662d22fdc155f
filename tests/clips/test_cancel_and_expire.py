"""Cancelling an upload and sweeping expired ones give the quota back and drop the chunks."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from clips.models import Clip, UploadChunk, UploadSession
from clips.services.uploads import uploads_expire
from processing.files import s3_target
from tests.clips.conftest import chunks_of, send_chunk, session


def multipart_uploads(key: str) -> list[str]:
    """Open S3 multipart uploads for a storage key ([] on local storage)."""
    if not settings.USE_S3:
        return []
    client = default_storage.connection.meta.client
    answer = client.list_multipart_uploads(
        Bucket=default_storage.bucket_name,
        Prefix=s3_target().key(key),  # type: ignore[union-attr]
    )
    return [item["UploadId"] for item in answer.get("Uploads", [])]


def test_it_cancels_an_upload(
    api: Any,
    owner: Any,
    project: Any,
    start_upload: Any,
    payload: bytes,
    django_capture_on_commit_callbacks: Any,
) -> None:
    upload = start_upload(payload)["upload"]
    send_chunk(api, upload["id"], 0, chunks_of(payload, upload["chunk_size"])[0])
    key = session(upload).storage_key
    if settings.USE_S3:
        assert multipart_uploads(key) == [session(upload).multipart_upload_id]
    else:
        assert default_storage.exists(key)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"/api/upload/cancel/{upload['id']}")

    assert response.status_code == 204
    assert not UploadSession.objects.filter(pk=upload["id"]).exists()
    assert not UploadChunk.objects.exists()
    assert not Clip.objects.filter(pk=upload["clip_id"]).exists()
    assert not default_storage.exists(key)
    assert multipart_uploads(key) == []
    owner.refresh_from_db()
    assert owner.storage_reserved == 0
    project.refresh_from_db()
    assert project.clips_count == 0
    assert api.get(f"/api/upload/status/{upload['id']}").status_code == 404


def test_it_refuses_to_cancel_a_complete_upload(
    api: Any, owner: Any, start_upload: Any, chunk_size: int
) -> None:
    data = b"z" * 100
    upload = start_upload(data)["upload"]
    send_chunk(api, upload["id"], 0, data)
    api.post("/api/upload/complete", {"upload_id": upload["id"]}, format="json")

    response = api.delete(f"/api/upload/cancel/{upload['id']}")

    assert response.status_code == 409
    assert Clip.objects.get(pk=upload["clip_id"]).status == Clip.Status.PROCESSING
    owner.refresh_from_db()
    assert owner.storage_used == 100


def test_it_expires_abandoned_uploads(
    api: Any,
    owner: Any,
    start_upload: Any,
    payload: bytes,
    django_capture_on_commit_callbacks: Any,
) -> None:
    stale = start_upload(payload)["upload"]
    send_chunk(api, stale["id"], 0, chunks_of(payload, stale["chunk_size"])[0])
    fresh = start_upload(b"f" * 10)["upload"]
    UploadSession.objects.filter(pk=stale["id"]).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    stale_key = session(stale).storage_key

    late = send_chunk(api, stale["id"], 1, chunks_of(payload, stale["chunk_size"])[1])
    assert late.status_code == 409
    assert "expired" in late.json()["error"]["message"]

    with django_capture_on_commit_callbacks(execute=True):
        assert uploads_expire() == 1

    assert not Clip.objects.filter(pk=stale["clip_id"]).exists()
    assert not default_storage.exists(stale_key)
    assert multipart_uploads(stale_key) == []
    assert session(fresh).status == "active"
    owner.refresh_from_db()
    assert owner.storage_reserved == 10
    assert uploads_expire() == 0


def test_the_expire_uploads_command_runs_the_sweep(start_upload: Any) -> None:
    upload = start_upload(b"x" * 10)["upload"]
    UploadSession.objects.filter(pk=upload["id"]).update(expires_at=timezone.now())
    out = StringIO()

    call_command("expire_uploads", stdout=out)

    assert "Expired 1 upload" in out.getvalue()
    assert not UploadSession.objects.filter(pk=upload["id"]).exists()
