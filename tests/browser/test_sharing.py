"""Sharing through the pages: an owner invites by e-mail, the invitee signs up and joins from
the link's page, the dashboard shows the shared project with its owner and role, and the
owner's bell lights up live and empties once opened."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tests.browser.conftest import wait_until

PASSWORD = "a long and secret passphrase 7"


def sign_up(page: Any, base: str, email: str) -> None:
    page.goto(base + "/accounts/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(base + "/")


def api_call(page: Any, method: str, path: str, body: Any = None) -> Any:
    """A request from the page itself: its session cookie and CSRF token, as the app's
    scripts make them."""
    return page.evaluate(
        """async ([method, path, body]) => {
            const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const response = await fetch(path, {
                method, credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
                body: body === null ? undefined : JSON.stringify(body),
            });
            return {status: response.status, body: await response.json()};
        }""",
        [method, path, body],
    )


def test_an_invitee_joins_from_the_link_and_the_owners_bell_says_so(
    app_server: str, page: Any, second_page: Any, artifacts: Any
) -> None:
    owner, invitee = page, second_page

    sign_up(owner, app_server, "olivia@example.com")
    owner.fill("#new-project-name", "Wedding film")
    owner.get_by_role("button", name="New project").click()
    owner.wait_for_url("**/projects/*/")
    project_id = owner.url.rstrip("/").split("/")[-1]
    invitation = api_call(
        owner,
        "POST",
        f"/api/projects/{project_id}/invitations",
        {"email": "nina@example.com", "role": "editor"},
    )
    assert invitation["status"] == 201, invitation
    owner.goto(app_server + "/")
    owner.wait_for_selector(".project-card")
    wait_until(owner, "document.querySelector('.bell-count').hidden === true")

    # The invitee opens the link (its address is the configured SITE_URL; here the test
    # server's), signs up with the invited address and joins.
    link = app_server + urlsplit(invitation["body"]["url"]).path
    invitee.goto(link)
    assert invitee.get_by_role("heading", name="Join “Wedding film”").is_visible()
    invitee.get_by_role("link", name="Create an account").click()
    invitee.fill("input[name=email]", "nina@example.com")
    invitee.fill("input[name=password1]", PASSWORD)
    invitee.fill("input[name=password2]", PASSWORD)
    invitee.get_by_role("button", name="Create account").click()
    invitee.wait_for_url(link)
    invitee.screenshot(path=artifacts / "sharing-01-invitation.png")
    invitee.get_by_role("button", name="Join the project").click()
    invitee.wait_for_url(f"**/projects/{project_id}/")

    invitee.goto(app_server + "/")
    card = invitee.locator(".project-card", has_text="Wedding film")
    card.wait_for()
    assert card.locator(".badge-role").inner_text() == "editor"
    assert card.locator(".shared-by").inner_text() == "Shared by olivia"
    assert card.get_by_role("button", name="Delete Wedding film").count() == 0
    invitee.screenshot(path=artifacts / "sharing-02-shared-dashboard.png")

    # The owner's page hears of it live: the bell counts one, and opening it reads it.
    wait_until(owner, "document.querySelector('.bell-count').textContent === '1'")
    owner.get_by_role("button", name="Notifications, 1 unread").click()
    item = owner.locator(".bell-item", has_text="nina joined “Wedding film” as editor")
    item.wait_for()
    owner.screenshot(path=artifacts / "sharing-03-bell.png")
    wait_until(owner, "document.querySelector('.bell-count').hidden === true")
    unread = api_call(owner, "GET", "/api/notifications?unread=true")
    assert unread["body"]["count"] == 0
    assert owner.js_errors == [] and invitee.js_errors == []
