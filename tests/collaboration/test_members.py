"""Members of a shared project: listed owner first, roles changed by the owner, removed by
the owner or leaving of their own accord; projects show the caller's role and their owner."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collaboration.models import Invitation
from projects.models import ProjectMember
from tests.collaboration.conftest import Team
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def members_url(team: Team, user: Any = None) -> str:
    base = f"/api/projects/{team.project.pk}/members"
    return f"{base}/{user.pk}" if user is not None else base


def test_any_member_lists_the_members_owner_first(team: Team) -> None:
    response = team.client("viewer").get(members_url(team))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert [(m["user"]["name"], m["role"]) for m in body["results"]] == [
        ("Olivia Owner", "owner"),
        ("Viewer Member", "viewer"),
        ("Commenter Member", "commenter"),
        ("Editor Member", "editor"),
    ]
    assert body["results"][1]["user"] == {
        "id": str(team.viewer.pk),
        "name": "Viewer Member",
        "email": "viewer@example.com",
        "avatar_url": "",
    }
    # Pending invitations, and their links, are the owner's business.
    assert "invitations" not in body


def test_the_owner_also_sees_the_pending_invitations_with_their_links(team: Team) -> None:
    owner = team.client("owner")
    owner.post(
        f"/api/projects/{team.project.pk}/invitations",
        {"email": "soon@example.com", "role": "viewer"},
        format="json",
    )

    body = owner.get(members_url(team)).json()

    (invitation,) = body["invitations"]
    assert invitation["email"] == "soon@example.com"
    assert invitation["status"] == "pending"
    assert "/invitations/" in invitation["url"]


def test_listing_members_takes_the_same_queries_for_many_members(
    team: Team, make_user: Any
) -> None:
    owner = team.client("owner")
    with CaptureQueriesContext(connection) as few:
        owner.get(members_url(team))
    for number in range(10):
        user = make_user(f"extra{number}@example.com")
        ProjectMember.objects.create(project=team.project, user=user, role="viewer")
        Invitation.objects.create(
            project=team.project,
            email=f"pending{number}@example.com",
            role="viewer",
            invited_by=team.owner,
            expires_at=timezone.now() + timedelta(days=1),
        )
    with CaptureQueriesContext(connection) as many:
        body = owner.get(members_url(team)).json()

    assert body["count"] == 14
    assert len(many) == len(few)


def test_the_owner_changes_a_members_role(team: Team) -> None:
    response = team.client("owner").patch(
        members_url(team, team.viewer), {"role": "editor"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["role"] == "editor"
    assert ProjectMember.objects.get(project=team.project, user=team.viewer).role == "editor"
    # The new role takes effect at once.
    upload = client_for(team.viewer).post(
        f"/api/projects/{team.project.pk}/clips",
        {"filename": "a.mp4", "size": 10},
        format="json",
    )
    assert upload.status_code == 201


def test_the_owners_role_does_not_change_and_no_one_becomes_owner(team: Team) -> None:
    owner = team.client("owner")

    own = owner.patch(members_url(team, team.owner), {"role": "viewer"}, format="json")
    promote = owner.patch(members_url(team, team.editor), {"role": "owner"}, format="json")

    assert own.status_code == promote.status_code == 400
    assert ProjectMember.objects.get(project=team.project, user=team.editor).role == "editor"


def test_the_owner_removes_a_member_who_then_sees_nothing(team: Team) -> None:
    response = team.client("owner").delete(members_url(team, team.editor))
    editor = team.client("editor")

    assert response.status_code == 204
    assert not ProjectMember.objects.filter(project=team.project, user=team.editor).exists()
    assert editor.get(f"/api/projects/{team.project.pk}").status_code == 404
    assert editor.get("/api/projects").json()["count"] == 0


def test_a_member_leaves_but_cannot_remove_others(team: Team) -> None:
    commenter = team.client("commenter")

    others = commenter.delete(members_url(team, team.viewer))
    leaves = commenter.delete(members_url(team, team.commenter))

    assert others.status_code == 403
    assert leaves.status_code == 204
    assert list(
        ProjectMember.objects.filter(project=team.project).values_list("user__email", flat=True)
    ) == ["viewer@example.com", "editor@example.com"]


def test_the_owner_cannot_leave_their_project(team: Team) -> None:
    response = team.client("owner").delete(members_url(team, team.owner))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_projects_show_the_callers_role_and_the_owner(team: Team, make_user: Any) -> None:
    from tests.projects.factories import make_project

    own = make_project(team.editor, "Editor's own")

    listed = team.client("editor").get("/api/projects").json()["results"]
    detail = team.client("viewer").get(f"/api/projects/{team.project.pk}").json()

    assert sorted((p["name"], p["role"], p["owner"]["name"]) for p in listed) == [
        ("Editor's own", "owner", "Editor Member"),
        ("Wedding film", "editor", "Olivia Owner"),
    ]
    assert detail["role"] == "viewer"
    assert detail["owner"] == {"id": str(team.owner.pk), "name": "Olivia Owner", "avatar_url": ""}
    assert own.pk


def test_the_project_list_filters_by_role(team: Team) -> None:
    from tests.projects.factories import make_project

    make_project(team.editor, "Editor's own")
    editor = team.client("editor")

    owned = editor.get("/api/projects", {"role": "owner"}).json()["results"]
    editing = editor.get("/api/projects", {"role": "editor"}).json()["results"]
    viewing = editor.get("/api/projects", {"role": "viewer"}).json()["results"]
    bad = editor.get("/api/projects", {"role": "boss"})

    assert [p["name"] for p in owned] == ["Editor's own"]
    assert [p["name"] for p in editing] == ["Wedding film"]
    assert viewing == []
    assert bad.status_code == 400


def test_an_owned_project_is_listed_once_however_many_members_it_has(team: Team) -> None:
    body = team.client("owner").get("/api/projects").json()

    assert body["count"] == 1
    assert body["results"][0]["role"] == "owner"


def test_an_editor_changes_settings_but_only_the_owner_renames_or_deletes(team: Team) -> None:
    editor = team.client("editor")
    url = f"/api/projects/{team.project.pk}"

    settings = editor.patch(url, {"settings": {"canvas": "9:16"}}, format="json")
    rename = editor.patch(url, {"name": "Mine"}, format="json")
    delete = editor.delete(url)

    assert settings.status_code == 200
    assert settings.json()["settings"] == {"canvas": "9:16"}
    assert settings.json()["role"] == "editor"
    assert rename.status_code == delete.status_code == 403
    team.project.refresh_from_db()
    assert team.project.name == "Wedding film"
