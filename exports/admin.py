"""Staff view of export runs and the chunk cache: what a run is waiting for, what is cached."""

from __future__ import annotations

from django.contrib import admin

from exports.models import ExportChunk, ExportRun


@admin.register(ExportRun)
class ExportRunAdmin(admin.ModelAdmin):
    list_display = ["job", "project", "stage", "mux_attempts", "created_at", "updated_at"]
    list_filter = ["stage"]
    raw_id_fields = ["job", "project"]
    readonly_fields = ["settings", "layout", "sources", "result_key"]


@admin.register(ExportChunk)
class ExportChunkAdmin(admin.ModelAdmin):
    list_display = ["key", "project", "status", "frames", "copy", "attempts", "last_used_at"]
    list_filter = ["status", "copy"]
    raw_id_fields = ["project", "created_by"]
    readonly_fields = ["spec", "variant"]
