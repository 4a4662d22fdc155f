"""Inviting by e-mail: the owner invites {email, role}, a signed link is mailed (by a Dramatiq
actor, after commit), the invitee signs in with that address and accepts once; links expire,
can be revoked, and work only for the invited address."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from collaboration.models import Invitation, Notification
from projects.models import Project, ProjectMember
from tests.collaboration.conftest import wait_for
from tests.conftest import PASSWORD, client_for

pytestmark = pytest.mark.django_db


def invite(api: Any, project: Project, email: str, role: str = "editor") -> Any:
    return api.post(
        f"/api/projects/{project.pk}/invitations", {"email": email, "role": role}, format="json"
    )


def token_of(url: str) -> str:
    match = re.search(r"/invitations/([^/]+)/$", url)
    assert match, url
    return match.group(1)


def accept(client: Any, token: str) -> Any:
    return client.post("/api/invitations/accept", {"token": token}, format="json")


@pytest.mark.django_db(transaction=True)
def test_it_emails_a_link_with_which_the_invitee_joins(
    api: Any, project: Project, owner: Any, make_user: Any, worker: Any
) -> None:
    mail.outbox.clear()

    response = invite(api, project, "New.Person@Example.com", "editor")

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new.person@example.com"
    assert body["role"] == "editor"
    assert body["status"] == "pending"
    assert body["project_id"] == str(project.pk)
    assert body["invited_by"]["id"] == str(owner.pk)
    assert body["url"].startswith(f"{settings.SITE_URL}/invitations/")
    message = wait_for(lambda: mail.outbox and mail.outbox[0], timeout=20, what="the e-mail")
    assert message.to == ["new.person@example.com"]
    assert "Wedding film" in message.subject
    assert body["url"] in message.body
    html, _ = message.alternatives[0]
    assert f'href="{body["url"]}"' in html

    invitee = make_user("new.person@example.com", name="Nina New")
    joined = accept(client_for(invitee), token_of(body["url"]))

    assert joined.status_code == 200
    assert joined.json()["role"] == "editor"
    assert joined.json()["user"] == {
        "id": str(invitee.pk),
        "name": "Nina New",
        "email": "new.person@example.com",
        "avatar_url": "",
    }
    assert ProjectMember.objects.get(project=project, user=invitee).role == "editor"
    shared = client_for(invitee).get("/api/projects").json()["results"]
    assert [(p["id"], p["role"], p["owner"]["name"]) for p in shared] == [
        (str(project.pk), "editor", "Olivia Owner")
    ]
    assert Invitation.objects.get(pk=body["id"]).status == "accepted"
    joined_note = Notification.objects.get(user=owner, kind="member_joined")
    assert "Nina New joined “Wedding film” as editor" in joined_note.message


def test_a_link_works_only_once(api: Any, project: Project, make_user: Any) -> None:
    url = invite(api, project, "once@example.com").json()["url"]
    invitee = client_for(make_user("once@example.com"))

    first = accept(invitee, token_of(url))
    second = accept(invitee, token_of(url))

    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "already been used" in second.json()["error"]["message"]
    assert ProjectMember.objects.filter(project=project).count() == 1


def test_the_owner_sees_the_same_link_as_the_e_mail_at_any_later_time(
    api: Any, project: Project, make_user: Any
) -> None:
    from django.core import signing

    created = invite(api, project, "later@example.com").json()
    time.sleep(1.1)  # signatures with a timestamp would differ from here on
    listed = api.get(f"/api/projects/{project.pk}/members").json()["invitations"]
    assert [i["url"] for i in listed if i["id"] == created["id"]] == [created["url"]]

    # A link e-mailed before links lost their timestamp still opens the invitation.
    legacy = signing.dumps(created["id"], salt="collaboration.invitation", compress=False)
    joined = accept(client_for(make_user("later@example.com")), legacy)
    assert joined.status_code == 200


def test_only_the_invited_address_may_accept(
    api: Any, project: Project, other_api: Any, make_user: Any
) -> None:
    url = invite(api, project, "invited@example.com").json()["url"]

    response = accept(other_api, token_of(url))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "UNAUTHORIZED_ACCESS"
    assert "i***@example.com" in response.json()["error"]["message"]
    assert not ProjectMember.objects.filter(project=project).exists()
    # The link still works for the right person afterwards.
    assert accept(client_for(make_user("INVITED@example.com")), token_of(url)).status_code == 200


def test_an_expired_link_is_refused(api: Any, project: Project, make_user: Any) -> None:
    body = invite(api, project, "late@example.com").json()
    Invitation.objects.filter(pk=body["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = accept(client_for(make_user("late@example.com")), token_of(body["url"]))
    members = api.get(f"/api/projects/{project.pk}/members").json()

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "expired" in response.json()["error"]["message"]
    assert [i["status"] for i in members["invitations"]] == ["expired"]
    assert not ProjectMember.objects.filter(project=project).exists()


def test_it_expires_links_after_the_configured_time(
    api: Any, project: Project, settings: Any
) -> None:
    settings.INVITATION_TTL = timedelta(hours=2)
    before = timezone.now()

    body = invite(api, project, "ttl@example.com").json()

    invitation = Invitation.objects.get(pk=body["id"])
    assert (
        before + timedelta(hours=2) <= invitation.expires_at <= timezone.now() + timedelta(hours=2)
    )


def test_a_revoked_link_stops_working(api: Any, project: Project, make_user: Any) -> None:
    body = invite(api, project, "maybe@example.com").json()

    revoked = api.delete(f"/api/projects/{project.pk}/invitations/{body['id']}")
    response = accept(client_for(make_user("maybe@example.com")), token_of(body["url"]))

    assert revoked.status_code == 204
    assert response.status_code == 400
    assert "withdrawn" in response.json()["error"]["message"]
    assert api.get(f"/api/projects/{project.pk}/members").json()["invitations"] == []
    assert not ProjectMember.objects.filter(project=project).exists()


def test_inviting_an_address_again_replaces_its_link(
    api: Any, project: Project, make_user: Any
) -> None:
    first = invite(api, project, "twice@example.com", "viewer").json()
    second = invite(api, project, "twice@example.com", "commenter").json()
    invitee = client_for(make_user("twice@example.com"))

    old = accept(invitee, token_of(first["url"]))
    new = accept(invitee, token_of(second["url"]))

    assert old.status_code == 400
    assert new.status_code == 200
    assert new.json()["role"] == "commenter"


def test_a_forged_or_damaged_token_is_refused(api: Any, project: Project, other_api: Any) -> None:
    url = invite(api, project, "other@example.com").json()["url"]
    token = token_of(url)

    damaged = accept(other_api, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    made_up = accept(other_api, "not-a-token")

    assert damaged.status_code == made_up.status_code == 400
    assert damaged.json()["error"]["code"] == "VALIDATION_ERROR"
    assert not ProjectMember.objects.filter(project=project).exists()


def test_members_and_the_owner_cannot_be_invited(
    api: Any, project: Project, make_user: Any
) -> None:
    member = make_user("member@example.com")
    ProjectMember.objects.create(project=project, user=member, role="viewer")

    again = invite(api, project, "Member@example.com")
    owner = invite(api, project, "owner@example.com")
    as_owner = invite(api, project, "someone@example.com", "owner")

    assert again.status_code == owner.status_code == 409
    assert again.json()["error"]["details"]["role"] == "viewer"
    assert as_owner.status_code == 400
    assert not Invitation.objects.filter(project=project).exists()


def test_the_invitee_lists_pending_invitations_matched_without_regard_to_case(
    api: Any, project: Project, owner: Any, make_user: Any
) -> None:
    invitee = make_user("mixed.case@example.com")
    body = invite(api, project, "Mixed.Case@EXAMPLE.com", "viewer").json()
    expired = Project.objects.create(owner=owner, name="Old one")
    old = invite(api, expired, "mixed.case@example.com").json()
    Invitation.objects.filter(pk=old["id"]).update(expires_at=timezone.now() - timedelta(days=1))

    response = client_for(invitee).get("/api/invitations")

    assert response.status_code == 200
    (item,) = response.json()["results"]
    assert item["id"] == body["id"]
    assert item["project_name"] == "Wedding film"
    assert item["invited_by"]["name"] == "Olivia Owner"
    # The link is proof of the mailbox: only the e-mail (and the owner) carry it.
    assert "url" not in item
    # A user who already has an account is also told in the app.
    notes = Notification.objects.filter(user=invitee, kind="invitation")
    assert sorted(n.data["invitation_id"] for n in notes) == sorted([old["id"], body["id"]])


def test_an_accepted_invitation_cannot_be_revoked(
    api: Any, project: Project, make_user: Any
) -> None:
    body = invite(api, project, "joined@example.com").json()
    accept(client_for(make_user("joined@example.com")), token_of(body["url"]))

    response = api.delete(f"/api/projects/{project.pk}/invitations/{body['id']}")

    assert response.status_code == 409
    assert ProjectMember.objects.filter(project=project).count() == 1


# --- the page the link opens ------------------------------------------------------------------


def test_the_link_opens_a_page_that_asks_a_visitor_to_sign_in(api: Any, project: Project) -> None:
    url = invite(api, project, "visitor@example.com").json()["url"]
    path = url.removeprefix(settings.SITE_URL)

    page = Client().get(path)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Join “Wedding film”" in html
    assert "v***@example.com" in html
    assert f"/accounts/login/?{urlencode({'next': path})}" in html
    assert "<script>" not in html and "style=" not in html
    assert "'unsafe-inline'" not in page["Content-Security-Policy"]


def test_the_invitee_joins_from_the_page(api: Any, project: Project, make_user: Any) -> None:
    make_user("pagejoin@example.com")
    url = invite(api, project, "pagejoin@example.com", "commenter").json()["url"]
    path = url.removeprefix(settings.SITE_URL)
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(email="pagejoin@example.com", password=PASSWORD)

    page = browser.get(path)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert csrf
    joined = browser.post(path, {"csrfmiddlewaretoken": csrf.group(1)})

    assert joined.status_code == 302
    assert joined["Location"] == f"/projects/{project.pk}/"
    assert ProjectMember.objects.get(project=project, user__email="pagejoin@example.com").role == (
        "commenter"
    )
    assert browser.get(joined["Location"]).status_code == 200


def test_the_page_tells_someone_signed_in_with_another_address(
    api: Any, project: Project, other_user: Any
) -> None:
    url = invite(api, project, "right@example.com").json()["url"]
    browser = Client()
    browser.force_login(other_user)

    page = browser.get(url.removeprefix(settings.SITE_URL))

    html = page.content.decode()
    assert "You are signed in as <strong>other@example.com</strong>" in html
    assert "Join the project</button>" not in html


def test_the_page_of_a_bad_link_says_so(client: Client) -> None:
    page = client.get("/invitations/nothing-here/")

    assert page.status_code == 404
    assert "This invitation link does not work" in page.content.decode()
