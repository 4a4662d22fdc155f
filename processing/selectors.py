"""Reads of processing jobs: a job is reached through its project's access rule (registered
by projects, processing.access); a job outside any project only by the user who started it."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from processing.access import JobNeed, project_job_check, projects_with_visible_jobs
from processing.models import ProcessingJob


def get_job_for_user(
    user: Any, job_id: uuid.UUID | str, *, need: JobNeed = "view"
) -> ProcessingJob:
    """The job if `user` may do `need` with it: 404 for a non-member of its project, 403 for a
    member whose role does not allow `need`."""
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such job.")
    try:
        job = ProcessingJob.objects.select_related("clip").get(pk=job_id)
    except (ProcessingJob.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such job.") from exc
    project_id = job.project_id or (job.clip.project_id if job.clip is not None else None)
    if project_id is None:
        if job.owner_id != user.pk:
            raise Http404("No such job.")
        return job
    try:
        project_job_check(user, project_id, need)
    except Http404 as exc:
        raise Http404("No such job.") from exc
    return job


def job_list(
    *,
    user: Any,
    status: str | None = None,
    project: uuid.UUID | None = None,
    job_type: str | None = None,
) -> QuerySet[ProcessingJob]:
    """The jobs of the projects the caller sees (and their own jobs outside any project),
    newest first; the serializer reads only the job's own columns, so a page is one query
    whatever its size."""
    if not getattr(user, "is_authenticated", False):
        return ProcessingJob.objects.none()
    visible = projects_with_visible_jobs(user)
    # The same rule as get_job_for_user: a project's jobs for its members, whoever started them.
    queryset = ProcessingJob.objects.filter(
        Q(project__in=visible)
        | Q(project__isnull=True, clip__project__in=visible)
        | Q(project__isnull=True, clip__isnull=True, owner=user)
    ).order_by("-created_at", "-id")
    if status:
        queryset = queryset.filter(status=status)
    if project:
        queryset = queryset.filter(project_id=project)
    if job_type:
        queryset = queryset.filter(job_type=job_type)
    return queryset
