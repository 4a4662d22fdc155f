"""Reads of processing jobs: a user sees only their own jobs."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from processing.models import ProcessingJob


def jobs_visible_to(user: Any) -> QuerySet[ProcessingJob]:
    if not getattr(user, "is_authenticated", False):
        return ProcessingJob.objects.none()
    return ProcessingJob.objects.filter(owner=user)


def get_job_for_user(user: Any, job_id: uuid.UUID | str) -> ProcessingJob:
    try:
        return jobs_visible_to(user).get(pk=job_id)
    except (ProcessingJob.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such job.") from exc


def job_list(
    *,
    user: Any,
    status: str | None = None,
    project: uuid.UUID | None = None,
    job_type: str | None = None,
) -> QuerySet[ProcessingJob]:
    """The user's jobs, newest first (index job_owner_created_idx); the serializer reads only
    the job's own columns, so a page is one query whatever its size."""
    queryset = jobs_visible_to(user).order_by("-created_at", "-id")
    if status:
        queryset = queryset.filter(status=status)
    if project:
        queryset = queryset.filter(project_id=project)
    if job_type:
        queryset = queryset.filter(job_type=job_type)
    return queryset
