from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.test import Client

from projects.models import Project
from tests.projects.factories import make_clip, make_project
from timeline.models import TimelineSegment

SCRIPT = "<script>alert(1)</script>"


def staff_client(staff: Any) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def test_it_lists_projects_for_staff_with_names_escaped(staff: Any, owner: Any) -> None:
    make_project(owner, SCRIPT)

    response = staff_client(staff).get("/admin/projects/project/", {"q": "alert"})

    assert response.status_code == 200
    html = response.content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert owner.email in html


def test_it_filters_and_searches_projects_by_owner_email(staff: Any, owner: Any) -> None:
    make_project(owner, "Archived one", status=Project.Status.ARCHIVED)

    client = staff_client(staff)
    by_status = client.get("/admin/projects/project/", {"status__exact": "archived"})
    by_email = client.get("/admin/projects/project/", {"q": owner.email})

    assert "Archived one" in by_status.content.decode()
    assert "Archived one" in by_email.content.decode()


def test_it_shows_a_project_with_its_segments_read_only(staff: Any, owner: Any) -> None:
    project = make_project(owner, SCRIPT)
    clip = make_clip(project, SCRIPT)
    TimelineSegment.objects.create(
        project=project, clip=clip, name=SCRIPT, start_time=Decimal(1), duration=Decimal(2)
    )

    response = staff_client(staff).get(f"/admin/projects/project/{project.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert SCRIPT not in html
    assert "segments-TOTAL_FORMS" in html
    assert 'name="segments-0-start_time"' not in html


def test_it_lists_segments_for_staff_with_names_escaped(staff: Any, owner: Any) -> None:
    project = make_project(owner, SCRIPT)
    clip = make_clip(project, SCRIPT)
    TimelineSegment.objects.create(
        project=project, clip=clip, start_time=Decimal(0), duration=Decimal(2), layer="audio"
    )

    response = staff_client(staff).get(
        "/admin/timeline/timelinesegment/", {"layer__exact": "audio"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;" in html


def test_it_keeps_non_staff_out_of_the_admin(owner: Any) -> None:
    client = Client()
    client.force_login(owner)

    response = client.get("/admin/projects/project/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_it_frees_storage_when_staff_delete_a_project(
    staff: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from accounts.models import User
    from clips.storage import clip_original_key

    project = make_project(owner)
    clip = make_clip(project, file_size=2_000)
    key = default_storage.save(clip_original_key(clip.id), ContentFile(b"video"))
    User.objects.filter(pk=owner.pk).update(storage_used=2_000)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client(staff).post(
            f"/admin/projects/project/{project.pk}/delete/", {"post": "yes"}
        )

    assert response.status_code == 302
    assert not Project.objects.filter(pk=project.pk).exists()
    owner.refresh_from_db()
    assert owner.storage_used == 0
    assert not default_storage.exists(key)
