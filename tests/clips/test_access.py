"""Another user's clips and uploads answer 404, like missing ones; anonymous callers get 401."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from clips.models import Clip, UploadChunk, UploadSession


@pytest.fixture
def started(start_upload: Any) -> dict[str, Any]:
    return start_upload(b"o" * 10)


def requests_for(started: dict[str, Any], project: Any) -> list[tuple[str, str, dict]]:
    clip, upload = started["clip"]["id"], started["upload"]["id"]
    return [
        ("get", f"/api/projects/{project.pk}/clips", {}),
        (
            "post",
            f"/api/projects/{project.pk}/clips",
            {"data": {"name": "x", "filename": "x.mp4", "size": 5}, "format": "json"},
        ),
        ("get", f"/api/clips/{clip}", {}),
        ("put", f"/api/clips/{clip}", {"data": {"name": "Mine"}, "format": "json"}),
        ("patch", f"/api/clips/{clip}", {"data": {"name": "Mine"}, "format": "json"}),
        ("delete", f"/api/clips/{clip}", {}),
        ("get", f"/api/clips/{clip}/download", {}),
        ("post", f"/api/clips/{clip}/retry", {}),
        (
            "post",
            f"/api/upload/chunk?upload_id={upload}&index=0",
            {"data": b"o" * 10, "content_type": "application/octet-stream"},
        ),
        ("post", "/api/upload/complete", {"data": {"upload_id": upload}, "format": "json"}),
        ("get", f"/api/upload/status/{upload}", {}),
        ("delete", f"/api/upload/cancel/{upload}", {}),
    ]


def assert_untouched(started: dict[str, Any], owner: Any) -> None:
    clip = Clip.objects.get(pk=started["clip"]["id"])
    assert (clip.name, clip.status) == ("Beach", "uploading")
    assert UploadSession.objects.get(pk=started["upload"]["id"]).status == "active"
    assert not UploadChunk.objects.exists()
    assert Clip.objects.count() == 1
    assert User.objects.get(pk=owner.pk).storage_reserved == 10


def test_an_outsider_gets_404_everywhere(
    other_api: Any, owner: Any, project: Any, started: dict[str, Any]
) -> None:
    for method, url, kwargs in requests_for(started, project):
        response = getattr(other_api, method)(url, **kwargs)
        assert response.status_code == 404, (method, url, response.content)
        assert response.json()["error"]["code"] == "NOT_FOUND"
    assert_untouched(started, owner)


def test_an_anonymous_caller_gets_401_everywhere(
    anon_api: Any, owner: Any, project: Any, started: dict[str, Any]
) -> None:
    for method, url, kwargs in requests_for(started, project):
        response = getattr(anon_api, method)(url, **kwargs)
        assert response.status_code == 401, (method, url, response.content)
        assert response.json()["error"]["code"] == "UNAUTHORIZED_ACCESS"
    assert_untouched(started, owner)


def test_unknown_ids_are_404(api: Any) -> None:
    missing = "00000000-0000-4000-8000-000000000000"

    assert api.get(f"/api/clips/{missing}").status_code == 404
    assert api.get(f"/api/projects/{missing}/clips").status_code == 404
    assert api.get(f"/api/upload/status/{missing}").status_code == 404
    chunk = api.post(
        f"/api/upload/chunk?upload_id={missing}&index=0",
        b"x",
        content_type="application/octet-stream",
    )
    assert chunk.status_code == 404
