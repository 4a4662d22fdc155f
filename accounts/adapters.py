"""allauth adapters: the browser sign-in pages follow the same rules as the API."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import redirect

from accounts import services
from accounts.signin_limits import signin_attempt_start
from common.errors import ServiceError


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return settings.LOCAL_REGISTRATION_ENABLED

    def authenticate(self, request: HttpRequest, **credentials: Any) -> Any:
        """Every password check of allauth's pages and of the API, under the sign-in limits.
        Raises SignInLimited (answered 429) when this address may not try now."""
        account = str(credentials.get("email") or credentials.get("username") or "")
        attempt = signin_attempt_start(request=request, account=account)
        user = super().authenticate(request, **credentials)
        if user is not None:
            attempt.succeeded()
        return user

    # allauth's password change, set and reset pages all end here.
    def set_password(self, user: Any, password: str) -> None:
        services.user_password_set(user=user, password=password)

    def logout(self, request: HttpRequest) -> None:
        user = getattr(request, "user", None)
        super().logout(request)
        services.auth_sockets_recheck(user=user)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # LOCAL_REGISTRATION_ENABLED switches off e-mail/password accounts only.
        return True

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """Link a new Discord login to an existing user only by a verified e-mail address
        (the rule of `services.discord_link_target`), and refuse an unverified one."""
        account = sociallogin.account
        if account.provider != services.DISCORD:
            return
        if sociallogin.is_existing:
            services.user_apply_discord_profile(user=sociallogin.user, data=account.extra_data)
            return
        if sociallogin.state.get("process") == AuthProcess.CONNECT:
            # A signed-in user attaches Discord to their own account: nothing to match.
            return
        try:
            user = services.discord_link_target(data=account.extra_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
            raise ImmediateHttpResponse(redirect("account_login")) from exc
        if user is not None:
            sociallogin.connect(request, user)
            services.user_apply_discord_profile(user=user, data=account.extra_data)

    def populate_user(
        self, request: HttpRequest, sociallogin: SocialLogin, data: dict[str, Any]
    ) -> Any:
        user = super().populate_user(request, sociallogin, data)
        account = sociallogin.account
        if account.provider == services.DISCORD:
            for field, value in services.discord_profile_fields(account.extra_data).items():
                setattr(user, field, value)
            # Only a verified address may become the account's address.
            user.email = services.discord_verified_email(account.extra_data) or ""
        return user
