"""Staff view of processing jobs: what ran, how long, why it failed (with FFmpeg's detail)."""

from __future__ import annotations

import uuid

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from common.errors import ServiceError
from processing.models import ProcessingJob
from processing.services import job_cancel


@admin.register(ProcessingJob)
class ProcessingJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "job_type",
        "status",
        "progress",
        "owner",
        "clip",
        "project",
        "created_at",
        "duration",
    ]
    list_filter = ["status", "job_type", "created_at"]
    search_fields = ["owner__email"]
    list_select_related = ["owner", "clip", "project"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    actions = ["cancel_selected"]
    raw_id_fields = ["owner", "clip", "project"]
    readonly_fields = [
        "id",
        "owner",
        "clip",
        "project",
        "job_type",
        "status",
        "progress",
        "input_params",
        "output_data",
        "error_message",
        "developer_error",
        "attempts",
        "heartbeat_at",
        "created_at",
        "updated_at",
        "started_at",
        "completed_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Jobs are created by the services, with their side effects; never by hand.
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ProcessingJob], search_term: str
    ) -> tuple[QuerySet[ProcessingJob], bool]:
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            job_id = uuid.UUID(search_term.strip())
        except ValueError:
            return queryset, may_have_duplicates
        return queryset | self.model.objects.filter(Q(pk=job_id)), may_have_duplicates

    @admin.display(description="Duration")
    def duration(self, job: ProcessingJob) -> str:
        if not job.started_at or not job.completed_at:
            return "—"
        seconds = (job.completed_at - job.started_at).total_seconds()
        return f"{seconds:.1f} s"

    @admin.action(description="Cancel selected jobs")
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[ProcessingJob]) -> None:
        jobs = list(queryset)
        cancelled = skipped = 0
        for job in jobs:
            try:
                job_cancel(job=job)
                cancelled += 1
            except ServiceError:
                skipped += 1
        self.message_user(request, f"Cancelled {cancelled} job(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} job(s) had already finished and were left as they are.",
                messages.WARNING,
            )
