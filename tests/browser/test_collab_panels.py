"""The editor's collaboration panels in Chromium: the Share dialog (invite, copy the link, the
invitee joins, change a role), timecoded comments (a ruler marker that seeks, live on the other
person's screen, an @mention, resolve), and the version history's restore. Screenshots of each
at two sizes in light and dark, checked for overflow."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.browser.conftest import make_clip, wait_until
from tests.browser.test_sharing import PASSWORD, api_call, sign_up

SIZES = [(1440, 900), (1280, 720)]
TOAST = (
    "(text) => [...document.querySelectorAll('.toast')].some((t) => t.textContent.includes(text))"
)


def new_project(page: Any, name: str) -> str:
    page.fill("#new-project-name", name)
    page.get_by_role("button", name="New project").click()
    page.wait_for_url("**/projects/*/")
    page.wait_for_selector("#lane-video")
    return page.url.rstrip("/").split("/")[-1]


def join(page: Any, base: str, url: str, email: str, project_id: str) -> None:
    """The invitee signs up with the invited address from the link's page and joins."""
    link = base + urlsplit(url).path
    page.goto(link)
    page.get_by_role("link", name="Create an account").click()
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(link)
    page.get_by_role("button", name="Join the project").click()
    page.wait_for_url(f"**/projects/{project_id}/")


def assert_within(page: Any, selector: str) -> None:
    """The element lies inside the viewport, nothing in it scrolls sideways, and the page
    itself does not scroll sideways."""
    box = page.evaluate(
        """(selector) => {
            const el = document.querySelector(selector);
            const r = el.getBoundingClientRect();
            const wide = [el, ...el.querySelectorAll("*")].filter(
                (n) => n.scrollWidth > n.clientWidth + 1 && getComputedStyle(n).overflowX !== "visible"
                    && getComputedStyle(n).textOverflow !== "ellipsis"
                    && !n.classList.contains("visually-hidden")
                    && !["INPUT", "SELECT", "TEXTAREA"].includes(n.tagName));
            return {left: r.left, top: r.top, right: r.right, bottom: r.bottom,
                    vw: innerWidth, vh: innerHeight, wide: wide.map((n) => n.className || n.tagName),
                    page: document.documentElement.scrollWidth - innerWidth};
        }""",
        selector,
    )
    assert box["left"] >= 0 and box["top"] >= 0, box
    assert box["right"] <= box["vw"] and box["bottom"] <= box["vh"], box
    assert box["wide"] == [], box
    assert box["page"] <= 0, box


def shoot(page: Any, artifacts: Path, name: str, selector: str, *, prefix: str = "collab") -> None:
    """Screenshots at each size, light and dark, each checked for overflow."""
    for width, height in SIZES:
        for scheme in ("light", "dark"):
            page.set_viewport_size({"width": width, "height": height})
            page.emulate_media(color_scheme=scheme)
            page.wait_for_timeout(400)  # colour transitions settle
            assert_within(page, selector)
            page.screenshot(path=artifacts / f"{prefix}-{name}-{width}x{height}-{scheme}.png")
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 1440, "height": 900})


