"""Writes of projects: create, edit, archive, delete."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

from common.errors import ErrorCode, ServiceError
from processing.files import storage_delete_prefix
from projects.models import Project
from projects.storage import export_prefix
from projects.templates import SETTING_CHOICES, TEMPLATES_BY_ID

logger = logging.getLogger(__name__)

# A project's settings are editor preferences (resolution, fps, …), not a document store.
SETTINGS_MAX_BYTES = 64 * 1024

# Statuses a client may ask for; `exporting` and `exported` belong to the export pipeline.
CLIENT_SETTABLE_STATUSES = (Project.Status.DRAFT, Project.Status.ARCHIVED)

_UNSET: Any = object()


def _validate_settings(settings: Any) -> dict[str, Any]:
    if not isinstance(settings, dict):
        raise ServiceError(
            'Project settings must be a JSON object, like {"resolution": "1920x1080"}.',
            {"field": "settings"},
        )
    if len(json.dumps(settings)) > SETTINGS_MAX_BYTES:
        raise ServiceError(
            f"Project settings are too large; keep them under {SETTINGS_MAX_BYTES // 1024} KiB.",
            {"field": "settings"},
        )
    for key, allowed in SETTING_CHOICES.items():
        if key in settings and settings[key] not in allowed:
            raise ServiceError(
                f"settings.{key} must be one of {', '.join(allowed)}; "
                f"{json.dumps(settings[key])} is not.",
                {"field": f"settings.{key}", "allowed": list(allowed)},
            )
    return settings


def _validate_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ServiceError("Give the project a name.", {"field": "name"})
    return name


def _validate_template(template: str) -> str:
    if template not in Project.Template.values:
        raise ServiceError(
            f"Unknown template. Choose one of: {', '.join(Project.Template.values)}.",
            {"field": "template", "allowed": list(Project.Template.values)},
        )
    return template


def project_create(
    *,
    owner: Any,
    name: str,
    description: str = "",
    template: str = Project.Template.BLANK,
    settings: dict[str, Any] | None = None,
) -> Project:
    template = _validate_template(template)
    # The template's presets first, so that what the creator sends wins.
    preset = TEMPLATES_BY_ID[template].settings
    project = Project(
        owner=owner,
        name=_validate_name(name),
        description=description,
        template=template,
        settings=_validate_settings({**preset, **(settings if settings is not None else {})}),
    )
    project.save()
    return project


def _next_status(project: Project, requested: str) -> str:
    """Archiving is the only status change a client makes: draft/exported <-> archived."""
    if requested == project.status:
        return requested
    if requested not in CLIENT_SETTABLE_STATUSES:
        raise ServiceError(
            "A project's status can only be set to 'draft' or 'archived'; "
            "exporting and exported follow from exports.",
            {"field": "status", "allowed": list(CLIENT_SETTABLE_STATUSES)},
        )
    if project.status == Project.Status.EXPORTING:
        raise ServiceError(
            "This project is being exported. Wait for the export to finish, then try again.",
            {"field": "status", "current_status": project.status},
            code=ErrorCode.CONFLICT,
        )
    if requested == Project.Status.DRAFT and project.status != Project.Status.ARCHIVED:
        raise ServiceError(
            "Only an archived project can be set back to draft.",
            {"field": "status", "current_status": project.status},
        )
    return requested


def project_update(
    *,
    project: Project,
    name: str = _UNSET,
    description: str = _UNSET,
    template: str = _UNSET,
    settings: dict[str, Any] = _UNSET,
    status: str = _UNSET,
) -> Project:
    """Change the given fields; fields left out keep their value."""
    with transaction.atomic():
        # The export pipeline changes `status` concurrently: decide on the locked row.
        locked = Project.objects.select_for_update().get(pk=project.pk)
        changed: list[str] = []
        if name is not _UNSET:
            locked.name = _validate_name(name)
            changed.append("name")
        if description is not _UNSET:
            locked.description = description
            changed.append("description")
        if template is not _UNSET:
            locked.template = _validate_template(template)
            changed.append("template")
        if settings is not _UNSET:
            locked.settings = _validate_settings(settings)
            changed.append("settings")
        if status is not _UNSET:
            locked.status = _next_status(locked, status)
            changed.append("status")
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
    return locked


# Told, inside project_delete's transaction (the project row locked, its rows not yet gone),
# that a project is being deleted; each returns what must happen after commit (its files go),
# or None. clips registers one: the owner gets the storage of the project's clips back.
ProjectDeleteHook = Callable[..., Callable[[], None] | None]
_delete_hooks: list[ProjectDeleteHook] = []


def project_delete_hook_register(hook: ProjectDeleteHook) -> None:
    """Called from AppConfig.ready() of an app that keeps things in projects;
    `hook(project=)`."""
    if hook not in _delete_hooks:
        _delete_hooks.append(hook)


def project_delete(*, project: Project) -> None:
    """Delete the project with its clips, segments, jobs and uploads, then its stored files.

    The apps that keep things in a project hear of it first (see `project_delete_hook_register`:
    clips gives the owner back the storage of the project's clips and unfinished uploads).
    Files go only after the rows are committed, so a failed delete never leaves rows pointing
    at missing files.
    """
    with transaction.atomic():
        # Lock order project -> user, as in clips.services.quota: nothing is added meanwhile.
        locked = Project.objects.select_for_update().get(pk=project.pk)
        cleanups = [hook(project=locked) for hook in _delete_hooks]
        project_id = locked.pk
        locked.delete()
        cleanups.append(lambda: _exports_delete(project_id))
        for cleanup in cleanups:
            if cleanup is not None:
                # robust: the rows are gone already; a storage hiccup leaves orphans, logged,
                # not a 500.
                transaction.on_commit(cleanup, robust=True)


def _exports_delete(project_id: Any) -> None:
    storage_delete_prefix(export_prefix(project_id))


def projects_delete_for_owner(*, user: Any) -> None:
    """accounts' user delete hook (registered in ProjectsConfig.ready()): each of the user's
    projects goes through project_delete, which removes its files; a cascade would not."""
    for project in Project.objects.filter(owner=user):
        project_delete(project=project)
