"""Clip services: creating a clip from a local file, editing, retrying and deleting clips, and
the clips' part of deleting a project. Storage moves go through clips.services.quota; chunked
uploads are in clips.services.uploads; the ingest pipeline (which also discards an unusable
original) in clips.ingest.

Locks are always taken in the order project → upload/clip → user (see quota).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from clips.ingest.pipeline import clip_ingest_start
from clips.models import Clip, UploadSession
from clips.services.quota import (
    RESERVING,
    charged_size,
    project_storage_release,
    quota_commit,
    quota_free,
    quota_release,
    quota_reserve_for_project,
    size_text,
)
from clips.storage import clip_files_delete, clip_original_key
from common.errors import ErrorCode, ServiceError
from processing.files import file_sha256, storage_delete_quietly, storage_replace
from processing.media import media_validate
from projects.models import Project

if TYPE_CHECKING:
    from processing.models import ProcessingJob

_UNSET: Any = object()
MAX_TAGS = 30
MAX_TAG_LENGTH = 50

# Told, inside clip_delete's transaction and before the row goes, that a clip is being
# deleted (timeline registers one: the clip's segments go and open editors reload).
ClipDeleteHook = Callable[..., None]
_delete_hooks: list[ClipDeleteHook] = []


def clip_delete_hook_register(hook: ClipDeleteHook) -> None:
    """Called from AppConfig.ready() of an app that keeps things per clip; `hook(clip=, by=)`."""
    if hook not in _delete_hooks:
        _delete_hooks.append(hook)


# --- helpers ----------------------------------------------------------------------------------


def clean_filename(filename: str) -> str:
    # Only ever shown back to the user; storage keys never derive from it.
    name = Path(str(filename).replace("\\", "/")).name.strip()
    return name[:255] or "upload"


def default_name(name: str | None, filename: str) -> str:
    name = (name or "").strip()
    if name:
        return name[:255]
    return (Path(filename).stem or filename)[:255]


def lock_project(project_id: Any) -> Project:
    project = Project.objects.select_for_update().filter(pk=project_id).first()
    if project is None:
        raise ServiceError("This project no longer exists.", code=ErrorCode.NOT_FOUND)
    return project


def project_clips_count_refresh(*, project: Project) -> int:
    """Recount the project's clips from the database (called on clip create and delete)."""
    with transaction.atomic():
        # Lock first so the count below sees every clip committed before us (READ COMMITTED).
        list(Project.objects.select_for_update().filter(pk=project.pk).values_list("pk"))
        count = Clip.objects.filter(project_id=project.pk).count()
        Project.objects.filter(pk=project.pk).update(clips_count=count, updated_at=timezone.now())
    project.clips_count = count
    return count


# --- creating ---------------------------------------------------------------------------------


