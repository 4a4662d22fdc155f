"""Who may follow or cancel a job. Processing knows no projects: the app that owns the access
rule (projects) registers it here in its AppConfig.ready(), as the apps do for realtime.

A job belongs to a project (an export) or to a clip of one (the ingest steps, operations):
it is reached through that project. A job outside any project is its owner's alone
(processing.selectors).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet

# "view": follow a job, download its output; "change": cancel it.
JobNeed = Literal["view", "change"]
# (user, project id, need) -> None; raises Http404 when the user may not see the project and
# PermissionDenied when they see it but may not do `need`.
ProjectJobCheck = Callable[[Any, Any, JobNeed], None]
# user -> the ids of the projects whose jobs the user sees (a queryset of one column).
ProjectsVisible = Callable[[Any], QuerySet[Any]]


@dataclass
class _Registry:
    check: ProjectJobCheck | None = None
    visible: ProjectsVisible | None = None


_registry = _Registry()


def job_access_register(*, check: ProjectJobCheck, visible: ProjectsVisible) -> None:
    _registry.check = check
    _registry.visible = visible


def project_job_check(user: Any, project_id: Any, need: JobNeed) -> None:
    if _registry.check is None:
        raise ImproperlyConfigured("No job access check is registered.")
    _registry.check(user, project_id, need)


def projects_with_visible_jobs(user: Any) -> QuerySet[Any]:
    if _registry.visible is None:
        raise ImproperlyConfigured("No job access check is registered.")
    return _registry.visible(user)
