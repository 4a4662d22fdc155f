"""Chunk stores: where the chunks of a resumable upload go, one class per storage backend.

Chunks are assembled under the session's private staging key (`staging/…`, see
clips/storage.py), for which no media link is ever issued; only a completed (and, with a
SHA-256, verified) file is published to the clip's final key:

- `LocalChunkStore` (FileSystemStorage) writes every chunk at its offset into one staging
  file; publishing is an atomic rename. This is the one place in the app that uses a storage
  path; it is a backend-specific fast path and stays inside this class.
- `S3ChunkStore` (django-storages S3Storage) turns the upload into an S3 multipart upload of
  the staging key: chunk N is part N+1, completion is CompleteMultipartUpload, with no local
  re-assembly; publishing is a server-side (multipart) copy, then the staging object goes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, default_storage

from processing.files import S3Target, s3_target

if TYPE_CHECKING:
    from clips.models import UploadChunk, UploadSession

READ_BLOCK = 1024**2
# S3 refuses multipart parts under 5 MiB, except the last one.
S3_MIN_PART_SIZE = 5 * 1024**2
# Publishing copies in parts of this size, 10 at a time: a 10 GiB upload is 160 part copies.
PUBLISH_COPY_PART_SIZE = 64 * 1024**2


class ChunkStoreError(Exception):
    """The storage backend refused an operation; the message is for logs, not users."""


class ChunkStore(Protocol):
    min_chunk_size: int

    def begin(self, *, session: UploadSession) -> str:
        """Prepare the target; returns the backend's upload id ("" when it has none)."""

    def write_chunk(self, *, session: UploadSession, index: int, data: bytes) -> str:
        """Store one chunk; returns its ETag ("" when the backend has none)."""

    def finish(self, *, session: UploadSession, chunks: list[UploadChunk]) -> None:
        """Make the stored chunks the file at `session.storage_key` (the staging key)."""

    def publish(self, *, session: UploadSession, key: str) -> None:
        """Move the finished file from the staging key to `key`, where media links may point."""

    def abort(self, *, session: UploadSession) -> None:
        """Drop whatever was stored for the session (idempotent)."""

    def iter_bytes(self, *, session: UploadSession) -> Iterator[bytes]:
        """Stream the finished file in blocks (bounded memory)."""


def chunk_store() -> ChunkStore:
    """The chunk store for the configured default storage."""
    if isinstance(default_storage, FileSystemStorage):
        return LocalChunkStore(default_storage)
    s3 = s3_target()
    if s3 is not None:
        return S3ChunkStore(s3)
    raise ImproperlyConfigured(
        f"Chunked uploads need FileSystemStorage or S3Storage, not {type(default_storage)!r}."
    )


