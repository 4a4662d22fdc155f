"""Sign-in with Discord through the API. Only Discord's HTTP endpoints are faked."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from rest_framework.test import APIClient

from accounts.authentication import user_for_access_token
from accounts.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("discord_app")]

TOKEN_URL = "https://discord.com/api/oauth2/token"
PROFILE_URL = "https://discord.com/api/users/@me"
REDIRECT_URI = "https://app.example.com/auth/discord/callback"


def discord_profile(**overrides: Any) -> dict[str, Any]:
    profile = {
        "id": "80351110224678912",
        "username": "nelly",
        "global_name": "Nelly Nightcore",
        "discriminator": "0",
        "avatar": "8342729096ea3675442027381ff50dfe",
        "email": "nelly@example.com",
        "verified": True,
    }
    profile.update(overrides)
    return profile


def fake_discord(profile: dict[str, Any], *, token_status: int = 200) -> None:
    if token_status == 200:
        token_body = {
            "access_token": "discord-access-token",
            "token_type": "Bearer",
            "expires_in": 604800,
            "refresh_token": "discord-refresh-token",
            "scope": "identify email",
        }
    else:
        token_body = {"error": "invalid_grant", "error_description": "Invalid code."}
    responses.post(TOKEN_URL, json=token_body, status=token_status)
    responses.get(PROFILE_URL, json=profile)


def login_with_code(client: APIClient, code: str = "discord-code") -> Any:
    return client.post(
        "/api/auth/login",
        {"provider": "discord", "code": code, "redirect_uri": REDIRECT_URI},
        format="json",
    )


@responses.activate
def test_a_code_creates_a_new_user(anon_api: APIClient, discord_app: dict[str, str]) -> None:
    fake_discord(discord_profile())

    response = login_with_code(anon_api)

    assert response.status_code == 200, response.content
    body = response.json()
    user = User.objects.get(discord_id="80351110224678912")
    assert body["user"]["id"] == str(user.id)
    assert user.email == "nelly@example.com"
    assert user.name == "Nelly Nightcore"
    assert user.avatar_url == (
        "https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png"
    )
    assert not user.has_usable_password()
    assert body["user"]["avatar_url"] == user.avatar_url
    assert body["user"]["discord_id"] == "80351110224678912"
    assert user_for_access_token(body["access"]) == user
    assert SocialAccount.objects.get(provider="discord", uid="80351110224678912").user == user
    assert EmailAddress.objects.get(user=user).verified
    # Our server, not the client, holds the secret and swaps the code for a token.
    sent = parse_qs(responses.calls[0].request.body)
    assert sent["code"] == ["discord-code"]
    assert sent["redirect_uri"] == [REDIRECT_URI]
    assert sent["client_id"] == [discord_app["client_id"]]
    assert sent["client_secret"] == [discord_app["secret"]]
    assert sent["grant_type"] == ["authorization_code"]
    assert responses.calls[1].request.headers["Authorization"] == "Bearer discord-access-token"


@responses.activate
def test_an_access_token_signs_in_without_a_code_exchange(anon_api: APIClient) -> None:
    responses.get(PROFILE_URL, json=discord_profile(global_name=None, avatar=None))

    response = anon_api.post(
        "/api/auth/login",
        {"provider": "discord", "access_token": "token-from-the-client"},
        format="json",
    )

    assert response.status_code == 200, response.content
    user = User.objects.get(discord_id="80351110224678912")
    assert user.name == "nelly"
    assert user.avatar_url == ""
    assert len(responses.calls) == 1
    assert responses.calls[0].request.headers["Authorization"] == "Bearer token-from-the-client"


@responses.activate
def test_a_linked_discord_account_signs_in_its_user(anon_api: APIClient) -> None:
    fake_discord(discord_profile())
    first = login_with_code(anon_api).json()["user"]
    user = User.objects.get(id=first["id"])
    user.name = "Chosen Name"
    user.save(update_fields=["name"])
    # The Discord account later changes its e-mail address and avatar.
    responses.get(
        PROFILE_URL, json=discord_profile(email="elsewhere@example.com", avatar="newhash")
    )

    response = anon_api.post(
        "/api/auth/login", {"provider": "discord", "access_token": "t"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["user"]["id"] == first["id"]
    assert User.objects.count() == 1
    user.refresh_from_db()
    assert user.email == "nelly@example.com"
    assert user.name == "Chosen Name"
    assert user.avatar_url.endswith("/newhash.png")


@responses.activate
def test_a_verified_email_links_to_the_existing_account(anon_api: APIClient, owner: Any) -> None:
    EmailAddress.objects.create(user=owner, email=owner.email, primary=True, verified=True)
    fake_discord(discord_profile(email="Owner@Example.com", verified=True))

    response = login_with_code(anon_api)

    assert response.status_code == 200
    assert response.json()["user"]["id"] == str(owner.id)
    assert User.objects.count() == 1
    owner.refresh_from_db()
    assert owner.discord_id == "80351110224678912"
    assert owner.name == "Olivia Owner"
    assert owner.avatar_url.startswith("https://cdn.discordapp.com/avatars/80351110224678912/")
    assert SocialAccount.objects.get(uid="80351110224678912").user == owner


@responses.activate
def test_it_refuses_to_link_to_a_password_account_whose_address_was_never_confirmed(
    anon_api: APIClient, owner: Any
) -> None:
    # Someone registered the address with a password first; the real owner now arrives with
    # a Discord-verified address. Linking would let the first registrant into their sign-in.
    fake_discord(discord_profile(email="owner@example.com", verified=True))

    response = login_with_code(anon_api)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"
    owner.refresh_from_db()
    assert owner.discord_id is None
    assert not SocialAccount.objects.filter(uid="80351110224678912").exists()


@responses.activate
def test_an_unverified_email_never_links_to_an_existing_account(
    anon_api: APIClient, owner: Any
) -> None:
    fake_discord(discord_profile(email="owner@example.com", verified=False))

    response = login_with_code(anon_api)

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "UNAUTHORIZED_ACCESS"
    assert "not verified" in error["message"]
    assert "access" not in response.json()
    owner.refresh_from_db()
    assert owner.discord_id is None
    assert not SocialAccount.objects.exists()
    assert User.objects.count() == 1


@responses.activate
def test_an_unverified_email_does_not_create_an_account(anon_api: APIClient) -> None:
    fake_discord(discord_profile(verified=False))

    response = login_with_code(anon_api)

    assert response.status_code == 401
    assert "Verify it in Discord" in response.json()["error"]["message"]
    assert not User.objects.exists()


@responses.activate
def test_a_discord_account_without_email_access_is_refused(anon_api: APIClient) -> None:
    profile = discord_profile()
    del profile["email"], profile["verified"]
    fake_discord(profile)

    response = login_with_code(anon_api)

    assert response.status_code == 401
    assert not User.objects.exists()


@responses.activate
def test_an_account_linked_to_another_discord_account_is_not_taken_over(
    anon_api: APIClient, owner: Any
) -> None:
    owner.discord_id = "111"
    owner.save(update_fields=["discord_id"])
    fake_discord(discord_profile(email="owner@example.com"))

    response = login_with_code(anon_api)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"
    owner.refresh_from_db()
    assert owner.discord_id == "111"


@responses.activate
def test_a_refused_code_is_a_401_with_a_plain_message(anon_api: APIClient) -> None:
    fake_discord(discord_profile(), token_status=400)

    response = login_with_code(anon_api, code="expired-code")

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "UNAUTHORIZED_ACCESS",
            "message": "Discord did not accept the sign-in code. It may have expired or been "
            "used already; please sign in with Discord again.",
            "details": {},
        }
    }
    assert not User.objects.exists()


@responses.activate
def test_a_refused_access_token_is_a_401(anon_api: APIClient) -> None:
    responses.get(PROFILE_URL, json={"message": "401: Unauthorized", "code": 0}, status=401)

    response = anon_api.post(
        "/api/auth/login", {"provider": "discord", "access_token": "revoked"}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["error"]["message"] == (
        "Discord did not accept the access token. Please sign in with Discord again."
    )


@responses.activate
def test_discord_being_down_is_a_503(anon_api: APIClient) -> None:
    responses.get(PROFILE_URL, body=requests.ConnectionError("connection refused"))

    response = anon_api.post(
        "/api/auth/login", {"provider": "discord", "access_token": "t"}, format="json"
    )

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


def test_a_code_needs_its_redirect_uri(anon_api: APIClient) -> None:
    response = anon_api.post("/api/auth/login", {"provider": "discord", "code": "c"}, format="json")

    assert response.status_code == 400
    assert "redirect_uri" in response.json()["error"]["details"]["fields"]


@responses.activate
def test_discord_sign_in_works_while_local_registration_is_off(
    anon_api: APIClient, settings: Any
) -> None:
    settings.LOCAL_REGISTRATION_ENABLED = False
    fake_discord(discord_profile())

    response = login_with_code(anon_api)

    assert response.status_code == 200
    assert User.objects.filter(discord_id="80351110224678912").exists()


def test_it_says_so_when_discord_is_not_configured(anon_api: APIClient, settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {"discord": {"APPS": []}}

    response = anon_api.post(
        "/api/auth/login", {"provider": "discord", "access_token": "t"}, format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "not set up" in error["message"]


@responses.activate
def test_a_deactivated_account_cannot_sign_in_with_discord(anon_api: APIClient, owner: Any) -> None:
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    EmailAddress.objects.create(user=owner, email=owner.email, primary=True, verified=True)
    fake_discord(discord_profile(email=owner.email, verified=True))

    response = login_with_code(anon_api)

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "This account has been deactivated."
    assert not SocialAccount.objects.exists()
