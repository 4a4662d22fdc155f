"""Clip and upload services: creating clips, resumable chunked uploads, quota, deletion.

Storage accounting (shared with projects.services.project_delete):
- an upload in progress (session `active` or `completing`) holds its declared size in
  `User.storage_reserved`;
- a clip that is not `uploading` and has a `file_size` counts that size in `User.storage_used`;
  discarding its original clears `file_size` and gives the bytes back.

Locks are always taken in the order project → upload/clip → user, the order project_delete
uses, so that these services and a project deletion never deadlock or count a clip twice.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.formats import number_format

from accounts.models import User
from clips.models import Clip, UploadChunk, UploadSession
from clips.selectors import upload_progress
from clips.storage import clip_original_key, clip_prefix, storage_delete_prefix
from clips.uploads import ChunkStoreError, chunk_store, sha256_of
from config.api import ErrorCode, ServiceError
from processing import events
from processing import services as processing_services
from projects import services as project_services
from projects.models import Project
from timeline import services as timeline_services

if TYPE_CHECKING:
    from processing.models import ProcessingJob

logger = logging.getLogger(__name__)

_UNSET: Any = object()
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_TAGS = 30
MAX_TAG_LENGTH = 50
RESERVING = (UploadSession.Status.ACTIVE, UploadSession.Status.COMPLETING)


# --- helpers ----------------------------------------------------------------------------------


def _mib(size: int) -> str:
    if size >= 1024**3:
        return f"{size / 1024**3:.1f} GiB".replace(".0 ", " ")
    return f"{number_format(round(size / 1024**2, 1))} MiB".replace(".0 ", " ")


def _clean_filename(filename: str) -> str:
    # Only ever shown back to the user; storage keys never derive from it.
    name = Path(str(filename).replace("\\", "/")).name.strip()
    return name[:255] or "upload"


def _default_name(name: str | None, filename: str) -> str:
    name = (name or "").strip()
    if name:
        return name[:255]
    return (Path(filename).stem or filename)[:255]


def _clean_sha256(value: str | None, *, field: str) -> str:
    value = (value or "").strip().lower()
    if value and not SHA256_RE.match(value):
        raise ServiceError(
            f"{field} must be a SHA-256 digest written as 64 hexadecimal characters.",
            {"field": field},
        )
    return value


def _clip_reserve_and_create(
    *,
    project: Project,
    user: Any,
    name: str | None,
    filename: str,
    size: int,
    status: str,
    sha256: str = "",
) -> Clip:
    """Inside a transaction: lock the project, reserve `size` bytes of the project owner's
    quota (or refuse before anything is stored) and create the clip row.

    Clips count against the project owner's storage whoever uploads them, so the clip (and its
    upload) belong to the owner: every later release or charge follows `clip.owner`."""
    locked = _lock_project(project.pk)
    _reserve_quota(user_id=locked.owner_id, size=size)
    return Clip.objects.create(
        project=locked,
        owner_id=locked.owner_id,
        name=_default_name(name, filename),
        original_filename=filename,
        file_size=size,
        sha256=sha256,
        status=status,
    )


def _lock_project(project_id: Any) -> Project:
    project = Project.objects.select_for_update().filter(pk=project_id).first()
    if project is None:
        raise ServiceError("This project no longer exists.", code=ErrorCode.NOT_FOUND)
    return project


def _reserve_quota(*, user_id: Any, size: int) -> None:
    """Reserve `size` bytes for `user_id` or raise STORAGE_QUOTA_EXCEEDED (call in a transaction).

    The user row lock makes parallel starts queue up, so together they cannot overshoot.
    """
    user = User.objects.select_for_update().get(pk=user_id)
    if user.storage_used + user.storage_reserved + size > user.storage_limit:
        available = max(0, user.storage_limit - user.storage_used - user.storage_reserved)
        raise ServiceError(
            f"This file ({_mib(size)}) does not fit in your storage: {_mib(available)} of "
            f"{_mib(user.storage_limit)} are free. Delete clips you no longer need and try again.",
            {
                "size": size,
                "storage_used": user.storage_used,
                "storage_reserved": user.storage_reserved,
                "storage_limit": user.storage_limit,
                "available": available,
            },
            code=ErrorCode.STORAGE_QUOTA_EXCEEDED,
        )
    User.objects.filter(pk=user_id).update(storage_reserved=F("storage_reserved") + size)


def _release_reservation(*, user_id: Any, size: int) -> None:
    User.objects.filter(pk=user_id).update(
        storage_reserved=Greatest(F("storage_reserved") - size, Value(0))
    )


def _free_used(*, user_id: Any, size: int) -> None:
    User.objects.filter(pk=user_id).update(
        storage_used=Greatest(F("storage_used") - size, Value(0))
    )


def _charged_size(clip: Clip) -> int:
    """Bytes of `clip` counted in its owner's storage_used (see the module docstring)."""
    if clip.status == Clip.Status.UPLOADING or not clip.file_size:
        return 0
    return clip.file_size


