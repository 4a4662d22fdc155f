"""Stored files, through Django's storage API (local disk or S3 alike): copying media to and
from the local folder FFmpeg works in, deleting, URLs, and the one way into the S3 client.

FFmpeg only ever reads a local copy (never a storage URL), and every copy is streamed in
blocks so a 10 GiB original never sits in memory. Outputs go to deterministic keys: the old
file is deleted first, because FileSystemStorage would otherwise save under a new name.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage

COPY_BLOCK = 1024**2


@dataclass(frozen=True)
class S3Target:
    """The boto3 client and bucket behind an S3 default storage, for what django-storages does
    not offer: streamed downloads, multipart uploads, listing unfinished uploads."""

    client: Any
    bucket: str
    location: str

    def key(self, name: str) -> str:
        """The bucket key django-storages uses for `name`: the storage's `location` prefix
        joined to the cleaned name (its public `clean_name`/`safe_join`, as its `_save` does)."""
        from storages.utils import clean_name, safe_join

        return str(safe_join(self.location, clean_name(name)))


def s3_target() -> S3Target | None:
    """The S3 client behind the default storage, or None when it is not S3."""
    from storages.backends.s3 import S3Storage

    storage = default_storage
    if not isinstance(storage, S3Storage):
        return None
    return S3Target(
        client=storage.connection.meta.client,
        bucket=storage.bucket_name,
        location=storage.location,
    )


def sha256_of(blocks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for block in blocks:
        digest.update(block)
    return digest.hexdigest()


def file_blocks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while block := handle.read(COPY_BLOCK):
            yield block


def file_sha256(path: Path) -> str:
    return sha256_of(file_blocks(path))


def storage_download(key: str, dest: Path) -> int:
    """Copy a stored file to the local path `dest`; returns its size in bytes. A key that is not
    stored raises FileNotFoundError on every backend."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    s3 = s3_target()
    if s3 is not None:
        from botocore.exceptions import ClientError

        # S3File would buffer the whole object in memory; boto3 streams it (ranged, threaded).
        try:
            s3.client.download_file(s3.bucket, s3.key(key), str(dest))
        except ClientError as exc:
            # A missing object reads as a missing file, as it does on local disk.
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise FileNotFoundError(key) from exc
            raise
    else:
        with default_storage.open(key, "rb") as source, open(dest, "wb") as target:
            shutil.copyfileobj(source, target, COPY_BLOCK)
    return dest.stat().st_size


def storage_replace(key: str, source: Path) -> str:
    """Store the local file `source` under exactly `key`, replacing what was there."""
    if default_storage.exists(key):
        default_storage.delete(key)
    with open(source, "rb") as handle:
        stored = default_storage.save(key, File(handle, name=key))
    if stored != key:  # a concurrent writer won the name: keep ours under the right key
        default_storage.delete(stored)
        raise OSError(f"storage saved {key} as {stored}")
    return stored


def storage_delete_quietly(*keys: str) -> None:
    for key in keys:
        if key:
            try:
                default_storage.delete(key)
            except OSError:
                pass


def storage_delete_prefix(prefix: str) -> int:
    """Delete every stored file under `prefix`; returns how many were deleted."""
    prefix = prefix.rstrip("/")
    deleted = 0
    try:
        directories, files = default_storage.listdir(prefix)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    for name in files:
        default_storage.delete(f"{prefix}/{name}")
        deleted += 1
    for directory in directories:
        deleted += storage_delete_prefix(f"{prefix}/{directory}")
    return deleted
