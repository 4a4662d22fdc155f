from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q


def default_storage_limit() -> int:
    return settings.DEFAULT_STORAGE_LIMIT


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address or Discord."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("e-mail address", unique=True)
    name = models.CharField(max_length=255, blank=True)
    discord_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    avatar_url = models.URLField(max_length=1000, blank=True)
    bio = models.TextField(blank=True)
    preferences = models.JSONField(default=dict, blank=True)
    storage_used = models.BigIntegerField(default=0, help_text="Bytes of stored clips.")
    # Bytes promised to uploads in progress, so parallel uploads cannot overshoot the limit.
    storage_reserved = models.BigIntegerField(default=0)
    storage_limit = models.BigIntegerField(default=default_storage_limit)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]

    class Meta:
        db_table = "users"
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=Q(storage_used__gte=0), name="user_storage_used_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(storage_reserved__gte=0), name="user_storage_reserved_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(storage_limit__gte=0), name="user_storage_limit_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]

    @property
    def storage_available(self) -> int:
        return max(0, self.storage_limit - self.storage_used - self.storage_reserved)


class SpentRefreshToken(models.Model):
    """A refresh token that has been traded in, kept until it would have expired anyway.

    A second use of one is a replay (the token leaked, or a client misbehaves): the whole
    sign-in it belongs to is ended, as the OAuth 2.0 Security BCP asks for rotated tokens.
    """

    token_sha256 = models.CharField(max_length=64, primary_key=True)
    # The sign-in (Django session) the token belonged to: its "family".
    session_key = models.CharField(max_length=40, blank=True)
    spent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The nightly clean-up: DELETE ... WHERE spent_at < now() - refresh lifetime.
        indexes = [models.Index(fields=["spent_at"], name="spent_refresh_spent_at_idx")]

    def __str__(self) -> str:
        return f"refresh token {self.token_sha256[:12]}… spent {self.spent_at:%Y-%m-%d %H:%M}"