def _session_expired(upload: UploadSession) -> bool:
    return upload.expires_at <= timezone.now()


def _check_accepts_chunks(upload: UploadSession) -> None:
    if upload.status == UploadSession.Status.ACTIVE and not _session_expired(upload):
        return
    if upload.status in (UploadSession.Status.ACTIVE, UploadSession.Status.EXPIRED):
        message = "This upload expired before it was finished. Start a new upload."
    elif upload.status in (UploadSession.Status.COMPLETING, UploadSession.Status.COMPLETE):
        message = "This upload is already complete; it takes no more chunks."
    else:
        message = "This upload was cancelled. Start a new upload."
    raise ServiceError(
        message,
        {"upload_id": str(upload.pk), "status": upload.status},
        code=ErrorCode.CONFLICT,
    )


def _chunk_expected_size(upload: UploadSession, index: int) -> int:
    if index < upload.total_chunks - 1:
        return upload.chunk_size
    return upload.size - upload.chunk_size * (upload.total_chunks - 1)


def _read_body(stream: IO[bytes] | None, expected: int) -> bytes:
    """Read at most `expected` + 1 bytes: enough to tell a wrong size, never more."""
    if stream is None:
        return b""
    data = bytearray()
    while len(data) <= expected:
        block = stream.read(min(1024**2, expected + 1 - len(data)))
        if not block:
            break
        data += block
    return bytes(data)


def _storage_cleanup(upload: UploadSession | None, clip_id: Any) -> None:
    """Drop an upload's parts (S3: abort the multipart upload) and every file of the clip."""
    if upload is not None:
        try:
            chunk_store().abort(session=upload)
        except Exception:  # best effort: the rows are gone, orphans are only logged
            logger.warning("could not abort upload %s", upload.pk, exc_info=True)
    storage_delete_prefix(clip_prefix(clip_id))


# --- clips ------------------------------------------------------------------------------------


@contextmanager
def _local_copy(file: UploadedFile) -> Iterator[Path]:
    """A local path of the uploaded file for ffprobe (files under 2 MiB live in memory)."""
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
    from processing.media import media_validate

    size = int(file.size or 0)
    if size <= 0:
        raise ServiceError("The file is empty. Choose a video file to upload.", {"field": "file"})
    if size > settings.UPLOAD_SINGLE_REQUEST_MAX:
        raise_single_request_too_large(size)
    filename = _clean_filename(file.name or "upload")
    with _local_copy(file) as path:
        media_validate(path)

    digest = hashlib.sha256()
    for block in file.chunks():
        digest.update(block)
    file.seek(0)

    with transaction.atomic():
        clip = _clip_reserve_and_create(
            project=project,
            user=user,
            name=name,
            filename=filename,
            size=size,
            status=Clip.Status.PROCESSING,
            sha256=digest.hexdigest(),
        )
        project = clip.project
        key = clip_original_key(clip.pk)
        stored = default_storage.save(key, File(file, name=key))
        try:
            if stored != key:
                raise RuntimeError(f"storage saved {key} as {stored}")
            clip.file_path = key
            clip.save(update_fields=["file_path", "updated_at"])
            # The reservation becomes used storage in the same transaction.
            User.objects.filter(pk=clip.owner_id).update(
                storage_reserved=F("storage_reserved") - size, storage_used=F("storage_used") + size
            )
            processing_services.clip_ingest_start(clip=clip)
            project_services.project_clips_count_refresh(project=project)
        except Exception:
            default_storage.delete(stored)
            raise
    return clip


