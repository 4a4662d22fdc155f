from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.admin import human_bytes, storage_summary
from accounts.models import User
from projects.models import Project

pytestmark = pytest.mark.django_db

GIB = 1024**3


@pytest.fixture
def staff_browser(staff: Any) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (512, "512 B"), (1536, "1.5 KB"), (int(1.2 * GIB), "1.2 GB"), (10 * GIB, "10 GB")],
)
def test_sizes_read_like_people_write_them(size: int, text: str) -> None:
    assert human_bytes(size) == text


def test_storage_reads_as_used_of_limit_with_a_percentage(owner: Any) -> None:
    owner.storage_used = int(1.2 * GIB)

    assert storage_summary(owner) == "1.2 GB / 10 GB (12 %)"


def test_the_user_list_shows_the_columns(
    staff_browser: Client, owner: Any, django_assert_max_num_queries: Any
) -> None:
    owner.storage_used = int(1.2 * GIB)
    owner.discord_id = "80351110224678912"
    owner.save(update_fields=["storage_used", "discord_id"])

    with django_assert_max_num_queries(12):
        response = staff_browser.get("/admin/accounts/user/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "owner@example.com" in html
    assert "Olivia Owner" in html
    assert "80351110224678912" in html
    assert "1.2 GB / 10 GB (12 %)" in html


def test_the_user_list_searches_email_name_and_discord_id(
    staff_browser: Client, owner: Any, other_user: Any
) -> None:
    other_user.discord_id = "424242"
    other_user.save(update_fields=["discord_id"])

    by_name = staff_browser.get("/admin/accounts/user/", {"q": "Olivia"}).content.decode()
    by_discord = staff_browser.get("/admin/accounts/user/", {"q": "424242"}).content.decode()

    assert "owner@example.com" in by_name and "other@example.com" not in by_name
    assert "other@example.com" in by_discord and "owner@example.com" not in by_discord


def test_the_user_list_filters(staff_browser: Client, owner: Any) -> None:
    response = staff_browser.get("/admin/accounts/user/", {"is_staff__exact": "1"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "staff@example.com" in html
    assert "owner@example.com" not in html


def test_the_change_page_renders_with_computed_fields_read_only(
    staff_browser: Client, owner: Any
) -> None:
    response = staff_browser.get(f"/admin/accounts/user/{owner.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "0 B / 10 GB (0 %)" in html
    assert 'name="storage_limit"' in html
    assert 'name="storage_used"' not in html
    assert 'name="discord_id"' not in html


def test_a_script_in_a_name_is_shown_as_text(staff_browser: Client, owner: Any) -> None:
    owner.name = "<script>alert(1)</script>"
    owner.save(update_fields=["name"])

    listing = staff_browser.get("/admin/accounts/user/").content.decode()
    change = staff_browser.get(f"/admin/accounts/user/{owner.pk}/change/").content.decode()

    for html in (listing, change):
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_staff_can_add_a_user(staff_browser: Client) -> None:
    assert staff_browser.get("/admin/accounts/user/add/").status_code == 200

    response = staff_browser.post(
        "/admin/accounts/user/add/",
        {
            "email": "added@example.com",
            "name": "Added",
            "usable_password": "true",
            "password1": "violet-meadow-42-lantern",
            "password2": "violet-meadow-42-lantern",
        },
    )

    assert response.status_code == 302
    assert User.objects.get(email="added@example.com").check_password("violet-meadow-42-lantern")


def test_deleting_a_user_in_the_admin_deletes_their_projects(
    staff_browser: Client, owner: Any
) -> None:
    Project.objects.create(owner=owner, name="Trailer")

    response = staff_browser.post(f"/admin/accounts/user/{owner.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=owner.pk).exists()
    assert not Project.objects.filter(name="Trailer").exists()


def test_people_who_are_not_staff_are_sent_to_the_admin_login(owner: Any) -> None:
    client = Client()
    client.force_login(owner)

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
