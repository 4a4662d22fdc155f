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