def raise_single_request_too_large(size: int) -> None:
    limit = settings.UPLOAD_SINGLE_REQUEST_MAX
    raise ServiceError(
        f"Files over {_mib(limit)} cannot be sent in one request. Use a chunked upload: "
        "POST the JSON {name, filename, size} to this URL, then send the chunks to "
        "/api/upload/chunk.",
        {"size": size, "max_size": limit, "use_chunked_upload": True},
        code=ErrorCode.FILE_TOO_LARGE,
    )


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
        project = _lock_project(clip.project_id)
        locked = Clip.objects.select_for_update().filter(pk=clip.pk).first()
        if locked is None:
            return
        upload = UploadSession.objects.filter(clip=locked).first()
        if upload is not None and upload.status in RESERVING:
            _release_reservation(user_id=locked.owner_id, size=upload.size)
        else:
            upload = None
        charged = _charged_size(locked)
        if charged:
            _free_used(user_id=locked.owner_id, size=charged)
        had_segments = locked.segments.exists()
        clip_id = locked.pk
        locked.delete()
        project_services.project_clips_count_refresh(project=project)
        if had_segments:
            # Open editors must reload: their copy still shows the vanished segments.
            timeline_services.timeline_recompute(project=project, by=by)
        transaction.on_commit(lambda: _storage_cleanup(upload, clip_id), robust=True)


def clip_retry(*, clip: Clip) -> ProcessingJob:
    """Run the ingest job again for a clip whose processing failed."""
    with transaction.atomic():
        _lock_project(clip.project_id)
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
        job = processing_services.clip_ingest_start(clip=locked)
    clip.refresh_from_db()
    return job


def clip_original_discard(*, clip: Clip, message: str, code: str) -> None:
    """Delete the clip's stored files, give its bytes back and mark it failed with `message`.

    For ingest when the file turns out unusable (invalid format, virus): nothing of it is
    kept, and the clip stays in the library to tell the user why.
    """
    with transaction.atomic():
        locked = Clip.objects.select_for_update().filter(pk=clip.pk).first()
        if locked is None:
            return
        charged = _charged_size(locked)
        if charged:
            _free_used(user_id=locked.owner_id, size=charged)
        locked.file_path = ""
        locked.file_size = None
        locked.status = Clip.Status.FAILED
        locked.error_message = message
        locked.metadata = {**(locked.metadata or {}), "error_code": code}
        locked.save(
            update_fields=[
                "file_path",
                "file_size",
                "status",
                "error_message",
                "metadata",
                "updated_at",
            ]
        )
        clip_id = locked.pk
        transaction.on_commit(lambda: _storage_cleanup(None, clip_id), robust=True)
    for field in ("file_path", "file_size", "status", "error_message", "metadata"):
        setattr(clip, field, getattr(locked, field))


# --- chunked uploads --------------------------------------------------------------------------


def upload_start(
    *,
    user: Any,
    project: Project,
    filename: str,
    size: int,
    name: str | None = None,
    sha256: str | None = None,
) -> UploadSession:
    """Create a clip in `uploading` state and a resumable upload session for its file.

    The declared size is reserved against the user's quota before a byte is stored.
    """
    if size <= 0:
        raise ServiceError("The file is empty. Choose a video file to upload.", {"field": "size"})
    if size > settings.UPLOAD_MAX_FILE_SIZE:
        raise ServiceError(
            f"This file ({_mib(size)}) is larger than the {_mib(settings.UPLOAD_MAX_FILE_SIZE)} "
            "a clip may have. Trim or compress it first.",
            {"size": size, "max_size": settings.UPLOAD_MAX_FILE_SIZE},
            code=ErrorCode.FILE_TOO_LARGE,
        )
    sha256 = _clean_sha256(sha256, field="sha256")
    filename = _clean_filename(filename)
    store = chunk_store()
    chunk_size = max(settings.UPLOAD_CHUNK_SIZE, store.min_chunk_size)

    with transaction.atomic():
        clip = _clip_reserve_and_create(
            project=project,
            user=user,
            name=name,
            filename=filename,
            size=size,
            status=Clip.Status.UPLOADING,
        )
        project = clip.project
        upload = UploadSession.objects.create(
            clip=clip,
            owner_id=clip.owner_id,
            filename=filename,
            size=size,
            chunk_size=chunk_size,
            total_chunks=math.ceil(size / chunk_size),
            sha256=sha256,
            storage_key=clip_original_key(clip.pk),
            expires_at=timezone.now() + settings.UPLOAD_SESSION_TTL,
        )
        project_services.project_clips_count_refresh(project=project)
        # Last, so that a failure above leaves nothing behind in storage.
        upload.multipart_upload_id = store.begin(session=upload)
        try:
            if upload.multipart_upload_id:
                upload.save(update_fields=["multipart_upload_id", "updated_at"])
        except Exception:
            store.abort(session=upload)
            raise
    return upload


