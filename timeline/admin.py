from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from projects.admin import ProjectAdmin
from projects.models import Project
from timeline.models import TimelineChange, TimelineSegment
from timeline.services import segment_delete


@admin.register(TimelineSegment)
class TimelineSegmentAdmin(admin.ModelAdmin):
    """Read-only apart from deleting: edits must keep the version and the project duration true."""

    list_display = ["project", "clip", "layer", "start_time", "duration"]
    list_filter = ["layer"]
    search_fields = ["name", "project__name", "clip__name", "project__owner__email"]
    list_select_related = ["project", "clip"]
    ordering = ["project", "layer", "start_time"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: TimelineSegment) -> None:
        segment_delete(segment=obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[TimelineSegment]) -> None:
        for segment in queryset.select_related("project"):
            segment_delete(segment=segment, user=request.user)


class TimelineSegmentInline(admin.TabularInline):
    """The timeline at a glance; edits go through the editor so the rules and version hold."""

    model = TimelineSegment
    fields = ["layer", "start_time", "duration", "clip", "source_start", "name"]
    readonly_fields = ["layer", "start_time", "duration", "clip", "source_start", "name"]
    ordering = ["start_time", "layer"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[TimelineSegment]:
        return super().get_queryset(request).select_related("clip")


# A project's change page shows its timeline. projects knows nothing of timelines, so this app
# adds the inline to the projects' admin (Django's public admin API: unregister, register).
admin.site.unregister(Project)


@admin.register(Project)
class ProjectWithTimelineAdmin(ProjectAdmin):
    inlines = [*ProjectAdmin.inlines, TimelineSegmentInline]


@admin.register(TimelineChange)
class TimelineChangeAdmin(admin.ModelAdmin):
    """Version history, read-only: a version is restored from the editor (a new version), never
    by changing a row here."""

    list_display = ["project", "version", "kind", "summary", "by", "at"]
    list_filter = ["kind"]
    search_fields = ["project__name", "summary", "by__email"]
    list_select_related = ["project", "by"]
    ordering = ["project", "-version"]
    exclude = ["snapshot"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
