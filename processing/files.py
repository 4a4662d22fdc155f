"""Moving media between Django's storage and the local folder FFmpeg works in.

FFmpeg only ever reads a local copy (never a storage URL), and every copy is streamed in
blocks so a 10 GiB original never sits in memory. Outputs go to deterministic keys: the old
file is deleted first, because FileSystemStorage would otherwise save under a new name.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage

COPY_BLOCK = 1024**2


def s3_object_key(storage: Any, name: str) -> str:
    """The bucket key django-storages uses for `name`: the storage's `location` prefix joined
    to the cleaned name (its public `clean_name`/`safe_join`, as its own `_save` does)."""
    from storages.utils import clean_name, safe_join

    return safe_join(storage.location, clean_name(name))


def _s3_client_and_key(key: str) -> tuple[object, str, str] | None:
    """django-storages' S3File buffers a whole object in memory on read; for S3 use boto3's
    streamed (ranged, multi-threaded) download instead. A backend-specific fast path."""
    from storages.backends.s3 import S3Storage

    if not isinstance(default_storage, S3Storage):
        return None
    storage = default_storage
    client = storage.connection.meta.client
    return client, storage.bucket_name, s3_object_key(storage, key)


def storage_download(key: str, dest: Path) -> int:
    """Copy a stored file to the local path `dest`; returns its size in bytes."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    s3 = _s3_client_and_key(key)
    if s3 is not None:
        client, bucket, name = s3
        client.download_file(bucket, name, str(dest))  # type: ignore[attr-defined]
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