def upload_chunk_store(
    *,
    upload: UploadSession,
    index: int,
    stream: IO[bytes] | None,
    sha256: str | None = None,
) -> UploadSession:
    """Store chunk `index` of `upload`, read from `stream` (one chunk, at most, in memory).

    Idempotent: the same chunk sent again is a no-op. A stored chunk is never overwritten
    with different bytes (it may be in use by a parallel completion); such a request is
    refused with CONFLICT, and the client cancels the upload to start over.
    """
    _check_accepts_chunks(upload)
    if not 0 <= index < upload.total_chunks:
        raise ServiceError(
            f"Chunk numbers of this upload go from 0 to {upload.total_chunks - 1}; "
            f"{index} is out of range.",
            {"index": index, "total_chunks": upload.total_chunks},
        )
    declared = _clean_sha256(sha256, field="X-Chunk-SHA256")
    expected = _chunk_expected_size(upload, index)
    data = _read_body(stream, expected)
    if len(data) != expected:
        got = f"{len(data)}" if len(data) <= expected else f"more than {expected}"
        raise ServiceError(
            f"Chunk {index} must be exactly {expected} bytes; this request carried {got}. "
            "Nothing was stored.",
            {"index": index, "expected_size": expected, "chunk_size": upload.chunk_size},
        )
    actual = hashlib.sha256(data).hexdigest()
    if declared and declared != actual:
        raise ServiceError(
            f"Chunk {index} arrived damaged: its SHA-256 does not match X-Chunk-SHA256. "
            "Nothing was stored; send it again.",
            {"index": index, "expected_sha256": declared, "actual_sha256": actual},
        )
    existing = UploadChunk.objects.filter(upload=upload, index=index).first()
    if existing is None:
        try:
            _chunk_write(upload=upload, index=index, data=data, digest=actual)
        except IntegrityError:
            # A parallel request stored this index first (the unique constraint decided).
            existing = UploadChunk.objects.filter(upload=upload, index=index).first()
            if existing is None:
                raise ServiceError(
                    "This upload was cancelled while the chunk arrived.",
                    code=ErrorCode.CONFLICT,
                ) from None
    if existing is not None and existing.sha256 != actual:
        raise ServiceError(
            f"Chunk {index} is already stored with different content. Stored chunks are "
            "never replaced: cancel this upload and start a new one to send other bytes.",
            {"index": index, "stored_sha256": existing.sha256, "sent_sha256": actual},
            code=ErrorCode.CONFLICT,
        )
    return upload


def _chunk_write(*, upload: UploadSession, index: int, data: bytes, digest: str) -> None:
    store = chunk_store()
    with transaction.atomic():
        # The row first: its unique constraint holds back a parallel request for the same
        # index until we commit, so two different bodies never write the same offset.
        chunk = UploadChunk.objects.create(
            upload=upload, index=index, size=len(data), sha256=digest
        )
        try:
            chunk.etag = store.write_chunk(session=upload, index=index, data=data)
        except ChunkStoreError as exc:
            logger.warning("chunk %s of upload %s not stored: %s", index, upload.pk, exc)
            raise ServiceError(
                "The chunk could not be stored. Check the upload's status and send it again.",
                {"index": index},
                code=ErrorCode.CONFLICT,
            ) from exc
        if chunk.etag:
            chunk.save(update_fields=["etag"])
        now = timezone.now()
        # Sliding expiry: a slow but living upload is not swept away.
        touched = UploadSession.objects.filter(
            pk=upload.pk, status=UploadSession.Status.ACTIVE
        ).update(expires_at=now + settings.UPLOAD_SESSION_TTL, updated_at=now)
        if not touched:
            raise ServiceError(
                "This upload stopped taking chunks while this one arrived.",
                {"upload_id": str(upload.pk)},
                code=ErrorCode.CONFLICT,
            )
        progress = upload_progress(upload=upload)
        events.broadcast(
            {
                "type": "upload:progress",
                "upload_id": str(upload.pk),
                "received_bytes": progress.received_bytes,
                "size": upload.size,
            },
            user_id=upload.owner_id,
            project_id=upload.clip.project_id,
        )


