"""Users and authentication: registration, sign-in by password or Discord, tokens, profiles."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.models import EmailAddress
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.models import SocialAccount, SocialApp
from allauth.socialaccount.providers.discord.views import DiscordOAuth2Adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Client, OAuth2Error
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from accounts import selectors
from accounts.models import User
from accounts.signin_limits import SignInLimited
from accounts.tokens import TokenPair, token_pair_issue, token_pair_refresh, token_session_end
from common.errors import ErrorCode, ServiceError
from realtime.broadcast import credentials_check_request

DISCORD = "discord"
DISCORD_AVATAR_URL = "https://cdn.discordapp.com/avatars/{id}/{avatar}.png"
PREFERENCES_MAX_BYTES = 16 * 1024
NAME_MAX_LENGTH = User._meta.get_field("name").max_length or 255
DISCORD_NOT_SET_UP = (
    "Sign-in with Discord is not set up on this server. "
    "Sign in with your e-mail address and password instead."
)


@dataclass(frozen=True)
class SignIn:
    user: User
    tokens: TokenPair


class RegistrationClosed(ServiceError):
    code = ErrorCode.UNAUTHORIZED_ACCESS


class TooManyAttempts(ServiceError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, {"retry_after": retry_after})
        self.retry_after = retry_after


def _field_error(field: str, message: str, *, code: str | None = None) -> ServiceError:
    return ServiceError(message, {"fields": {field: [message]}}, code=code)


def _duplicate_email() -> ServiceError:
    return _field_error(
        "email",
        "An account with this e-mail address already exists. Sign in, or reset your password.",
    )


# --- E-mail and password ------------------------------------------------------------------


def user_register(*, email: str, password: str, name: str) -> SignIn:
    """Create a local account and sign it in."""
    if not settings.LOCAL_REGISTRATION_ENABLED:
        raise RegistrationClosed(
            "Creating an account with an e-mail address and password is switched off on this "
            "server. Sign in with Discord instead."
        )
    email = User.objects.normalize_email(email.strip()).lower()
    name = name.strip()
    if selectors.user_get_by_email(email=email) is not None:
        raise _duplicate_email()
    try:
        validate_password(password, user=User(email=email, name=name))
    except DjangoValidationError as exc:
        raise ServiceError(
            "Please choose another password: " + " ".join(exc.messages),
            {"fields": {"password": exc.messages}},
        ) from exc
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, name=name)
            # allauth's pages (password reset, e-mail verification) look addresses up here.
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    except IntegrityError as exc:
        # Two sign-ups with one address at the same moment: the unique index decides.
        raise _duplicate_email() from exc
    return SignIn(user=user, tokens=token_pair_issue(user=user))


def auth_login_password(*, request: HttpRequest, email: str, password: str) -> SignIn:
    """Check an e-mail address and password (under accounts.signin_limits, through allauth's
    adapter as the pages do) and sign the user in."""
    adapter = get_account_adapter(request)
    try:
        user = adapter.authenticate(request, email=email.strip().lower(), password=password)
    except SignInLimited as exc:
        raise TooManyAttempts(exc.message, retry_after=exc.retry_after) from exc
    if user is None or not user.is_active:
        raise ServiceError(
            "The e-mail address or password is not correct.", code=ErrorCode.UNAUTHORIZED_ACCESS
        )
    return SignIn(user=user, tokens=token_pair_issue(user=user))


def auth_refresh(*, refresh: str) -> TokenPair:
    """Trade a refresh token for a new pair; the old refresh token is used up."""
    pair = token_pair_refresh(refresh=refresh)
    if pair is None:
        raise ServiceError(
            "This refresh token is invalid, expired or already used. Please sign in again.",
            code=ErrorCode.UNAUTHORIZED_ACCESS,
        )
    return pair


def auth_logout(*, refresh: str) -> None:
    """End the sign-in a refresh token belongs to, with all its access tokens.

    An unknown or already dead token is not an error (as in RFC 7009): the client wants the
    token gone, and it is.
    """
    user_id = token_session_end(refresh=refresh)
    if user_id is not None:
        # Sockets opened with this sign-in's access tokens close now, not when the token expires.
        credentials_check_request(user_id=user_id)


def user_password_set(*, user: User, password: str) -> None:
    """Set a new password; every sign-in made with the old one ends (Django drops sessions whose
    password hash no longer matches), and so do the sockets opened with them."""
    with transaction.atomic():
        user.set_password(password)
        user.save()
        credentials_check_request(user_id=user.pk)


def auth_sockets_recheck(*, user: Any) -> None:
    """After a browser sign-out: the user's sockets check their credentials again."""
    if user is not None and getattr(user, "pk", None) is not None:
        credentials_check_request(user_id=user.pk)


