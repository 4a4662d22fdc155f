"""Resumable chunked uploads: any order, resumable, idempotent, verified."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection

from accounts.models import User
from clips.models import Clip, UploadChunk
from tests.clips.conftest import (
    chunks_of,
    ingest_jobs,
    send_chunk,
    session,
    sha256,
    stored_bytes,
    upload_all,
)
from tests.conftest import client_for


def test_it_starts_an_upload_with_a_clip_in_uploading_state(
    api: Any, project: Any, owner: Any, chunk_size: int
) -> None:
    response = api.post(
        f"/api/projects/{project.pk}/clips",
        {"name": "Beach", "filename": "C:\\videos\\beach.mp4", "size": 2 * chunk_size + 10},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["upload"] == {
        "id": body["upload"]["id"],
        "clip_id": body["clip"]["id"],
        "filename": "beach.mp4",
        "size": 2 * chunk_size + 10,
        "chunk_size": chunk_size,
        "total_chunks": 3,
        "received_chunks": 0,
        "received_bytes": 0,
        "status": "active",
        "expires_at": body["upload"]["expires_at"],
    }
    assert body["clip"]["status"] == "uploading"
    assert body["clip"]["name"] == "Beach"
    assert body["clip"]["original_filename"] == "beach.mp4"
    assert body["clip"]["upload_id"] == body["upload"]["id"]
    owner.refresh_from_db()
    assert owner.storage_reserved == 2 * chunk_size + 10
    assert owner.storage_used == 0
    project.refresh_from_db()
    assert project.clips_count == 1


def test_it_names_the_clip_after_the_file_when_no_name_is_sent(
    api: Any, project: Any, chunk_size: int
) -> None:
    # Found by Schemathesis: a start without `name` used to answer 500.
    response = api.post(
        f"/api/projects/{project.pk}/clips",
        {"filename": "sunset.mov", "size": chunk_size},
        format="json",
    )

    assert response.status_code == 201
    clip = Clip.objects.get(pk=response.json()["clip"]["id"])
    assert clip.name == "sunset"
    assert clip.status == Clip.Status.UPLOADING


def test_it_resumes_out_of_order_chunks_and_stores_the_exact_file(
    api: Any, owner: Any, start_upload: Any, payload: bytes
) -> None:
    upload = start_upload(payload)["upload"]
    chunks = chunks_of(payload, upload["chunk_size"])

    assert send_chunk(api, upload["id"], 2, chunks[2]).status_code == 200
    response = send_chunk(api, upload["id"], 0, chunks[0], digest=sha256(chunks[0]))
    assert response.status_code == 200
    assert response.json()["received_chunks"] == 2
    assert response.json()["received_bytes"] == len(chunks[0]) + len(chunks[2])

    # The connection dropped: the client asks what is missing and resumes.
    status = api.get(f"/api/upload/status/{upload['id']}")
    assert status.status_code == 200
    assert status.json()["missing_chunks"] == [1]
    assert status.json()["status"] == "active"
    early = api.post("/api/upload/complete", {"upload_id": upload["id"]}, format="json")
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "UPLOAD_INCOMPLETE"
    assert early.json()["error"]["details"]["missing_chunks"] == [1]

    assert send_chunk(api, upload["id"], 1, chunks[1]).status_code == 200
    response = api.post(
        "/api/upload/complete",
        {"upload_id": upload["id"], "sha256": sha256(payload)},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "processing"
    assert response.json()["file_size"] == len(payload)
    clip = Clip.objects.get(pk=upload["clip_id"])
    assert clip.status == Clip.Status.PROCESSING
    assert sha256(stored_bytes(clip.file_path)) == sha256(payload)
    assert clip.sha256 == sha256(payload)
    assert session(upload).status == "complete"
    owner.refresh_from_db()
    assert (owner.storage_used, owner.storage_reserved) == (len(payload), 0)
    assert [job.clip_id for job in ingest_jobs(clip.pk)] == [clip.pk]
    status = api.get(f"/api/upload/status/{upload['id']}").json()
    assert (status["status"], status["missing_chunks"]) == ("complete", [])


def test_it_stores_a_repeated_chunk_once(api: Any, start_upload: Any, payload: bytes) -> None:
    upload = start_upload(payload)["upload"]
    chunk = chunks_of(payload, upload["chunk_size"])[0]

    first = send_chunk(api, upload["id"], 0, chunk)
    again = send_chunk(api, upload["id"], 0, chunk, digest=sha256(chunk))

    assert first.status_code == again.status_code == 200
    assert again.json()["received_chunks"] == 1
    assert again.json()["received_bytes"] == len(chunk)
    assert UploadChunk.objects.filter(upload_id=upload["id"]).count() == 1


def test_it_refuses_to_replace_a_stored_chunk_with_other_bytes(
    api: Any, start_upload: Any, payload: bytes
) -> None:
    upload = start_upload(payload)["upload"]
    chunk = chunks_of(payload, upload["chunk_size"])[0]
    send_chunk(api, upload["id"], 0, chunk)

    response = send_chunk(api, upload["id"], 0, bytes(reversed(chunk)))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"
    assert UploadChunk.objects.get(upload_id=upload["id"], index=0).sha256 == sha256(chunk)


def test_it_rejects_a_damaged_chunk_and_keeps_nothing(
    api: Any, start_upload: Any, payload: bytes
) -> None:
    upload = start_upload(payload)["upload"]
    chunk = chunks_of(payload, upload["chunk_size"])[0]

    response = send_chunk(api, upload["id"], 0, chunk, digest=sha256(b"something else"))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "damaged" in response.json()["error"]["message"]
    assert not UploadChunk.objects.filter(upload_id=upload["id"]).exists()
    assert api.get(f"/api/upload/status/{upload['id']}").json()["missing_chunks"] == [0, 1, 2]


@pytest.mark.parametrize("cut", [1, -1])
def test_it_rejects_a_chunk_of_the_wrong_size(
    api: Any, start_upload: Any, payload: bytes, cut: int
) -> None:
    upload = start_upload(payload)["upload"]
    chunk = chunks_of(payload, upload["chunk_size"])[1]
    body = chunk[:-1] if cut == 1 else chunk + b"x"

    response = send_chunk(api, upload["id"], 1, body)

    assert response.status_code == 400
    assert f"exactly {upload['chunk_size']} bytes" in response.json()["error"]["message"]
    assert not UploadChunk.objects.filter(upload_id=upload["id"]).exists()


def test_it_rejects_an_index_out_of_range(api: Any, start_upload: Any, payload: bytes) -> None:
    upload = start_upload(payload)["upload"]

    response = send_chunk(api, upload["id"], 3, b"x")
    missing_index = api.post(
        f"/api/upload/chunk?upload_id={upload['id']}", b"x", content_type="application/octet-stream"
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"index": 3, "total_chunks": 3}
    assert missing_index.status_code == 400


def test_it_refuses_chunks_after_completion(api: Any, start_upload: Any, chunk_size: int) -> None:
    data = b"v" * (chunk_size // 2)
    upload = start_upload(data)["upload"]
    upload_all(api, upload, data)
    assert (
        api.post("/api/upload/complete", {"upload_id": upload["id"]}, format="json").status_code
        == 200
    )

    response = send_chunk(api, upload["id"], 0, data)
    again = api.post("/api/upload/complete", {"upload_id": upload["id"]}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["details"]["status"] == "complete"
    # Completing twice (a retried request) answers the same clip, charged once.
    assert again.status_code == 200
    assert again.json()["id"] == upload["clip_id"]
    assert User.objects.get(email="owner@example.com").storage_used == len(data)
    assert len(ingest_jobs(upload["clip_id"])) == 1


def test_it_resets_the_upload_when_the_whole_file_hash_differs(
    api: Any, owner: Any, start_upload: Any, payload: bytes
) -> None:
    upload = start_upload(payload)["upload"]
    upload_all(api, upload, payload)

    response = api.post(
        "/api/upload/complete",
        {"upload_id": upload["id"], "sha256": sha256(b"other")},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert response.json()["error"]["details"]["actual_sha256"] == sha256(payload)
    status = api.get(f"/api/upload/status/{upload['id']}").json()
    assert (status["status"], status["missing_chunks"]) == ("active", [0, 1, 2])
    assert Clip.objects.get(pk=upload["clip_id"]).status == Clip.Status.UPLOADING
    owner.refresh_from_db()
    assert (owner.storage_used, owner.storage_reserved) == (0, len(payload))
    assert ingest_jobs(upload["clip_id"]) == []

    # The client sends everything again and this time the file is right.
    upload_all(api, upload, payload)
    response = api.post(
        "/api/upload/complete",
        {"upload_id": upload["id"], "sha256": sha256(payload)},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert sha256(stored_bytes(Clip.objects.get(pk=upload["clip_id"]).file_path)) == sha256(payload)


def test_it_checks_the_hash_declared_at_the_start(
    api: Any, start_upload: Any, payload: bytes
) -> None:
    upload = start_upload(payload, sha256=sha256(b"not the payload"))["upload"]
    upload_all(api, upload, payload)

    response = api.post("/api/upload/complete", {"upload_id": upload["id"]}, format="json")

    assert response.status_code == 400
    assert session(upload).status == "active"


def test_it_refuses_a_declared_size_above_the_limit(
    api: Any, project: Any, owner: Any, settings: Any
) -> None:
    response = api.post(
        f"/api/projects/{project.pk}/clips",
        {"name": "Huge", "filename": "huge.mov", "size": settings.UPLOAD_MAX_FILE_SIZE + 1},
        format="json",
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "FILE_TOO_LARGE"
    assert not Clip.objects.exists()
    owner.refresh_from_db()
    assert owner.storage_reserved == 0


def test_it_rejects_a_start_without_a_size(api: Any, project: Any) -> None:
    response = api.post(
        f"/api/projects/{project.pk}/clips", {"name": "x", "filename": "x.mp4"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_it_announces_progress_to_the_owner(
    api: Any, owner: Any, start_upload: Any, payload: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    upload = start_upload(payload)["upload"]
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"user_{owner.pk}", channel)
    chunk = chunks_of(payload, upload["chunk_size"])[0]

    with django_capture_on_commit_callbacks(execute=True):
        send_chunk(api, upload["id"], 0, chunk)

    message = async_to_sync(layer.receive)(channel)
    assert message["event"] == {
        "type": "upload:progress",
        "upload_id": upload["id"],
        "received_bytes": len(chunk),
        "size": len(payload),
    }


@pytest.mark.django_db(transaction=True)
def test_it_takes_chunks_in_parallel(owner: Any, project: Any, chunk_size: int) -> None:
    data = bytes(range(256)) * (6 * chunk_size // 256)
    api = client_for(owner)
    start = api.post(
        f"/api/projects/{project.pk}/clips",
        {"name": "p", "filename": "p.mp4", "size": len(data)},
        format="json",
    )
    upload = start.json()["upload"]
    chunks = chunks_of(data, upload["chunk_size"])
    # Every chunk twice, all at once, from separate connections.
    work = [(index, chunk) for index, chunk in enumerate(chunks)] * 2

    def send(item: tuple[int, bytes]) -> int:
        try:
            return send_chunk(client_for(owner), upload["id"], item[0], item[1]).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(send, work))

    assert codes == [200] * len(work)
    assert UploadChunk.objects.filter(upload_id=upload["id"]).count() == len(chunks)
    status = api.get(f"/api/upload/status/{upload['id']}").json()
    assert (status["missing_chunks"], status["received_bytes"]) == ([], len(data))