def _upload_reset(upload: UploadSession) -> None:
    """Throw away every received chunk so the whole file can be sent again."""
    store = chunk_store()
    with transaction.atomic():
        locked = UploadSession.objects.select_for_update().get(pk=upload.pk)
        UploadChunk.objects.filter(upload=locked).delete()
        store.abort(session=locked)
        locked.multipart_upload_id = store.begin(session=locked)
        locked.status = UploadSession.Status.ACTIVE
        locked.expires_at = timezone.now() + settings.UPLOAD_SESSION_TTL
        locked.save(update_fields=["multipart_upload_id", "status", "expires_at", "updated_at"])


def _upload_reactivate(upload: UploadSession) -> None:
    UploadSession.objects.filter(pk=upload.pk, status=UploadSession.Status.COMPLETING).update(
        status=UploadSession.Status.ACTIVE, updated_at=timezone.now()
    )


def upload_complete(*, upload: UploadSession, sha256: str | None = None) -> Clip:
    """Assemble the received chunks into the clip's file and start its ingest job.

    Missing chunks answer UPLOAD_INCOMPLETE with their numbers. When a whole-file SHA-256
    is given (here or at the start) and the assembled file differs, every chunk is thrown
    away and the upload starts over: a damaged file is never accepted silently. Completing
    a complete upload again returns its clip.
    """
    sha256 = _clean_sha256(sha256, field="sha256")
    if sha256 and upload.sha256 and sha256 != upload.sha256:
        raise ServiceError(
            "This SHA-256 differs from the one given when the upload started.",
            {"sha256": sha256, "declared_sha256": upload.sha256},
        )
    expected_sha256 = sha256 or upload.sha256

    with transaction.atomic():
        locked = UploadSession.objects.select_for_update().get(pk=upload.pk)
        if locked.status == UploadSession.Status.COMPLETE:
            return Clip.objects.get(pk=locked.clip_id)
        if locked.status == UploadSession.Status.COMPLETING:
            raise ServiceError(
                "This upload is being completed right now. Check its status in a moment.",
                {"upload_id": str(locked.pk), "status": locked.status},
                code=ErrorCode.CONFLICT,
            )
        _check_accepts_chunks(locked)
        chunks = list(UploadChunk.objects.filter(upload=locked).order_by("index"))
        received = {chunk.index for chunk in chunks}
        missing = [index for index in range(locked.total_chunks) if index not in received]
        if missing:
            raise ServiceError(
                f"{len(missing)} of {locked.total_chunks} chunks have not arrived yet. "
                "Send the missing chunks, then complete the upload again.",
                {"missing_chunks": missing, "total_chunks": locked.total_chunks},
                code=ErrorCode.UPLOAD_INCOMPLETE,
            )
        locked.status = UploadSession.Status.COMPLETING
        locked.expires_at = timezone.now() + settings.UPLOAD_SESSION_TTL
        locked.save(update_fields=["status", "expires_at", "updated_at"])

    store = chunk_store()
    try:
        store.finish(session=locked, chunks=chunks)
    except ChunkStoreError as exc:
        logger.warning("upload %s could not be assembled: %s", locked.pk, exc)
        _upload_reactivate(locked)
        raise ServiceError(
            "The storage could not assemble the file. Try completing the upload again.",
            {"upload_id": str(locked.pk)},
            code=ErrorCode.SERVICE_UNAVAILABLE,
        ) from exc
    except Exception:
        _upload_reactivate(locked)
        raise
    if expected_sha256:
        actual = sha256_of(store.iter_bytes(session=locked))
        if actual != expected_sha256:
            _upload_reset(locked)
            raise ServiceError(
                "The assembled file does not match the SHA-256 you gave, so it was not "
                "accepted. All chunks were discarded: send the whole file again, then complete.",
                {
                    "expected_sha256": expected_sha256,
                    "actual_sha256": actual,
                    "missing_chunks": list(range(locked.total_chunks)),
                },
            )

    try:
        return _upload_finalize(upload=locked, sha256=expected_sha256)
    except Exception:
        # The file is assembled; the client may complete again once the cause is fixed.
        _upload_reactivate(locked)
        raise