def clip_create_from_local_file(
    *,
    project_id: Any,
    path: Path,
    name: str,
    original_filename: str,
    description: str = "",
    duration: Decimal | None = None,
    tags: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Clip:
    """Store the local file `path` as a new clip of the project and start its ingest, all or
    nothing: its bytes are charged to the project's owner, whoever sends it
    (STORAGE_QUOTA_EXCEEDED when they do not fit),
    and a failure leaves neither a clip, nor a stored file, nor a change to the quota.
    Used by the single-request upload and by extract."""
    size = path.stat().st_size
    sha256 = file_sha256(path)
    stored = ""
    try:
        with transaction.atomic():
            project = lock_project(project_id)
            owner_id = quota_reserve_for_project(project=project, size=size)
            clip = Clip.objects.create(
                project=project,
                owner_id=owner_id,
                name=name,
                description=description,
                original_filename=original_filename,
                file_size=size,
                sha256=sha256,
                duration=duration,
                status=Clip.Status.PROCESSING,
                tags=tags or [],
                metadata=metadata or {},
            )
            stored = storage_replace(clip_original_key(clip.pk), path)
            clip.file_path = stored
            clip.save(update_fields=["file_path", "updated_at"])
            # The reservation becomes used storage in the same transaction.
            quota_commit(user_id=owner_id, size=size)
            project_clips_count_refresh(project=project)
            clip_ingest_start(clip=clip)
    except Exception:
        storage_delete_quietly(stored)
        raise
    return clip


@contextmanager
def _local_copy(file: UploadedFile) -> Iterator[Path]:
    """A local path of the uploaded file (files under 2 MiB live in memory)."""
    temporary_path = getattr(file, "temporary_file_path", None)
    if temporary_path is not None:
        yield Path(temporary_path())
        return
    directory = Path(settings.PROCESSING_TMP_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=directory, suffix=Path(file.name or "").suffix) as tmp:
        for block in file.chunks():
            tmp.write(block)
        tmp.flush()
        yield Path(tmp.name)


def clip_create_from_file(
    *, user: Any, project: Project, file: UploadedFile, name: str | None = None
) -> Clip:
    """Store a small file sent in one request as a new clip and start its ingest job.

    The file is probed before anything is stored: an unreadable file answers
    INVALID_FILE_FORMAT and leaves neither a clip nor a change to the quota.
    """
    size = int(file.size or 0)
    if size <= 0:
        raise ServiceError("The file is empty. Choose a video file to upload.", {"field": "file"})
    if size > settings.UPLOAD_SINGLE_REQUEST_MAX:
        raise_single_request_too_large(size)
    filename = clean_filename(file.name or "upload")
    with _local_copy(file) as path:
        media_validate(path)
        return clip_create_from_local_file(
            project_id=project.pk,
            path=path,
            name=default_name(name, filename),
            original_filename=filename,
        )


def raise_single_request_too_large(size: int) -> None:
    limit = settings.UPLOAD_SINGLE_REQUEST_MAX
    raise ServiceError(
        f"Files over {size_text(limit)} cannot be sent in one request. Use a chunked upload: "
        "POST the JSON {name, filename, size} to this URL, then send the chunks to "
        "/api/upload/chunk.",
        {"size": size, "max_size": limit, "use_chunked_upload": True},
        code=ErrorCode.FILE_TOO_LARGE,
    )


# --- editing, retrying, discarding, deleting --------------------------------------------------


def _clean_tags(tags: Any) -> list[str]:
    if not isinstance(tags, list):
        raise ServiceError("Tags must be a list of words.", {"field": "tags"})
    cleaned: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise ServiceError("Each tag must be a non-empty text.", {"field": "tags"})
        tag = tag.strip()
        if len(tag) > MAX_TAG_LENGTH:
            raise ServiceError(
                f"Tags can be at most {MAX_TAG_LENGTH} characters long.", {"field": "tags"}
            )
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ServiceError(f"A clip can have at most {MAX_TAGS} tags.", {"field": "tags"})
    return cleaned


def clip_update(
    *,
    clip: Clip,
    name: str = _UNSET,
    description: str = _UNSET,
    tags: list[str] = _UNSET,
) -> Clip:
    """Change a clip's editable fields: name, description and tags."""
    changed: list[str] = []
    if name is not _UNSET:
        name = (name or "").strip()
        if not name:
            raise ServiceError("A clip needs a name.", {"field": "name"})
        clip.name = name[:255]
        changed.append("name")
    if description is not _UNSET:
        clip.description = (description or "").strip()
        changed.append("description")
    if tags is not _UNSET:
        clip.tags = _clean_tags(tags)
        changed.append("tags")
    if changed:
        clip.save(update_fields=[*changed, "updated_at"])
    return clip


def clip_delete(*, clip: Clip, by: Any = None) -> None:
    """Delete a clip, its segments and jobs; give its storage back; remove its files on commit.

    A clip still uploading has its upload cancelled: the reservation is released and the
    stored chunks are dropped.
    """
    with transaction.atomic():
        project = lock_project(clip.project_id)
        locked = Clip.objects.select_for_update().filter(pk=clip.pk).first()
        if locked is None:
            return
        upload = UploadSession.objects.filter(clip=locked).first()
        if upload is not None and upload.status in RESERVING:
            quota_release(user_id=locked.owner_id, size=upload.size)
        else:
            upload = None
        charged = charged_size(locked)
        if charged:
            quota_free(user_id=locked.owner_id, size=charged)
        for hook in _delete_hooks:
            hook(clip=locked, by=by)
        clip_id = locked.pk
        locked.delete()
        project_clips_count_refresh(project=project)
        transaction.on_commit(lambda: clip_files_delete(clip_id, upload), robust=True)


def project_clips_release(*, project: Project) -> Callable[[], None]:
    """projects' delete hook (registered in ClipsConfig.ready()): before the project's rows
    go, give back the storage of its clips and uploads; returns what deletes their stored
    bytes after commit."""
    clip_ids, unfinished = project_storage_release(project=project)
    uploads = {upload.clip_id: upload for upload in unfinished}

    def delete_files() -> None:
        for clip_id in clip_ids:
            clip_files_delete(clip_id, uploads.get(clip_id))

    return delete_files


def clip_retry(*, clip: Clip) -> ProcessingJob:
    """Run the ingest job again for a clip whose processing failed."""
    with transaction.atomic():
        lock_project(clip.project_id)
        locked = Clip.objects.select_for_update().get(pk=clip.pk)
        if locked.status != Clip.Status.FAILED:
            raise ServiceError(
                f"Only a clip whose processing failed can be retried; this one is {locked.status}.",
                {"status": locked.status},
                code=ErrorCode.CONFLICT,
            )
        if not locked.file_path:
            raise ServiceError(
                "The original file of this clip was removed when processing failed "
                f"({locked.error_message or 'no reason recorded'}). Upload the file again.",
                {"status": locked.status},
                code=ErrorCode.CONFLICT,
            )
        locked.status = Clip.Status.PROCESSING
        locked.error_message = ""
        locked.metadata = {k: v for k, v in locked.metadata.items() if k != "error_code"}
        locked.save(update_fields=["status", "error_message", "metadata", "updated_at"])
        job = clip_ingest_start(clip=locked)
    clip.refresh_from_db()
    return job
