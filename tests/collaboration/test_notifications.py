"""Notifications: kept per user, listed newest first, marked read, pushed live on `user_<id>`;
finished exports and clips, invitations, joins, comments and mentions make them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.tokens import token_pair_issue
from clips.ingest.pipeline import clip_ingest_start
from clips.models import Clip
from clips.storage import clip_original_key
from collaboration.models import Notification
from collaboration.services import notification_create
from config.asgi import application
from processing.models import ProcessingJob
from tests.collaboration.conftest import Team, wait_for
from tests.conftest import client_for
from tests.export.conftest import Sources, add_clip, lay_out

pytestmark = pytest.mark.django_db


def notify(user: Any, message: str, **extra: Any) -> Notification:
    extra.setdefault("kind", Notification.Kind.COMMENT)
    made = notification_create(user_id=user.pk, message=message, **extra)
    assert made is not None
    return made


def test_it_lists_the_callers_notifications_newest_first(owner: Any, other_user: Any) -> None:
    older = notify(owner, "Older")
    newer = notify(owner, "Newer", kind="export_failed", level="error")
    notify(other_user, "Not yours")
    Notification.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(hours=1))

    response = client_for(owner).get("/api/notifications")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["unread_count"] == 2
    assert body["results"][0] == {
        "id": str(newer.pk),
        "kind": "export_failed",
        "level": "error",
        "message": "Newer",
        "project_id": None,
        "data": {},
        "read": False,
        "created_at": body["results"][0]["created_at"],
    }
    assert [n["message"] for n in body["results"]] == ["Newer", "Older"]


def test_it_paginates(owner: Any) -> None:
    for number in range(5):
        notify(owner, f"Note {number}")

    page = client_for(owner).get("/api/notifications", {"page_size": 2}).json()

    assert page["count"] == 5
    assert len(page["results"]) == 2
    assert "page=2" in page["next"]


def test_marking_some_read_leaves_the_others_unread(owner: Any) -> None:
    first, second, third = (notify(owner, name) for name in ("one", "two", "three"))
    api = client_for(owner)

    marked = api.post(
        "/api/notifications/read", {"ids": [str(first.pk), str(third.pk)]}, format="json"
    )
    unread = api.get("/api/notifications", {"unread": "true"}).json()

    assert marked.status_code == 204
    assert [n["id"] for n in unread["results"]] == [str(second.pk)]
    assert unread["unread_count"] == 1
    listed = {n["id"]: n["read"] for n in api.get("/api/notifications").json()["results"]}
    assert listed == {str(first.pk): True, str(second.pk): False, str(third.pk): True}


def test_marking_without_ids_reads_them_all(owner: Any) -> None:
    for name in ("one", "two"):
        notify(owner, name)
    api = client_for(owner)

    api.post("/api/notifications/read", {}, format="json")

    assert api.get("/api/notifications", {"unread": "true"}).json()["count"] == 0
    assert Notification.objects.filter(user=owner, read_at__isnull=True).count() == 0


def test_an_event_with_a_key_is_notified_once(owner: Any) -> None:
    first = notification_create(user_id=owner.pk, kind="clip_ready", message="x", key="clip:1")
    again = notification_create(user_id=owner.pk, kind="clip_ready", message="x", key="clip:1")

    assert first is not None
    assert again is None
    assert Notification.objects.filter(user=owner).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_notification_is_pushed_live_to_every_socket_of_its_user(team: Team) -> None:
    token = token_pair_issue(user=team.editor).access
    communicator = WebsocketCommunicator(
        application,
        f"/ws/?token={token}",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")],
    )
    received: dict[str, Any] = {}

    def mention() -> dict[str, Any]:
        return (
            team.client("commenter")
            .post(
                f"/api/projects/{team.project.pk}/comments",
                {"body": "@Editor look at 0:42", "time": 42, "mentions": [str(team.editor.pk)]},
                format="json",
            )
            .json()
        )

    async def body() -> None:
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        received["comment"] = await database_sync_to_async(mention)()
        received["message"] = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()

    async_to_sync(body)()

    stored = Notification.objects.get(user=team.editor)
    assert received["message"] == {
        "type": "notification",
        "id": str(stored.pk),
        "kind": "mention",
        "level": "info",
        "message": "Commenter Member mentioned you in “Wedding film”: @Editor look at 0:42",
        "project_id": str(team.project.pk),
        "data": {
            "comment_id": received["comment"]["id"],
            "parent_id": None,
            "time": 42.0,
            "author_id": str(team.commenter.pk),
        },
    }


# --- finished jobs ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Sources:
    return Sources(tmp_path_factory.mktemp("collab-sources"))


@pytest.fixture
def laid_out(team: Team, sources: Sources, settings: Any) -> Clip:
    settings.EXPORT_X264_PRESET = "ultrafast"
    clip = add_clip(team.project, sources.video(seconds=2))
    lay_out(team.project, [{"clip": clip, "start": 0, "duration": 1}])
    return clip


@pytest.mark.django_db(transaction=True)
def test_a_finished_export_notifies_whoever_started_it(
    team: Team, laid_out: Clip, worker: Any
) -> None:
    started = team.client("editor").post(
        f"/api/projects/{team.project.pk}/export", {}, format="json"
    )
    assert started.status_code == 202
    job = ProcessingJob.objects.get(pk=started.json()["id"])

    note = wait_for(
        lambda: Notification.objects.filter(user=team.editor).first(),
        timeout=120,
        what="the export notification",
    )

    job.refresh_from_db()
    assert job.status == ProcessingJob.Status.COMPLETED, job.developer_error[-2000:]
    assert note.kind == "export_completed"
    assert note.level == "success"
    assert note.project_id == team.project.pk
    assert note.message == "The export of “Wedding film” is ready to download."
    assert note.data["job_id"] == str(job.pk)
    assert note.data["size"] == job.output_data["size"]
    # Whoever downloads it asks the API for a fresh link, as any viewer of the project may.
    download = team.client("viewer").get(note.data["download_endpoint"])
    assert download.status_code == 302
    assert not Notification.objects.filter(user=team.owner, kind="export_completed").exists()


@pytest.mark.django_db(transaction=True)
def test_a_failed_export_notifies_with_the_reason(team: Team, laid_out: Clip, worker: Any) -> None:
    default_storage.delete(laid_out.file_path)  # the source is gone when the job runs

    started = team.client("editor").post(
        f"/api/projects/{team.project.pk}/export", {}, format="json"
    )
    note = wait_for(
        lambda: Notification.objects.filter(user=team.editor).first(),
        timeout=120,
        what="the export notification",
    )

    job = ProcessingJob.objects.get(pk=started.json()["id"])
    assert job.status == ProcessingJob.Status.FAILED
    assert note.kind == "export_failed"
    assert note.level == "error"
    assert job.error_message in note.message


@pytest.mark.django_db(transaction=True)
def test_a_clip_uploaded_by_a_member_notifies_the_owner_when_ready(
    team: Team, media: Any, worker: Any
) -> None:
    path = media.normal()
    with open(path, "rb") as handle:
        response = team.client("editor").post(
            f"/api/projects/{team.project.pk}/clips", {"file": handle}, format="multipart"
        )
    assert response.status_code == 201, response.json()
    clip = Clip.objects.get(pk=response.json()["id"])

    note = wait_for(
        lambda: Notification.objects.filter(kind="clip_ready").first(),
        timeout=120,
        what="the clip_ready notification",
    )

    clip.refresh_from_db()
    assert clip.status == Clip.Status.READY
    assert note.user_id == team.owner.pk
    assert note.message == f"“{clip.name}” is ready in “Wedding film”."
    assert note.data == {"clip_id": str(clip.pk), "clip_name": clip.name}
    # Two final steps finish the ingest; the clip is announced once.
    assert Notification.objects.filter(kind="clip_ready").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_clip_that_cannot_be_processed_notifies_the_owner(
    team: Team, media: Any, worker: Any
) -> None:
    broken = media.truncated()
    clip = Clip.objects.create(
        project=team.project,
        owner=team.owner,
        name="broken",
        file_size=broken.stat().st_size,
        status=Clip.Status.PROCESSING,
    )
    with open(broken, "rb") as handle:
        clip.file_path = default_storage.save(clip_original_key(clip.pk), File(handle))
    clip.save(update_fields=["file_path"])

    clip_ingest_start(clip=clip)
    note = wait_for(
        lambda: Notification.objects.filter(kind="clip_failed").first(),
        timeout=120,
        what="the clip_failed notification",
    )

    clip.refresh_from_db()
    assert clip.status == Clip.Status.FAILED
    assert note.user_id == team.owner.pk
    assert note.level == "error"
    assert clip.error_message in note.message
