"""The browser pages (allauth, our templates) with CSRF checks on, as a browser sees them."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from accounts.models import User
from tests.accounts.test_discord_login import PROFILE_URL, TOKEN_URL, discord_profile
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def signed_in_email(browser: Client) -> str | None:
    response = browser.get("/api/auth/me")
    return response.json()["email"] if response.status_code == 200 else None


def test_a_person_signs_up_through_the_pages(browser: Client) -> None:
    page = browser.get("/accounts/signup/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="auth-card"' in html
    assert "/static/css/app.css" in html

    response = browser.post(
        "/accounts/signup/",
        {
            "csrfmiddlewaretoken": csrf_token(html),
            "email": "Page.Person@example.com",
            "password1": "violet-meadow-42-lantern",
            "password2": "violet-meadow-42-lantern",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email="page.person@example.com")
    assert user.check_password("violet-meadow-42-lantern")
    assert signed_in_email(browser) == "page.person@example.com"
    assert any("page.person@example.com" in message.to for message in mail.outbox)


def test_sign_up_shows_why_a_password_is_refused(browser: Client) -> None:
    html = browser.get("/accounts/signup/").content.decode()

    response = browser.post(
        "/accounts/signup/",
        {
            "csrfmiddlewaretoken": csrf_token(html),
            "email": "weak@example.com",
            "password1": "password",
            "password2": "password",
        },
    )

    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    assert not User.objects.filter(email="weak@example.com").exists()


def test_a_person_signs_in_and_out_through_the_pages(browser: Client, owner: Any) -> None:
    html = browser.get("/accounts/login/").content.decode()
    assert "Sign in" in html

    response = browser.post(
        "/accounts/login/",
        {"csrfmiddlewaretoken": csrf_token(html), "login": owner.email, "password": PASSWORD},
    )

    assert response.status_code == 302
    assert signed_in_email(browser) == owner.email

    logout_page = browser.get("/accounts/logout/")
    assert logout_page.status_code == 200
    response = browser.post(
        "/accounts/logout/", {"csrfmiddlewaretoken": csrf_token(logout_page.content.decode())}
    )
    assert response.status_code == 302
    assert signed_in_email(browser) is None


def test_a_wrong_password_is_shown_on_the_page(browser: Client, owner: Any) -> None:
    html = browser.get("/accounts/login/").content.decode()

    response = browser.post(
        "/accounts/login/",
        {"csrfmiddlewaretoken": csrf_token(html), "login": owner.email, "password": "nope"},
    )

    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert signed_in_email(browser) is None


def test_a_sign_in_without_the_csrf_token_is_refused(browser: Client, owner: Any) -> None:
    response = browser.post("/accounts/login/", {"login": owner.email, "password": PASSWORD})

    assert response.status_code == 403
    assert signed_in_email(browser) is None


def test_the_discord_button_shows_only_when_discord_is_configured(
    browser: Client, settings: Any
) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {"discord": {"APPS": []}}
    assert "Continue with Discord" not in browser.get("/accounts/login/").content.decode()

    settings.SOCIALACCOUNT_PROVIDERS = {
        "discord": {"APPS": [{"client_id": "cid", "secret": "s", "key": ""}]}
    }
    html = browser.get("/accounts/login/").content.decode()
    assert "Continue with Discord" in html
    assert 'action="/accounts/discord/login/?process=login"' in html


def test_sign_up_is_closed_when_local_registration_is_off(browser: Client, settings: Any) -> None:
    settings.LOCAL_REGISTRATION_ENABLED = False

    response = browser.get("/accounts/signup/")

    assert response.status_code == 200
    assert "Sign-up is closed" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    ["/accounts/password/reset/", "/accounts/password/reset/done/", "/accounts/confirm-email/"],
)
def test_the_other_entrance_pages_render_in_the_site_layout(browser: Client, path: str) -> None:
    response = browser.get(path)

    assert response.status_code == 200
    assert 'class="auth-card"' in response.content.decode()


# --- Discord in the browser: allauth drives the redirect, our adapter decides the linking ---


def discord_round_trip(browser: Client, profile: dict[str, Any]) -> Any:
    responses.post(TOKEN_URL, json={"access_token": "tok", "token_type": "Bearer"})
    responses.get(PROFILE_URL, json=profile)
    html = browser.get("/accounts/login/").content.decode()
    start = browser.post(
        "/accounts/discord/login/?process=login", {"csrfmiddlewaretoken": csrf_token(html)}
    )
    assert start.status_code == 302
    assert start["Location"].startswith("https://discord.com/api/oauth2/authorize")
    state = parse_qs(urlparse(start["Location"]).query)["state"][0]
    return browser.get("/accounts/discord/login/callback/", {"code": "c0de", "state": state})


@responses.activate
@pytest.mark.usefixtures("discord_app")
def test_discord_in_the_browser_creates_a_filled_in_user(browser: Client) -> None:
    response = discord_round_trip(browser, discord_profile())

    assert response.status_code == 302
    user = User.objects.get(discord_id="80351110224678912")
    assert user.email == "nelly@example.com"
    assert user.name == "Nelly Nightcore"
    assert user.avatar_url.startswith("https://cdn.discordapp.com/avatars/80351110224678912/")
    assert signed_in_email(browser) == "nelly@example.com"


@responses.activate
@pytest.mark.usefixtures("discord_app")
def test_discord_in_the_browser_links_a_verified_email(browser: Client, owner: Any) -> None:
    EmailAddress.objects.create(user=owner, email=owner.email, primary=True, verified=True)
    response = discord_round_trip(browser, discord_profile(email=owner.email, verified=True))

    assert response.status_code == 302
    assert User.objects.count() == 1
    owner.refresh_from_db()
    assert owner.discord_id == "80351110224678912"
    assert signed_in_email(browser) == owner.email


@responses.activate
@pytest.mark.usefixtures("discord_app")
def test_discord_in_the_browser_never_links_an_unverified_email(
    browser: Client, owner: Any
) -> None:
    response = discord_round_trip(browser, discord_profile(email=owner.email, verified=False))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert signed_in_email(browser) is None
    owner.refresh_from_db()
    assert owner.discord_id is None
    page = browser.get("/accounts/login/").content.decode()
    assert "Discord has not verified the address" in page
