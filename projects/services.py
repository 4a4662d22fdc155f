"""Writes of projects: create, edit, archive, delete, and the denormalised clip count."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.db import transaction
from django.db.models import F, Sum, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import User
from clips.models import Clip, UploadSession
from clips.storage import clip_prefix, export_prefix, storage_delete_prefix
from clips.uploads import chunk_store
from config.api import ErrorCode, ServiceError
from projects.models import Project
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


def _delete_stored_files(
    clip_ids: list[uuid.UUID], unfinished: list[UploadSession], project_id: uuid.UUID
) -> None:
    for upload in unfinished:
        try:
            # On S3 the parts of an unfinished multipart upload live outside any key prefix.
            chunk_store().abort(session=upload)
        except Exception:  # best effort: the rows are gone, orphans are only logged
            logger.warning("could not abort upload %s", upload.pk, exc_info=True)
    for clip_id in clip_ids:
        storage_delete_prefix(clip_prefix(clip_id))
    storage_delete_prefix(export_prefix(project_id))


def project_delete(*, project: Project) -> None:
    """Delete the project with its clips, segments, jobs and uploads, then its stored files.

    The owner gets back the storage of the project's clips and the quota reserved by its
    unfinished uploads (the accounting rules are in clips.services). Files go only after the
    rows are committed, so a failed delete never leaves rows pointing at missing files.
    """
    with transaction.atomic():
        # Lock order project -> user, as in clips.services: nothing is added while we count.
        locked = Project.objects.select_for_update().get(pk=project.pk)
        clips = Clip.objects.filter(project=locked)
        clip_ids = list(clips.values_list("id", flat=True))
        used = (
            clips.exclude(status=Clip.Status.UPLOADING).aggregate(total=Sum("file_size"))["total"]
            or 0
        )
        unfinished = list(
            UploadSession.objects.filter(
                clip__project=locked,
                status__in=[UploadSession.Status.ACTIVE, UploadSession.Status.COMPLETING],
            )
        )
        reserved = sum(upload.size for upload in unfinished)
        project_id = locked.pk
        owner_id = locked.owner_id
        locked.delete()
        if used or reserved:
            User.objects.filter(pk=owner_id).update(
                storage_used=Greatest(F("storage_used") - used, Value(0)),
                storage_reserved=Greatest(F("storage_reserved") - reserved, Value(0)),
            )
        # robust: the rows are gone already; a storage hiccup leaves orphans, logged, not a 500.
        transaction.on_commit(
            lambda: _delete_stored_files(clip_ids, unfinished, project_id), robust=True
        )


def project_clips_count_refresh(*, project: Project) -> int:
    """Recount the project's clips from the database (called on clip create and delete)."""
    with transaction.atomic():
        # Lock first so the count below sees every clip committed before us (READ COMMITTED).
        list(Project.objects.select_for_update().filter(pk=project.pk).values_list("pk"))
        count = Clip.objects.filter(project_id=project.pk).count()
        Project.objects.filter(pk=project.pk).update(clips_count=count, updated_at=timezone.now())
    project.clips_count = count
    return count
