"""Admin for the e-mail-login user: who they are, how they sign in, how much they store."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import services
from accounts.models import User
from accounts.signin_limits import signin_attempt_start

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's sign-in under the same limits as every other sign-in form
    (accounts.signin_limits); a refused attempt answers the 429 page."""

    def clean(self) -> dict[str, Any]:
        email, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if not email or not password:
            return super().clean()
        attempt = signin_attempt_start(request=self.request, account=email)
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            # A right password of an account that may not use the admin is no guess.
            if self.user_cache is not None:
                attempt.succeeded()
            raise
        attempt.succeeded()
        return cleaned


admin.site.login_form = AdminLoginForm


def human_bytes(size: int) -> str:
    """`1288490188` → "1.2 GB" (binary multiples, as the storage limit is set in GiB)."""
    value = float(size)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            break
        value /= 1024
    if unit == "B":
        return f"{int(value)} B"
    text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
    return f"{text.removesuffix('.0')} {unit}"


def storage_summary(user: User) -> str:
    """ "1.2 GB / 10 GB (12 %)"."""
    text = f"{human_bytes(user.storage_used)} / {human_bytes(user.storage_limit)}"
    if user.storage_limit > 0:
        text += f" ({round(user.storage_used * 100 / user.storage_limit)} %)"
    return text


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")


class UserEditForm(UserChangeForm):
    avatar_url = forms.URLField(
        label="Avatar URL", max_length=1000, required=False, assume_scheme="https"
    )

    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    ordering = ["email"]
    list_display = [
        "email",
        "name",
        "discord_id",
        "storage",
        "is_staff",
        "created_at",
        "last_login",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "created_at"]
    search_fields = ["email", "name", "discord_id"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "storage",
        "storage_used",
        "storage_reserved",
        "discord_id",
        "created_at",
        "updated_at",
        "last_login",
    ]
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        ("Profile", {"fields": ("name", "bio", "avatar_url", "preferences")}),
        ("Discord", {"fields": ("discord_id",)}),
        ("Storage", {"fields": ("storage", "storage_limit", "storage_used", "storage_reserved")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "usable_password", "password1", "password2"),
            },
        ),
    )

    @admin.display(description="Storage used", ordering="storage_used")
    def storage(self, obj: User) -> str:
        return storage_summary(obj)

    # Deleting here must also remove the user's projects' stored files, not just the rows.
    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.user_delete(user=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            services.user_delete(user=user)
