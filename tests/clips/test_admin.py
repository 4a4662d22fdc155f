from __future__ import annotations

from typing import Any

from django.test import Client

from clips.models import Clip


def test_staff_see_clips_and_uploads_in_the_admin(
    staff: Any, owner: Any, project: Any, start_upload: Any, api: Any
) -> None:
    started = start_upload(b"a" * 100)
    api.post(
        f"/api/upload/chunk?upload_id={started['upload']['id']}&index=0",
        b"a" * 100,
        content_type="application/octet-stream",
    )
    clip = Clip.objects.get(pk=started["clip"]["id"])
    clip.metadata = {"container": "mov,mp4", "fps": 30}
    clip.save()
    browser = Client()
    browser.force_login(staff)

    clips = browser.get("/admin/clips/clip/?q=owner@example.com")
    detail = browser.get(f"/admin/clips/clip/{clip.pk}/change/")
    uploads = browser.get("/admin/clips/uploadsession/?status__exact=active")

    assert clips.status_code == 200
    assert "Beach" in clips.content.decode()
    assert "100\xa0bytes" in clips.content.decode()
    assert detail.status_code == 200
    assert "&quot;container&quot;: &quot;mov,mp4&quot;" in detail.content.decode()
    assert uploads.status_code == 200
    assert "100%" in uploads.content.decode()
