"""Backups in the admin: every run, newest first, with the state /healthz reports on top."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.http import HttpRequest

from backups.models import BackupRun
from backups.selectors import backup_status


@admin.register(BackupRun)
class BackupRunAdmin(admin.ModelAdmin):
    list_display = ["finished_at", "kind", "status", "age", "storage_key", "size", "tables"]
    list_filter = ["kind", "status"]
    readonly_fields = [
        "kind",
        "status",
        "storage_key",
        "size_bytes",
        "table_rows",
        "error",
        "started_at",
        "finished_at",
    ]
    ordering = ["-finished_at"]

    @admin.display(description="when")
    def age(self, run: BackupRun) -> str:
        return str(naturaltime(run.finished_at))

    @admin.display(description="size")
    def size(self, run: BackupRun) -> str:
        from accounts.admin import human_bytes

        return human_bytes(run.size_bytes) if run.size_bytes is not None else "–"

    @admin.display(description="tables (rows)")
    def tables(self, run: BackupRun) -> str:
        rows = run.table_rows or {}
        return f"{len(rows)} ({sum(rows.values())})" if rows else "–"

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        status = backup_status()
        summary = status.as_dict()
        title = (
            f"Backups: {summary['status']} · last backup {summary['last_backup_at'] or 'never'}"
            f" · last verification {summary['last_verification'] or 'never'}"
            f" ({summary['last_verification_at'] or '–'})"
        )
        return super().changelist_view(request, {**(extra_context or {}), "title": title})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
