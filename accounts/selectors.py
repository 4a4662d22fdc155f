"""Reads of users and their linked sign-in accounts."""

from __future__ import annotations

from allauth.socialaccount.models import SocialAccount

from accounts.models import User


def user_get_by_email(*, email: str) -> User | None:
    # E-mail addresses are stored lower-cased (UserManager.create_user); match loosely anyway
    # for rows written before that rule or by hand in the admin.
    return User.objects.filter(email__iexact=email.strip()).first()


def user_get_by_social_account(*, provider: str, uid: str) -> User | None:
    """The user a provider's account is linked to: through allauth's SocialAccount first,
    then through the copy of the Discord id kept on the user row."""
    account = (
        SocialAccount.objects.select_related("user").filter(provider=provider, uid=uid).first()
    )
    if account is not None:
        return account.user
    if provider == "discord":
        return User.objects.filter(discord_id=uid).first()
    return None
