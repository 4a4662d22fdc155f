"""Reads of processing jobs: a job is reached through its project's access rule
(projects.selectors); a job outside any project only by the user who started it."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from processing.models import ProcessingJob
from projects.models import Role
from projects.selectors import projects_visible_to, require_project_role


def get_job_for_user(user: Any, job_id: uuid.UUID | str, *, role: Role) -> ProcessingJob:
    """The job if `user` holds at least `role` in its project (404 for a non-member, 403 for
    too low a role)."""
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such job.")
    try:
        job = ProcessingJob.objects.select_related("project", "clip__project").get(pk=job_id)
    except (ProcessingJob.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such job.") from exc
    project = job.project or (job.clip.project if job.clip else None)
    if project is None:
        if job.owner_id != user.pk:
            raise Http404("No such job.")
        return job
    try:
        require_project_role(user, project, role)
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
    visible = projects_visible_to(user).values("pk")
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