# --- Profile -------------------------------------------------------------------------------


def user_update_profile(
    *,
    user: User,
    name: str | None = None,
    bio: str | None = None,
    preferences: dict[str, Any] | None = None,
) -> User:
    """Change the fields a user edits about themselves; None leaves a field as it is."""
    changed: list[str] = []
    if name is not None:
        user.name = name.strip()
        changed.append("name")
    if bio is not None:
        user.bio = bio
        changed.append("bio")
    if preferences is not None:
        if not isinstance(preferences, dict):
            raise _field_error("preferences", "Preferences must be a JSON object.")
        if len(json.dumps(preferences)) > PREFERENCES_MAX_BYTES:
            raise _field_error(
                "preferences",
                f"Preferences are limited to {PREFERENCES_MAX_BYTES // 1024} KB of JSON.",
            )
        user.preferences = preferences
        changed.append("preferences")
    if changed:
        user.save(update_fields=[*changed, "updated_at"])
    return user


# Told, before a user is deleted, so that what they own goes with its stored files (a plain
# cascade would leave the files behind). projects registers one: each project is deleted.
UserDeleteHook = Callable[..., None]
_delete_hooks: list[UserDeleteHook] = []


def user_delete_hook_register(hook: UserDeleteHook) -> None:
    """Called from AppConfig.ready() of an app that keeps things per user; `hook(user=)`."""
    if hook not in _delete_hooks:
        _delete_hooks.append(hook)


def user_delete(*, user: User) -> None:
    """Delete a user with everything they own, stored files included."""
    for hook in _delete_hooks:
        hook(user=user)
    user.delete()


# --- Discord -------------------------------------------------------------------------------


def _discord_error(message: str) -> ServiceError:
    return ServiceError(message, code=ErrorCode.UNAUTHORIZED_ACCESS)


def discord_profile_fields(data: dict[str, Any]) -> dict[str, str]:
    """What a Discord profile (`users/@me`) contributes to our user row."""
    avatar = data.get("avatar")
    return {
        "discord_id": str(data["id"]),
        "name": (data.get("global_name") or data.get("username") or "")[:NAME_MAX_LENGTH],
        "avatar_url": DISCORD_AVATAR_URL.format(id=data["id"], avatar=avatar) if avatar else "",
    }


def discord_verified_email(data: dict[str, Any]) -> str | None:
    email = data.get("email")
    if email and data.get("verified") is True:
        return User.objects.normalize_email(str(email)).lower()
    return None


def _email_confirmed(user: User, email: str) -> bool:
    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


def discord_link_target(*, data: dict[str, Any]) -> User | None:
    """For a Discord account not linked yet: the existing user to link it to, or None to
    create a new user. Shared by the API and the browser flow (accounts.adapters).

    Only an address Discord has verified may match an existing account: otherwise anyone
    could add a victim's address to a Discord account and sign in as them. An unverified
    address is refused outright rather than stored on a new account, since a later sign-in
    with a verified address would then link the real owner to that account.
    """
    email = discord_verified_email(data)
    if email is None:
        if data.get("email") and selectors.user_get_by_email(email=str(data["email"])):
            raise _discord_error(
                "An account with this Discord account's e-mail address already exists, but "
                "Discord has not verified the address. Sign in with your password, or verify "
                "the address on Discord and try again."
            )
        raise _discord_error(
            "Discord has not verified this account's e-mail address. Verify it in Discord's "
            "settings (or allow access to it), then sign in again."
        )
    user = selectors.user_get_by_email(email=email)
    if user is not None and user.has_usable_password() and not _email_confirmed(user, email):
        # Someone may have registered this address with a password before its owner ever
        # signed in: linking would hand the owner's Discord sign-in to that account.
        raise ServiceError(
            "An account with this e-mail address exists, but the address has not been "
            "confirmed. Sign in with your password (or confirm the address), then connect "
            "Discord from your account.",
            code=ErrorCode.CONFLICT,
        )
    if user is not None and user.discord_id and user.discord_id != str(data["id"]):
        raise ServiceError(
            "The account with this e-mail address is already linked to another Discord "
            "account. Sign in with that Discord account or with your password.",
            code=ErrorCode.CONFLICT,
        )
    return user