def _upload_finalize(*, upload: UploadSession, sha256: str) -> Clip:
    """Move the reservation into used storage and hand the clip to processing."""
    with transaction.atomic():
        _lock_project(upload.clip.project_id)
        final = UploadSession.objects.select_for_update().filter(pk=upload.pk).first()
        if final is None or final.status != UploadSession.Status.COMPLETING:
            raise ServiceError(
                "This upload was cancelled or its clip deleted while it was being completed.",
                code=ErrorCode.CONFLICT,
            )
        clip = Clip.objects.select_for_update().get(pk=final.clip_id)
        User.objects.filter(pk=final.owner_id).update(
            storage_reserved=Greatest(F("storage_reserved") - final.size, Value(0)),
            storage_used=F("storage_used") + final.size,
        )
        clip.file_path = final.storage_key
        clip.file_size = final.size
        clip.sha256 = sha256
        clip.status = Clip.Status.PROCESSING
        clip.save(update_fields=["file_path", "file_size", "sha256", "status", "updated_at"])
        final.status = UploadSession.Status.COMPLETE
        final.save(update_fields=["status", "updated_at"])
        processing_services.clip_ingest_start(clip=clip)
    return clip


def _upload_drop(upload: UploadSession, *, status: str) -> None:
    """Release the reservation, delete the clip (and with it the session), drop the parts.

    Call in a transaction holding the project and session locks.
    """
    if upload.status in RESERVING:
        _release_reservation(user_id=upload.owner_id, size=upload.size)
    upload.status = status
    upload.save(update_fields=["status", "updated_at"])
    clip = upload.clip
    project = clip.project
    clip_id = clip.pk
    clip.delete()
    project_services.project_clips_count_refresh(project=project)
    transaction.on_commit(lambda: _storage_cleanup(upload, clip_id), robust=True)


def upload_cancel(*, upload: UploadSession) -> None:
    """Stop an upload: its chunks are removed, its reservation released, its clip deleted."""
    with transaction.atomic():
        _lock_project(upload.clip.project_id)
        locked = (
            UploadSession.objects.select_for_update()
            .select_related("clip__project")
            .filter(pk=upload.pk)
            .first()
        )
        if locked is None:
            return
        if locked.status in (UploadSession.Status.COMPLETING, UploadSession.Status.COMPLETE):
            raise ServiceError(
                "This upload is already complete. Delete the clip instead.",
                {"upload_id": str(locked.pk), "clip_id": str(locked.clip_id)},
                code=ErrorCode.CONFLICT,
            )
        _upload_drop(locked, status=UploadSession.Status.CANCELLED)


def uploads_expire(*, now: Any = None) -> int:
    """Sweep uploads past their deadline: release their quota, drop their parts and clips.

    Returns how many uploads expired. Safe to run from several workers at once.
    """
    now = now or timezone.now()
    stale = UploadSession.objects.filter(status__in=RESERVING, expires_at__lt=now)
    expired = 0
    for upload_id, project_id in stale.values_list("pk", "clip__project_id"):
        with transaction.atomic():
            if Project.objects.select_for_update().filter(pk=project_id).first() is None:
                continue  # deleted with its project meanwhile
            upload = (
                UploadSession.objects.select_for_update(skip_locked=True)
                .select_related("clip__project")
                .filter(pk=upload_id, status__in=RESERVING, expires_at__lt=now)
                .first()
            )
            if upload is None:
                continue
            _upload_drop(upload, status=UploadSession.Status.EXPIRED)
            expired += 1
    if expired:
        logger.info("expired %d uploads", expired)
    return expired
