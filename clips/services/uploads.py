"""Resumable chunked uploads: start (the declared size is reserved), store chunks in any
order and in parallel, complete (the reservation becomes used storage and the clip goes to
ingest), cancel, and the sweep of abandoned uploads. Storage moves: clips.services.quota.
"""

from __future__ import annotations

import logging
import math
import re
from typing import IO, Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from clips.chunks import ChunkStoreError, chunk_store
from clips.ingest.pipeline import clip_ingest_start
from clips.models import Clip, UploadChunk, UploadSession
from clips.selectors import upload_progress
from clips.services.clips import (
    clean_filename,
    default_name,
    lock_project,
    project_clips_count_refresh,
)
from clips.services.quota import (
    RESERVING,
    quota_commit,
    quota_release,
    quota_reserve_for_project,
    size_text,
)
from clips.storage import clip_files_delete, clip_original_key, upload_staging_key
from common.errors import ErrorCode, ServiceError
from processing.files import sha256_of
from projects.models import Project
from realtime import messages
from realtime.broadcast import broadcast, project_group, user_group

logger = logging.getLogger(__name__)

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def _clean_sha256(value: str | None, *, field: str) -> str:
    value = (value or "").strip().lower()
    if value and not SHA256_RE.match(value):
        raise ServiceError(
            f"{field} must be a SHA-256 digest written as 64 hexadecimal characters.",
            {"field": field},
        )
    return value


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
            f"This file ({size_text(size)}) is larger than the {size_text(settings.UPLOAD_MAX_FILE_SIZE)} "
            "a clip may have. Trim or compress it first.",
            {"size": size, "max_size": settings.UPLOAD_MAX_FILE_SIZE},
            code=ErrorCode.FILE_TOO_LARGE,
        )
    sha256 = _clean_sha256(sha256, field="sha256")
    filename = clean_filename(filename)
    store = chunk_store()
    chunk_size = max(settings.UPLOAD_CHUNK_SIZE, store.min_chunk_size)

    with transaction.atomic():
        project = lock_project(project.pk)
        owner_id = quota_reserve_for_project(project=project, size=size)
        clip = Clip.objects.create(
            project=project,
            owner_id=owner_id,
            name=default_name(name, filename),
            original_filename=filename,
            file_size=size,
            status=Clip.Status.UPLOADING,
        )
        upload = UploadSession.objects.create(
            clip=clip,
            owner_id=clip.owner_id,
            filename=filename,
            size=size,
            chunk_size=chunk_size,
            total_chunks=math.ceil(size / chunk_size),
            sha256=sha256,
            # Private until the upload completes: no media link is issued for staging keys.
            storage_key=upload_staging_key(clip.pk),
            expires_at=timezone.now() + settings.UPLOAD_SESSION_TTL,
        )
        project_clips_count_refresh(project=project)
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
    actual = sha256_of([data])
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
        broadcast(
            messages.upload_progress(
                upload_id=upload.pk, received_bytes=progress.received_bytes, size=upload.size
            ),
            [user_group(upload.owner_id), project_group(upload.clip.project_id)],
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

    final_key = clip_original_key(locked.clip_id)
    # Sessions started before staging existed assemble at the final key itself.
    staged = locked.storage_key != final_key
    # Completing again after a publish whose finalization failed: the file is in place.
    if not (staged and default_storage.exists(final_key)):
        _upload_assemble(locked, chunks, sha256=expected_sha256, final_key=final_key)

    try:
        return _upload_finalize(upload=locked, sha256=expected_sha256, final_key=final_key)
    except Exception:
        # The file is assembled; the client may complete again once the cause is fixed.
        _upload_reactivate(locked)
        raise


def _upload_assemble(
    upload: UploadSession, chunks: list[UploadChunk], *, sha256: str, final_key: str
) -> None:
    """Assemble the chunks in the staging area, check the SHA-256, then publish the file to
    the clip's final key: bytes that are not complete and verified are never there."""
    store = chunk_store()
    try:
        store.finish(session=upload, chunks=chunks)
    except ChunkStoreError as exc:
        logger.warning("upload %s could not be assembled: %s", upload.pk, exc)
        _upload_reactivate(upload)
        raise ServiceError(
            "The storage could not assemble the file. Try completing the upload again.",
            {"upload_id": str(upload.pk)},
            code=ErrorCode.SERVICE_UNAVAILABLE,
        ) from exc
    except Exception:
        _upload_reactivate(upload)
        raise
    if sha256:
        actual = sha256_of(store.iter_bytes(session=upload))
        if actual != sha256:
            _upload_reset(upload)
            raise ServiceError(
                "The assembled file does not match the SHA-256 you gave, so it was not "
                "accepted. All chunks were discarded: send the whole file again, then complete.",
                {
                    "expected_sha256": sha256,
                    "actual_sha256": actual,
                    "missing_chunks": list(range(upload.total_chunks)),
                },
            )
    if upload.storage_key == final_key:
        return
    try:
        store.publish(session=upload, key=final_key)
    except ChunkStoreError as exc:
        logger.warning("upload %s could not be published: %s", upload.pk, exc)
        _upload_reactivate(upload)
        raise ServiceError(
            "The storage could not store the file. Try completing the upload again.",
            {"upload_id": str(upload.pk)},
            code=ErrorCode.SERVICE_UNAVAILABLE,
        ) from exc
    except Exception:
        _upload_reactivate(upload)
        raise


def _upload_finalize(*, upload: UploadSession, sha256: str, final_key: str) -> Clip:
    """Move the reservation into used storage and hand the clip to processing."""
    with transaction.atomic():
        lock_project(upload.clip.project_id)
        final = UploadSession.objects.select_for_update().filter(pk=upload.pk).first()
        if final is None or final.status != UploadSession.Status.COMPLETING:
            raise ServiceError(
                "This upload was cancelled or its clip deleted while it was being completed.",
                code=ErrorCode.CONFLICT,
            )
        clip = Clip.objects.select_for_update().get(pk=final.clip_id)
        quota_commit(user_id=final.owner_id, size=final.size)
        clip.file_path = final_key
        clip.file_size = final.size
        clip.sha256 = sha256
        clip.status = Clip.Status.PROCESSING
        clip.save(update_fields=["file_path", "file_size", "sha256", "status", "updated_at"])
        final.status = UploadSession.Status.COMPLETE
        final.save(update_fields=["status", "updated_at"])
        clip_ingest_start(clip=clip)
    return clip


def _upload_drop(upload: UploadSession, *, status: str) -> None:
    """Release the reservation, delete the clip (and with it the session), drop the parts.

    Call in a transaction holding the project and session locks.
    """
    if upload.status in RESERVING:
        quota_release(user_id=upload.owner_id, size=upload.size)
    upload.status = status
    upload.save(update_fields=["status", "updated_at"])
    clip = upload.clip
    project = clip.project
    clip_id = clip.pk
    clip.delete()
    project_clips_count_refresh(project=project)
    transaction.on_commit(lambda: clip_files_delete(clip_id, upload), robust=True)


def upload_cancel(*, upload: UploadSession) -> None:
    """Stop an upload: its chunks are removed, its reservation released, its clip deleted."""
    with transaction.atomic():
        lock_project(upload.clip.project_id)
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