def test_the_owner_shares_from_the_editor_and_the_invitee_joins_by_the_link(
    app_server: str, browser: Any, second_page: Any, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme="light")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_server)
    owner = context.new_page()
    errors: list[str] = []
    owner.on("pageerror", lambda error: errors.append(str(error)))
    invitee = second_page
    try:
        sign_up(owner, app_server, "sara@example.com")
        project_id = new_project(owner, "Harbour documentary")

        owner.get_by_role("button", name="Share").click()
        dialog = owner.get_by_role("dialog", name="Share “Harbour documentary”")
        dialog.wait_for()
        # The owner is listed; focus starts in the e-mail field.
        dialog.locator(".share-row", has_text="sara (you)").wait_for()
        assert owner.evaluate("document.activeElement.id") == "share-email"
        owner.fill("#share-email", "tomas@example.com")
        owner.select_option("#share-role", "commenter")
        dialog.get_by_role("button", name="Invite").click()
        pending = dialog.locator("#share-invitations .share-row", has_text="tomas@example.com")
        pending.wait_for()
        assert "commenter" in pending.inner_text()
        shoot(owner, artifacts, "share-dialog", "#share-dialog")

        # Copy link puts the invitation's link on the clipboard.
        pending.get_by_role("button", name="Copy the invitation link for tomas@example.com").click()
        wait_until(owner, TOAST, arg="copied")
        url = owner.evaluate("navigator.clipboard.readText()")
        assert "/invitations/" in url, url

        # Escape closes the dialog and gives focus back to the Share button.
        owner.keyboard.press("Escape")
        wait_until(owner, "!document.getElementById('share-dialog').open")
        assert owner.evaluate("document.activeElement.id") == "open-share"

        join(invitee, app_server, url, "tomas@example.com", project_id)
        invitee.wait_for_selector("#lane-video")
        # A commenter's editor: no editing commands, the Share dialog lists people and offers
        # leaving instead of inviting.
        assert invitee.locator("#split").is_disabled()
        assert invitee.locator("#open-export").is_disabled()
        assert not invitee.locator("#add-clips").is_visible()
        invitee.get_by_role("button", name="Share").click()
        their_dialog = invitee.get_by_role("dialog", name="Share “Harbour documentary”")
        their_dialog.locator(".share-row", has_text="tomas (you)").wait_for()
        assert not invitee.locator("#share-invite").is_visible()
        assert their_dialog.get_by_role("button", name="Leave project").is_visible()
        assert (
            their_dialog.locator(".share-row", has_text="sara").locator(".badge-role").inner_text()
            == "owner"
        )
        invitee.keyboard.press("Escape")

        # The owner sees the new member (no longer pending) and makes them an editor.
        owner.get_by_role("button", name="Share").click()
        row = dialog.locator("#share-members .share-row", has_text="tomas")
        row.wait_for()
        assert dialog.locator("#share-invitations .share-row").count() == 0
        assert row.get_by_label("Role of tomas").input_value() == "commenter"
        row.get_by_label("Role of tomas").select_option("editor")
        wait_until(owner, TOAST, arg="now an editor")
        members = api_call(owner, "GET", f"/api/projects/{project_id}/members")["body"]
        assert [(m["user"]["name"], m["role"]) for m in members["results"]] == [
            ("sara", "owner"),
            ("tomas", "editor"),
        ]
        # An editor gets the editing commands; then, made a viewer, only reads comments.
        invitee.reload()
        invitee.wait_for_selector("#lane-video")
        assert invitee.locator("#split").is_enabled() and invitee.locator("#add-clips").is_visible()
        row.get_by_label("Role of tomas").select_option("viewer")
        wait_until(owner, TOAST, arg="now a viewer")
        invitee.reload()
        invitee.get_by_role("button", name="Comments").click()
        invitee.locator("#comment-readonly").wait_for()
        assert not invitee.locator("#comment-form").is_visible()
        assert invitee.locator("#split").is_disabled()
        assert errors == [] and invitee.js_errors == []
    finally:
        context.close()


