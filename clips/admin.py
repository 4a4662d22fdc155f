from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html

from clips.media_links import media_link
from clips.models import Clip, UploadSession


@admin.register(Clip)
class ClipAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "project",
        "owner",
        "status",
        "human_file_size",
        "duration",
        "resolution",
        "created_at",
    ]
    list_filter = ["status", "created_at"]
    search_fields = ["name", "original_filename", "owner__email"]
    list_select_related = ["project", "owner"]
    raw_id_fields = ["project", "owner"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "poster",
        "pretty_metadata",
        "file_path",
        "file_size",
        "sha256",
        "duration",
        "resolution",
        "thumbnail_path",
        "filmstrip_path",
        "waveform_path",
        "proxy_path",
        "created_at",
        "updated_at",
    ]
    exclude = ["metadata"]

    @admin.display(description="size", ordering="file_size")
    def human_file_size(self, clip: Clip) -> str:
        return filesizeformat(clip.file_size) if clip.file_size is not None else "—"

    @admin.display(description="metadata")
    def pretty_metadata(self, clip: Clip) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(clip.metadata, indent=2, sort_keys=True, default=str)
        )

    @admin.display(description="poster")
    def poster(self, clip: Clip) -> str:
        if not clip.thumbnail_path:
            return "—"
        # Staff see every clip: a short-lived link, like everyone else's.
        url = media_link(clip.thumbnail_path)
        return format_html('<img src="{}" alt="" style="max-width: 320px">', url)


@admin.register(UploadSession)
class UploadSessionAdmin(admin.ModelAdmin):
    list_display = ["filename", "owner", "status", "human_size", "progress", "expires_at"]
    list_filter = ["status"]
    search_fields = ["filename", "owner__email"]
    list_select_related = ["owner"]
    raw_id_fields = ["clip", "owner"]
    readonly_fields = ["id", "storage_key", "multipart_upload_id", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[UploadSession]:
        return (
            super()
            .get_queryset(request)
            .annotate(received_chunks=Count("chunks"), received_bytes=Sum("chunks__size"))
        )

    @admin.display(description="size", ordering="size")
    def human_size(self, upload: UploadSession) -> str:
        return filesizeformat(upload.size)

    @admin.display(description="progress")
    def progress(self, upload: UploadSession) -> str:
        received = getattr(upload, "received_bytes", None) or 0
        return f"{100 * received / upload.size:.0f}%"
