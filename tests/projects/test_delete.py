from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from accounts.models import User
from clips.models import Clip, UploadSession
from clips.storage import clip_derived_key, clip_original_key
from processing.models import ProcessingJob
from projects.models import Project
from projects.storage import export_prefix
from tests.projects.factories import make_clip, make_project
from timeline.models import TimelineSegment


def url(project: Project) -> str:
    return f"/api/projects/{project.id}"


def store(key: str, content: bytes = b"video bytes") -> str:
    saved = default_storage.save(key, ContentFile(content))
    assert saved == key
    return key


def test_it_deletes_the_project_with_its_clips_timeline_and_jobs(
    api: Any, owner: Any, project: Project, django_capture_on_commit_callbacks: Any
) -> None:
    clip = make_clip(project)
    TimelineSegment.objects.create(
        project=project, clip=clip, start_time=Decimal(0), duration=Decimal(2)
    )
    ProcessingJob.objects.create(owner=owner, project=project, job_type="export")
    ProcessingJob.objects.create(owner=owner, clip=clip, job_type="probe")

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(url(project))

    assert response.status_code == 204
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Clip.objects.filter(pk=clip.pk).exists()
    assert not TimelineSegment.objects.exists()
    assert not ProcessingJob.objects.exists()
    assert api.get(url(project)).status_code == 404


def test_it_removes_the_stored_files_of_its_clips_and_exports(
    api: Any, owner: Any, project: Project, django_capture_on_commit_callbacks: Any
) -> None:
    clip = make_clip(project)
    keys = [
        store(clip_original_key(clip.id)),
        store(clip_derived_key(clip.id, "poster.jpg")),
        store(clip_derived_key(clip.id, "filmstrip/0001.jpg")),
        store(f"{export_prefix(project.id)}final.mp4"),
    ]
    other_project = make_project(owner, "Keep me")
    other_clip = make_clip(other_project)
    kept = store(clip_original_key(other_clip.id))

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(url(project))

    assert response.status_code == 204
    assert [key for key in keys if default_storage.exists(key)] == []
    assert default_storage.exists(kept)


def test_it_gives_the_owner_back_the_storage_of_its_clips(
    api: Any, owner: Any, project: Project
) -> None:
    make_clip(project, "a.mp4", file_size=3_000)
    make_clip(project, "b.mp4", file_size=2_000)
    make_clip(make_project(owner, "Other"), "c.mp4", file_size=4_000)
    User.objects.filter(pk=owner.pk).update(storage_used=9_000)

    response = api.delete(url(project))

    assert response.status_code == 204
    owner.refresh_from_db()
    assert owner.storage_used == 4_000


def test_it_never_makes_storage_used_negative(api: Any, owner: Any, project: Project) -> None:
    make_clip(project, file_size=5_000)
    User.objects.filter(pk=owner.pk).update(storage_used=1_000)

    response = api.delete(url(project))

    assert response.status_code == 204
    owner.refresh_from_db()
    assert owner.storage_used == 0


def test_it_leaves_an_outsiders_request_without_effect(
    other_api: Any, owner: Any, project: Project, django_capture_on_commit_callbacks: Any
) -> None:
    clip = make_clip(project, file_size=5_000)
    key = store(clip_original_key(clip.id))
    User.objects.filter(pk=owner.pk).update(storage_used=5_000)

    with django_capture_on_commit_callbacks(execute=True):
        response = other_api.delete(url(project))

    assert response.status_code == 404
    assert Clip.objects.filter(pk=clip.pk).exists()
    assert default_storage.exists(key)
    owner.refresh_from_db()
    assert owner.storage_used == 5_000


def stored_parts_exist(session: UploadSession) -> bool:
    """Whether the upload's received bytes are in storage: an open S3 multipart upload, or
    the partly written file on local disk."""
    if not settings.USE_S3:
        return default_storage.exists(session.storage_key)
    client = default_storage.connection.meta.client
    listing = client.list_multipart_uploads(Bucket=default_storage.bucket_name)
    return any(u["UploadId"] == session.multipart_upload_id for u in listing.get("Uploads", []))


def test_it_releases_the_quota_and_chunks_of_an_unfinished_upload(
    api: Any,
    owner: Any,
    project: Project,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.UPLOAD_CHUNK_SIZE = 64 * 1024
    make_clip(project, "done.mp4", file_size=1_000)
    User.objects.filter(pk=owner.pk).update(storage_used=1_500)
    started = api.post(
        f"/api/projects/{project.id}/clips",
        {"name": "Big", "filename": "big.mp4", "size": 150 * 1024},
        format="json",
    )
    assert started.status_code == 201, started.json()
    upload = started.json()["upload"]
    chunk = api.post(
        f"/api/upload/chunk?upload_id={upload['id']}&index=0",
        data=b"x" * min(upload["chunk_size"], upload["size"]),
        content_type="application/octet-stream",
    )
    assert chunk.status_code == 200, chunk.json()
    session = UploadSession.objects.get(pk=upload["id"])
    key = session.storage_key
    assert stored_parts_exist(session)
    owner.refresh_from_db()
    assert owner.storage_reserved == 150 * 1024

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(url(project))

    assert response.status_code == 204
    owner.refresh_from_db()
    assert (owner.storage_used, owner.storage_reserved) == (500, 0)
    assert not UploadSession.objects.exists()
    assert not stored_parts_exist(session)
    assert not default_storage.exists(key)