def user_apply_discord_profile(*, user: User, data: dict[str, Any]) -> User:
    """Record the Discord id and fill the name and avatar from Discord.

    A name the user chose is kept; the avatar follows Discord unless it was set otherwise.
    """
    fields = discord_profile_fields(data)
    changed: list[str] = []
    if user.discord_id != fields["discord_id"]:
        user.discord_id = fields["discord_id"]
        changed.append("discord_id")
    if not user.name and fields["name"]:
        user.name = fields["name"]
        changed.append("name")
    is_discord_avatar = not user.avatar_url or user.avatar_url.startswith(
        "https://cdn.discordapp.com/"
    )
    if is_discord_avatar and fields["avatar_url"] and user.avatar_url != fields["avatar_url"]:
        user.avatar_url = fields["avatar_url"]
        changed.append("avatar_url")
    if changed:
        user.save(update_fields=[*changed, "updated_at"])
    return user


def _discord_provider(request: HttpRequest) -> Any:
    try:
        provider = get_social_adapter(request).get_provider(request, DISCORD)
    except SocialApp.DoesNotExist:
        provider = None
    if provider is None or not provider.app.client_id:
        raise ServiceError(DISCORD_NOT_SET_UP, {"provider": DISCORD})
    return provider


def _discord_exchange_code(
    request: HttpRequest, *, provider: Any, code: str, redirect_uri: str
) -> str:
    adapter = DiscordOAuth2Adapter(request)
    client = OAuth2Client(
        request,
        provider.app.client_id,
        provider.app.secret,
        adapter.access_token_method,
        adapter.access_token_url,
        redirect_uri,
        scope_delimiter=adapter.scope_delimiter,
        headers=adapter.headers,
        basic_auth=adapter.basic_auth,
    )
    try:
        return adapter.parse_token(client.get_access_token(code)).token
    except OAuth2Error as exc:
        raise _discord_error(
            "Discord did not accept the sign-in code. It may have expired or been used "
            "already; please sign in with Discord again."
        ) from exc
    except requests.RequestException as exc:
        raise _discord_unreachable() from exc


def _discord_unreachable() -> ServiceError:
    return ServiceError(
        "Discord could not be reached. Please try again in a moment.",
        code=ErrorCode.SERVICE_UNAVAILABLE,
    )


def _discord_fetch_profile(access_token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {access_token}"}
    try:
        with get_social_adapter().get_requests_session() as session:
            response = session.get(DiscordOAuth2Adapter.profile_url, headers=headers)
    except requests.RequestException as exc:
        raise _discord_unreachable() from exc
    try:
        data = response.json() if response.ok else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or not data.get("id"):
        raise _discord_error(
            "Discord did not accept the access token. Please sign in with Discord again."
        )
    return data


def _discord_user_for(*, account: SocialAccount) -> User:
    uid, data = account.uid, account.extra_data
    user = selectors.user_get_by_social_account(provider=DISCORD, uid=uid)
    if user is None:
        user = discord_link_target(data=data)
        if user is None:
            email = discord_verified_email(data)
            assert email is not None  # discord_link_target refuses unverified addresses
            user = User.objects.create_user(email=email, password=None)
        EmailAddress.objects.update_or_create(
            user=user,
            email__iexact=user.email,
            defaults={"email": user.email, "verified": True, "primary": True},
        )
    if not user.is_active:
        raise _discord_error("This account has been deactivated.")
    SocialAccount.objects.update_or_create(
        provider=account.provider, uid=uid, defaults={"user": user, "extra_data": data}
    )
    return user_apply_discord_profile(user=user, data=data)


def auth_login_discord(
    *,
    request: HttpRequest,
    code: str | None = None,
    redirect_uri: str | None = None,
    access_token: str | None = None,
) -> SignIn:
    """Sign in with Discord from an authorization code (exchanged here with the configured
    app's secret) or an access token the client already holds.

    The Discord account's user is found through its link, else by a verified e-mail address
    (see `discord_link_target`), else created.
    """
    provider = _discord_provider(request)
    if code:
        if not redirect_uri:
            raise _field_error("redirect_uri", "Send the redirect_uri the code was issued for.")
        access_token = _discord_exchange_code(
            request, provider=provider, code=code, redirect_uri=redirect_uri
        )
    if not access_token:
        raise _field_error("code", "Send a Discord authorization code or access token.")
    data = _discord_fetch_profile(access_token)
    # The provider turns Discord's answer into allauth's (unsaved) SocialLogin, as in the
    # browser flow; linking follows our own rules below.
    sociallogin = provider.sociallogin_from_response(request, data)
    try:
        with transaction.atomic():
            user = _discord_user_for(account=sociallogin.account)
    except IntegrityError as exc:
        raise ServiceError(
            "Another sign-in with this Discord account happened at the same moment. "
            "Please try again.",
            code=ErrorCode.CONFLICT,
        ) from exc
    return SignIn(user=user, tokens=token_pair_issue(user=user))
