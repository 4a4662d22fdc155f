from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from projects.models import Project
from projects.services import project_delete


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "status", "clips_count", "total_duration", "updated_at"]
    list_filter = ["status", "template", "created_at", "updated_at"]
    search_fields = ["name", "owner__email"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = [
        "id",
        "total_duration",
        "clips_count",
        "timeline_version",
        "created_at",
        "updated_at",
    ]
    date_hierarchy = "updated_at"

    # Deleting here must also free the owner's storage and remove the stored files.
    def delete_model(self, request: HttpRequest, obj: Project) -> None:
        project_delete(project=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Project]) -> None:
        for project in queryset:
            project_delete(project=project)
