"""Clips uploaded by any member count against the project owner's storage (API.md, "Sharing
a project"): the member's own quota is neither used nor consulted."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from clips.models import Clip
from tests.collaboration.conftest import Team

pytestmark = pytest.mark.django_db


def storage(user: Any) -> tuple[int, int]:
    fresh = User.objects.get(pk=user.pk)
    return fresh.storage_used, fresh.storage_reserved


def test_a_file_an_editor_uploads_uses_the_owners_storage(team: Team, media: Any) -> None:
    path = media.normal()
    size = path.stat().st_size
    with open(path, "rb") as handle:
        response = team.client("editor").post(
            f"/api/projects/{team.project.pk}/clips", {"file": handle}, format="multipart"
        )

    assert response.status_code == 201, response.json()
    assert storage(team.owner) == (size, 0)
    assert storage(team.editor) == (0, 0)
    assert Clip.objects.get(pk=response.json()["id"]).owner_id == team.owner.pk


def test_a_chunked_upload_by_an_editor_reserves_and_releases_the_owners_storage(
    team: Team,
) -> None:
    editor = team.client("editor")

    started = editor.post(
        f"/api/projects/{team.project.pk}/clips",
        {"name": "Big one", "filename": "big.mp4", "size": 5_000_000},
        format="json",
    )
    reserved = storage(team.owner)
    status = editor.get(f"/api/upload/status/{started.json()['upload']['id']}")
    cancelled = editor.delete(f"/api/upload/cancel/{started.json()['upload']['id']}")

    assert started.status_code == 201
    assert reserved == (0, 5_000_000)
    assert storage(team.editor) == (0, 0)
    assert status.status_code == 200
    assert cancelled.status_code == 204
    assert storage(team.owner) == (0, 0)
    assert not Clip.objects.exists()


def test_a_full_owner_refuses_an_editors_upload_whatever_the_editors_own_space(
    team: Team,
) -> None:
    User.objects.filter(pk=team.owner.pk).update(storage_limit=1_000_000, storage_used=900_000)

    response = team.client("editor").post(
        f"/api/projects/{team.project.pk}/clips",
        {"filename": "big.mp4", "size": 200_000},
        format="json",
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "STORAGE_QUOTA_EXCEEDED"
    assert response.json()["error"]["details"]["available"] == 100_000
    assert not Clip.objects.exists()
    assert storage(team.owner) == (900_000, 0)


def test_deleting_a_members_clip_gives_the_owner_the_space_back(team: Team, media: Any) -> None:
    path = media.normal()
    with open(path, "rb") as handle:
        clip_id = (
            team.client("editor")
            .post(f"/api/projects/{team.project.pk}/clips", {"file": handle}, format="multipart")
            .json()["id"]
        )

    refused = team.client("commenter").delete(f"/api/clips/{clip_id}")
    deleted = team.client("editor").delete(f"/api/clips/{clip_id}")

    assert refused.status_code == 403
    assert deleted.status_code == 204
    assert storage(team.owner) == (0, 0)
