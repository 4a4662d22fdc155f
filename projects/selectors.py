"""Reads of projects, with the one access rule every endpoint, page and socket asks.

A project's owner (`Project.owner`) and its members (`ProjectMember`) see it; each action needs
a role (`Role`): viewer < commenter < editor < owner. Somebody who is not a member gets a 404,
exactly as for a project that does not exist; a member whose role is too low gets a 403.
Clips, segments, uploads and jobs are reached through their project with `require_project_role`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Case, CharField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.http import Http404

from projects.models import Project, ProjectMember, Role


class RoleRequired(PermissionDenied):
    """A member asked for something their role does not allow (403 UNAUTHORIZED_ACCESS)."""

    def __init__(self, *, needed: Role, actual: Role) -> None:
        article = "an" if needed == Role.EDITOR else "a"
        super().__init__(
            f"This needs {article} {needed} role in this project and you are a {actual}. "
            "Ask the project's owner for more access."
        )
        self.details = {"role": str(actual), "required_role": str(needed)}


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def _member_role(user: Any) -> Subquery:
    return Subquery(
        ProjectMember.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1]
    )


def projects_visible_to(user: Any) -> QuerySet[Project]:
    """The projects `user` owns or is a member of, each annotated with `caller_role`."""
    if not _authenticated(user):
        return Project.objects.none()
    # A subquery, not a join on members: a join would repeat an owned project per member.
    shared = ProjectMember.objects.filter(user=user).values("project_id")
    return (
        Project.objects.filter(Q(owner=user) | Q(pk__in=shared))
        .annotate(
            caller_role=Case(
                When(owner=user, then=Value(Role.OWNER.value)),
                default=_member_role(user),
                output_field=CharField(),
            )
        )
        .select_related("owner")
    )


def project_role(user: Any, project: Project) -> Role | None:
    """The role of `user` in `project`, or None when they are not a member."""
    if not _authenticated(user):
        return None
    if project.owner_id == user.pk:
        return Role.OWNER
    role = (
        ProjectMember.objects.filter(project_id=project.pk, user=user)
        .values_list("role", flat=True)
        .first()
    )
    return Role(role) if role else None


def _check(project: Project, actual: Role | None, needed: Role) -> Role:
    if actual is None:
        raise Http404("No such project.")
    # The serializers show the caller's role.
    project.caller_role = actual  # type: ignore[attr-defined]
    if not actual.includes(needed):
        raise RoleRequired(needed=needed, actual=actual)
    return actual


def require_project_role(user: Any, project: Project, role: Role) -> Role:
    """Check that `user` holds at least `role` in `project` and return their role.

    Raises Http404 for a non-member (the project stays invisible) and RoleRequired for a
    member whose role is too low.
    """
    return _check(project, project_role(user, project), role)


def get_project_for_user(
    user: Any, project_id: uuid.UUID | str, *, role: Role, for_update: bool = False
) -> Project:
    """The project if `user` holds at least `role` in it (see the module docstring)."""
    queryset = projects_visible_to(user)
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        project = queryset.get(pk=project_id)
    except (Project.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such project.") from exc
    _check(project, Role(project.caller_role), role)  # type: ignore[attr-defined]
    return project


def may_see_project(user: Any, project_id: uuid.UUID | str) -> bool:
    """Whether `user` is the project's owner or a member of it, whatever the role (the
    websocket consumers ask this before joining)."""
    try:
        get_project_for_user(user, project_id, role=Role.VIEWER)
    except Http404:
        return False
    return True


def job_project_check(user: Any, project_id: Any, need: str) -> None:
    """The job rule processing asks (processing.access): following a project's jobs needs a
    viewer, cancelling one an editor."""
    get_project_for_user(user, project_id, role=Role.EDITOR if need == "change" else Role.VIEWER)


def project_ids_visible_among(user: Any, project_ids: Iterable[uuid.UUID | str]) -> set[str]:
    """Which of `project_ids` `user` may see (as strings): one query for a page of objects
    (media links ask it before issuing links)."""
    wanted = {str(pk) for pk in project_ids}
    if not wanted or not _authenticated(user):
        return set()
    visible = projects_visible_to(user).filter(pk__in=wanted).values_list("pk", flat=True)
    return {str(pk) for pk in visible}


def project_ids_visible_to(user: Any) -> QuerySet[Any]:
    """The ids of the projects `user` owns or is a member of (a subquery for other tables)."""
    return projects_visible_to(user).values("pk")


def project_list(
    *, user: Any, status: str | None = None, role: str | None = None
) -> QuerySet[Project]:
    """Owned and shared projects, most recently changed first (index project_owner_updated_idx
    for the owned ones, project_member_user_role_idx for the shared ones)."""
    queryset = projects_visible_to(user).order_by("-updated_at", "id")
    if status:
        queryset = queryset.filter(status=status)
    if role == Role.OWNER:
        queryset = queryset.filter(owner=user)
    elif role:
        queryset = queryset.filter(
            pk__in=ProjectMember.objects.filter(user=user, role=role).values("project_id")
        )
    return queryset
