"""Timecoded comments: threads, resolving (editor+), editing (the author), deleting (the
author or the owner), @mentions of members, and the live `comment` message."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tokens import token_pair_issue
from collaboration.models import Comment, Notification
from config.asgi import application
from tests.collaboration.conftest import Team, wait_for
from tests.projects.factories import make_clip, make_project
from timeline.models import TimelineSegment

pytestmark = pytest.mark.django_db


def comments_url(team: Team) -> str:
    return f"/api/projects/{team.project.pk}/comments"


def post(team: Team, who: str, **body: Any) -> Any:
    return team.client(who).post(comments_url(team), body, format="json")


def test_a_commenter_comments_at_a_time_of_the_timeline(team: Team) -> None:
    response = post(team, "commenter", body="  The cut at 12 s is abrupt.  ", time=12.3456)

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "project_id": str(team.project.pk),
        "author": {"id": str(team.commenter.pk), "name": "Commenter Member", "avatar_url": ""},
        "body": "The cut at 12 s is abrupt.",
        "time": 12.346,
        "segment_id": None,
        "parent_id": None,
        "resolved": False,
        "mentions": [],
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert Comment.objects.get(pk=body["id"]).time == Decimal("12.346")


def test_a_viewer_reads_comments_but_cannot_write_them(team: Team) -> None:
    post(team, "commenter", body="First")

    listed = team.client("viewer").get(comments_url(team))
    written = post(team, "viewer", body="Me too")

    assert [c["body"] for c in listed.json()["results"]] == ["First"]
    assert written.status_code == 403
    assert written.json()["error"]["code"] == "UNAUTHORIZED_ACCESS"
    assert Comment.objects.count() == 1


def test_replies_form_one_thread_listed_oldest_first(team: Team) -> None:
    first = post(team, "commenter", body="Too dark here", time=3).json()
    reply = post(team, "editor", body="Brightened it", parent_id=first["id"]).json()
    reply_to_reply = post(team, "owner", body="Looks right now", parent_id=reply["id"]).json()

    listed = team.client("viewer").get(comments_url(team)).json()["results"]

    assert [(c["body"], c["parent_id"]) for c in listed] == [
        ("Too dark here", None),
        ("Brightened it", first["id"]),
        # A reply to a reply joins the same thread.
        ("Looks right now", first["id"]),
    ]
    assert reply_to_reply["parent_id"] == first["id"]


def test_a_comment_on_a_segment_takes_its_start_time(team: Team) -> None:
    clip = make_clip(team.project)
    segment = TimelineSegment.objects.create(
        project=team.project, clip=clip, start_time=Decimal("4.5"), duration=Decimal("2")
    )
    other = TimelineSegment.objects.create(
        project=make_project(team.owner, "Another"),
        clip=clip,
        start_time=Decimal("0"),
        duration=Decimal("1"),
    )

    on_segment = post(team, "commenter", body="Nice shot", segment_id=str(segment.pk))
    elsewhere = post(team, "commenter", body="?", segment_id=str(other.pk))

    assert on_segment.status_code == 201
    assert on_segment.json()["segment_id"] == str(segment.pk)
    assert on_segment.json()["time"] == 4.5
    assert elsewhere.status_code == 400
    assert elsewhere.json()["error"]["details"]["field"] == "segment_id"


def test_an_editor_resolves_a_thread_and_a_commenter_cannot(team: Team) -> None:
    thread = post(team, "commenter", body="Fix the audio").json()
    reply = post(team, "editor", body="Done", parent_id=thread["id"]).json()
    url = f"/api/comments/{thread['id']}"

    by_commenter = team.client("commenter").patch(url, {"resolved": True}, format="json")
    by_editor = team.client("editor").patch(url, {"resolved": True}, format="json")
    a_reply = team.client("editor").patch(
        f"/api/comments/{reply['id']}", {"resolved": True}, format="json"
    )

    assert by_commenter.status_code == 403
    assert by_editor.status_code == 200
    assert by_editor.json()["resolved"] is True
    assert a_reply.status_code == 400
    stored = Comment.objects.get(pk=thread["id"])
    assert stored.resolved and stored.resolved_by == team.editor


def test_the_list_filters_whole_threads_by_resolved(team: Team) -> None:
    done = post(team, "commenter", body="Done thread").json()
    post(team, "editor", body="Reply in done thread", parent_id=done["id"])
    post(team, "commenter", body="Open thread")
    team.client("editor").patch(f"/api/comments/{done['id']}", {"resolved": True}, format="json")
    viewer = team.client("viewer")

    resolved = viewer.get(comments_url(team), {"resolved": "true"}).json()["results"]
    open_ = viewer.get(comments_url(team), {"resolved": "false"}).json()["results"]

    assert [c["body"] for c in resolved] == ["Done thread", "Reply in done thread"]
    assert [c["body"] for c in open_] == ["Open thread"]


def test_only_the_author_edits_the_body(team: Team) -> None:
    comment = post(team, "commenter", body="Typo hree").json()
    url = f"/api/comments/{comment['id']}"

    by_author = team.client("commenter").patch(url, {"body": "Typo here"}, format="json")
    by_owner = team.client("owner").patch(url, {"body": "Rewritten"}, format="json")
    emptied = team.client("commenter").patch(url, {"body": "   "}, format="json")

    assert by_author.status_code == 200
    assert by_author.json()["body"] == "Typo here"
    assert by_owner.status_code == 403
    assert emptied.status_code == 400
    assert Comment.objects.get(pk=comment["id"]).body == "Typo here"


def test_the_author_or_the_owner_deletes_a_comment_with_its_replies(team: Team) -> None:
    mine = post(team, "commenter", body="Mine").json()
    post(team, "editor", body="Reply", parent_id=mine["id"])
    theirs = post(team, "editor", body="Theirs").json()
    editor_note = post(team, "editor", body="Editor's note").json()

    not_author = team.client("commenter").delete(f"/api/comments/{theirs['id']}")
    author = team.client("commenter").delete(f"/api/comments/{mine['id']}")
    owner = team.client("owner").delete(f"/api/comments/{editor_note['id']}")

    assert not_author.status_code == 403
    assert author.status_code == owner.status_code == 204
    assert list(Comment.objects.values_list("body", flat=True)) == ["Theirs"]


def test_only_members_can_be_mentioned(team: Team, other_user: Any) -> None:
    response = post(
        team, "commenter", body="@Oscar look", mentions=[str(team.editor.pk), str(other_user.pk)]
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"]["not_members"] == [str(other_user.pk)]
    assert not Comment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_mention_notifies_the_member_and_emails_them(team: Team, worker: Any) -> None:
    mail.outbox.clear()

    response = post(
        team,
        "commenter",
        body="@Editor can you tighten this?",
        time=8,
        mentions=[str(team.editor.pk), str(team.commenter.pk)],
    )

    assert response.status_code == 201
    assert response.json()["mentions"] == sorted([str(team.editor.pk), str(team.commenter.pk)])
    mention = Notification.objects.get(user=team.editor)
    assert mention.kind == "mention"
    assert mention.project_id == team.project.pk
    assert mention.data["comment_id"] == response.json()["id"]
    assert mention.data["time"] == 8.0
    assert "Commenter Member mentioned you in “Wedding film”" in mention.message
    # The author is never notified of their own comment; the owner hears of the new thread.
    assert not Notification.objects.filter(user=team.commenter).exists()
    assert Notification.objects.get(user=team.owner).kind == "comment"
    message = wait_for(lambda: mail.outbox and mail.outbox[0], timeout=20, what="the e-mail")
    assert message.to == ["editor@example.com"]
    assert "You were mentioned in “Wedding film”" in message.subject
    assert f"/projects/{team.project.pk}/" in message.body
    assert "can you tighten this?" in message.body
    assert len(mail.outbox) == 1  # the owner's `comment` is in-app only


def test_a_reply_notifies_the_threads_participants(team: Team) -> None:
    thread = post(team, "commenter", body="Music too loud").json()
    post(team, "editor", body="Lowered it", parent_id=thread["id"])
    Notification.objects.all().delete()

    post(team, "owner", body="Thanks both", parent_id=thread["id"])

    notified = Notification.objects.filter(kind="comment").values_list("user__email", flat=True)
    assert sorted(notified) == ["commenter@example.com", "editor@example.com"]


def test_listing_comments_takes_the_same_queries_however_many(team: Team) -> None:
    viewer = team.client("viewer")
    post(team, "commenter", body="One", mentions=[str(team.editor.pk)])
    with CaptureQueriesContext(connection) as few:
        viewer.get(comments_url(team))
    for number in range(10):
        post(team, "editor", body=f"More {number}", mentions=[str(team.owner.pk)])
    with CaptureQueriesContext(connection) as many:
        body = viewer.get(comments_url(team)).json()

    assert body["count"] == 11
    assert len(many) == len(few)


@pytest.mark.django_db(transaction=True)
def test_a_new_comment_reaches_everyone_watching_the_project(team: Team) -> None:
    path = f"/ws/projects/{team.project.pk}/?token={token_pair_issue(user=team.viewer).access}"
    communicator = WebsocketCommunicator(
        application,
        path,
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")],
    )
    received: dict[str, Any] = {}

    async def body() -> None:
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        assert (await communicator.receive_json_from(timeout=5))["type"] == "presence"
        response = await database_sync_to_async(post)(team, "commenter", body="Live!", time=1)
        received["response"] = response.json()
        received["message"] = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()

    async_to_sync(body)()

    assert received["message"] == {"type": "comment", "comment": received["response"]}
