"""Reads of projects, with the one access rule: a user sees only their own projects.

`projects_visible_to` is that rule; everything that decides "may this user see this object"
(a project, its clips, timeline, exports and their media links) asks it, so collaboration
roles extend it in one place.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from projects.models import Project


def projects_visible_to(user: Any) -> QuerySet[Project]:
    if not getattr(user, "is_authenticated", False):
        return Project.objects.none()
    return Project.objects.filter(owner=user)


def project_ids_visible_to(user: Any, project_ids: Iterable[uuid.UUID | str]) -> set[str]:
    """Which of `project_ids` `user` may see (as strings), in one query: what a media link
    asks before it is issued for an object of those projects."""
    wanted = {str(pk) for pk in project_ids if pk is not None}
    if not wanted:
        return set()
    visible = projects_visible_to(user).filter(pk__in=wanted).values_list("pk", flat=True)
    return {str(pk) for pk in visible}


def get_project_for_user(
    user: Any, project_id: uuid.UUID | str, *, for_update: bool = False
) -> Project:
    """The project if `user` may see it; another user's project is a 404, like a missing one."""
    queryset = projects_visible_to(user)
    if for_update:
        queryset = queryset.select_for_update()
    try:
        return queryset.get(pk=project_id)
    except (Project.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such project.") from exc


def may_see_project(user: Any, project_id: uuid.UUID | str) -> bool:
    """Whether `user` may see the project (the websocket consumers ask this before joining)."""
    try:
        get_project_for_user(user, project_id)
    except Http404:
        return False
    return True


def project_list(*, user: Any, status: str | None = None) -> QuerySet[Project]:
    """The user's projects, most recently changed first (index project_owner_updated_idx)."""
    queryset = projects_visible_to(user).order_by("-updated_at", "id")
    if status:
        queryset = queryset.filter(status=status)
    return queryset