class LocalChunkStore:
    min_chunk_size = 1

    def __init__(self, storage: FileSystemStorage) -> None:
        self.storage = storage

    def _path(self, session: UploadSession) -> Path:
        return Path(self.storage.path(session.storage_key))

    def begin(self, *, session: UploadSession) -> str:
        path = self._path(session)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A sparse file of the final size: chunks land at their offsets in any order.
        with open(path, "wb") as file:
            file.truncate(session.size)
        return ""

    def write_chunk(self, *, session: UploadSession, index: int, data: bytes) -> str:
        path = self._path(session)
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError as exc:
            raise ChunkStoreError(f"upload file {path} is gone") from exc
        try:
            offset = index * session.chunk_size
            view = memoryview(data)
            while view:
                written = os.pwrite(fd, view, offset)
                view = view[written:]
                offset += written
        finally:
            os.close(fd)
        return ""

    def finish(self, *, session: UploadSession, chunks: list[UploadChunk]) -> None:
        path = self._path(session)
        with open(path, "rb+") as file:
            os.fsync(file.fileno())

    def publish(self, *, session: UploadSession, key: str) -> None:
        target = Path(self.storage.path(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            # One file system (both under MEDIA_ROOT): readers see all of the file or none.
            os.replace(self._path(session), target)
        except FileNotFoundError as exc:
            raise ChunkStoreError(f"upload file of {session.pk} is gone") from exc
        self._remove_folder(session)

    def abort(self, *, session: UploadSession) -> None:
        self._path(session).unlink(missing_ok=True)
        self._remove_folder(session)

    def _remove_folder(self, session: UploadSession) -> None:
        try:
            self._path(session).parent.rmdir()
        except OSError:  # not empty, or already gone
            pass

    def iter_bytes(self, *, session: UploadSession) -> Iterator[bytes]:
        with self.storage.open(session.storage_key, "rb") as file:
            while block := file.read(READ_BLOCK):
                yield block


class S3ChunkStore:
    min_chunk_size = S3_MIN_PART_SIZE

    def __init__(self, s3: S3Target) -> None:
        self.client = s3.client
        self.bucket = s3.bucket
        self._key = s3.key

    def begin(self, *, session: UploadSession) -> str:
        answer = self.client.create_multipart_upload(
            Bucket=self.bucket,
            Key=self._key(session.storage_key),
            ContentType="application/octet-stream",
        )
        return str(answer["UploadId"])

    def write_chunk(self, *, session: UploadSession, index: int, data: bytes) -> str:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.upload_part(
                Bucket=self.bucket,
                Key=self._key(session.storage_key),
                UploadId=session.multipart_upload_id,
                PartNumber=index + 1,
                Body=data,
            )
        except ClientError as exc:
            raise ChunkStoreError(str(exc)) from exc
        return str(answer["ETag"])

    def finish(self, *, session: UploadSession, chunks: list[UploadChunk]) -> None:
        from botocore.exceptions import ClientError

        parts = [{"ETag": chunk.etag, "PartNumber": chunk.index + 1} for chunk in chunks]
        key = self._key(session.storage_key)
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=session.multipart_upload_id,
                MultipartUpload={"Parts": parts},
            )
        except ClientError as exc:
            # Completed by an earlier attempt that failed later (publishing): the staged
            # object is there, whole.
            if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
                try:
                    head = self.client.head_object(Bucket=self.bucket, Key=key)
                except ClientError:
                    head = {}
                if head.get("ContentLength") == session.size:
                    return
            raise ChunkStoreError(str(exc)) from exc

    def publish(self, *, session: UploadSession, key: str) -> None:
        from boto3.s3.transfer import TransferConfig
        from botocore.exceptions import ClientError

        staging = self._key(session.storage_key)
        try:
            # boto3's managed copy: one CopyObject, or UploadPartCopy in parallel above the
            # threshold (CopyObject stops at 5 GiB); the bytes never leave S3.
            self.client.copy(
                {"Bucket": self.bucket, "Key": staging},
                self.bucket,
                self._key(key),
                Config=TransferConfig(
                    multipart_threshold=PUBLISH_COPY_PART_SIZE,
                    multipart_chunksize=PUBLISH_COPY_PART_SIZE,
                    max_concurrency=10,
                ),
            )
        except ClientError as exc:
            raise ChunkStoreError(str(exc)) from exc
        self.client.delete_object(Bucket=self.bucket, Key=staging)

    def abort(self, *, session: UploadSession) -> None:
        from botocore.exceptions import ClientError

        key = self._key(session.storage_key)
        if session.multipart_upload_id:
            try:
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=session.multipart_upload_id
                )
            except ClientError as exc:
                # Already completed or aborted: nothing is left to drop.
                if exc.response.get("Error", {}).get("Code") not in ("NoSuchUpload", "404"):
                    raise
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def iter_bytes(self, *, session: UploadSession) -> Iterator[bytes]:
        # A streaming GET: S3File would first download the whole object into memory.
        answer = self.client.get_object(Bucket=self.bucket, Key=self._key(session.storage_key))
        body = answer["Body"]
        try:
            yield from body.iter_chunks(READ_BLOCK)
        finally:
            body.close()