def test_comments_show_on_the_ruler_arrive_live_resolve_and_history_restores(
    app_server: str, page: Any, second_page: Any, artifacts: Path, tmp_path: Path
) -> None:
    owner, member = page, second_page
    sign_up(owner, app_server, "ines@example.com")
    project_id = new_project(owner, "Quay edit")
    invitation = api_call(
        owner,
        "POST",
        f"/api/projects/{project_id}/invitations",
        {"email": "marco@example.com", "role": "commenter"},
    )["body"]
    join(member, app_server, invitation["url"], "marco@example.com", project_id)

    # Two versions of the timeline: one segment, then a second one after it.
    owner.set_input_files("#file-input", [str(make_clip(tmp_path / "quay.mp4", frequency=440))])
    owner.wait_for_selector(".clip-card[data-status=ready]", timeout=180_000)
    clip_id = api_call(owner, "GET", f"/api/projects/{project_id}/clips")["body"]["results"][0][
        "id"
    ]
    for start in (0, 3):
        created = api_call(
            owner,
            "POST",
            f"/api/projects/{project_id}/timeline/segments",
            {
                "clip_id": clip_id,
                "layer": "video",
                "start_time": start,
                "source_start": 0,
                "duration": 3,
            },
        )
        assert created["status"] == 201, created
    owner.reload()
    owner.wait_for_selector("#lane-video .segment >> nth=1")
    member.goto(f"{app_server}/projects/{project_id}/")
    member.wait_for_selector("#lane-video .segment >> nth=1")

    # The owner writes a comment at 1 s, mentioning the member.
    owner.get_by_role("button", name="Comments").click()
    owner.locator("#comment-body").wait_for()
    owner.locator("#timeline-scroll").click(position={"x": 2, "y": 2})  # the ruler, at ~0 s
    owner.keyboard.press("Home")
    owner.keyboard.press("Shift+ArrowRight")
    wait_until(owner, "document.getElementById('comment-time').value === '0:01.00'")
    owner.locator("#comment-body").click()
    owner.keyboard.type("The horizon tilts here, @")
    option = owner.get_by_role("option", name="marco")
    option.wait_for()
    owner.keyboard.press("Enter")
    owner.keyboard.type("can you check?")
    assert owner.input_value("#comment-body") == "The horizon tilts here, @marco can you check?"
    owner.get_by_role("button", name="Comment", exact=True).click()
    thread = owner.locator(".thread", has_text="The horizon tilts here")
    thread.wait_for()
    assert thread.locator(".mention").inner_text() == "@marco"
    comments = api_call(owner, "GET", f"/api/projects/{project_id}/comments")["body"]["results"]
    assert len(comments) == 1 and float(comments[0]["time"]) == 1.0
    assert len(comments[0]["mentions"]) == 1

    # Its marker sits on the ruler at 1 s; clicking it from elsewhere seeks there.
    marker = owner.get_by_role(
        "button", name="Comment at 0:01.00 by ines: The horizon tilts here, @marco can you check?"
    )
    marker.wait_for()
    owner.evaluate("document.activeElement.blur()")
    owner.keyboard.press("End")
    wait_until(owner, "document.getElementById('time-now').textContent !== '0:01.00'")
    marker.click()
    wait_until(owner, "document.getElementById('time-now').textContent === '0:01.00'")
    playhead_x = owner.evaluate("document.getElementById('playhead').getBoundingClientRect().left")
    marker_box = marker.bounding_box()
    assert abs(marker_box["x"] + marker_box["width"] / 2 - playhead_x) < 4

    # The member's editor hears it live: the thread and the marker appear, and the mention
    # lights their bell.
    member.get_by_role("button", name="Comments").click()
    member.locator(".thread", has_text="The horizon tilts here").wait_for(timeout=10_000)
    member.locator(".comment-marker").wait_for()
    wait_until(member, "document.querySelector('.bell-count').textContent !== '0'")
    # A commenter replies (no Resolve for them); the reply reaches the owner live too.
    member_thread = member.locator(".thread", has_text="The horizon tilts here")
    assert member_thread.get_by_role("button", name="Resolve the comment by ines").count() == 0
    member_thread.get_by_role("button", name="Reply to ines").click()
    member.keyboard.type("Fixed in the next cut.")
    member_thread.get_by_role("button", name="Reply", exact=True).click()
    thread.locator(".replies", has_text="Fixed in the next cut.").wait_for(timeout=10_000)
    shoot(owner, artifacts, "comments-panel", "#side-panel")

    # Resolving hides the thread from the open ones (and its marker), on both screens.
    thread.get_by_role("button", name="Resolve the comment by ines").click()
    wait_until(owner, "!document.querySelector('#thread-list .thread')")
    assert owner.locator(".comment-marker").count() == 0
    wait_until(member, "!document.querySelector('#thread-list .thread')")
    owner.get_by_label("Show resolved").check()
    owner.locator(".thread.is-resolved", has_text="The horizon tilts here").wait_for()

    # History: the versions, newest first; restoring version 1 brings the one-segment
    # timeline back as a new version.
    owner.get_by_role("tab", name="History").click()
    owner.locator(".history-item").nth(1).wait_for()
    versions = owner.locator(".history-item").evaluate_all(
        "(items) => items.map((i) => Number(i.dataset.version))"
    )
    assert versions == sorted(versions, reverse=True) and len(versions) >= 2
    assert "ines" in owner.locator(".history-item").first.inner_text()
    shoot(owner, artifacts, "history", "#side-panel")
    # The version before the second segment was added.
    older = versions[1]
    owner.get_by_role("button", name=f"Restore version {older}").click()
    wait_until(owner, "document.querySelectorAll('#lane-video .segment').length === 1")
    owner.locator(".history-item.is-current", has_text=f"restored version {older}").wait_for()
    timeline = api_call(owner, "GET", f"/api/projects/{project_id}/timeline")["body"]
    assert [(s["start_time"], s["duration"]) for s in timeline["segments"]] == [(0, 3)]
    assert timeline["version"] == versions[0] + 1
    # The member's editor follows to the restored timeline; a commenter is offered no restore.
    wait_until(
        member, "document.querySelectorAll('#lane-video .segment').length === 1", timeout=15_000
    )
    member.get_by_role("button", name="History").click()
    member.locator(".history-item").first.wait_for()
    assert member.locator(".history-restore").count() == 0
    assert owner.js_errors == [] and member.js_errors == []
