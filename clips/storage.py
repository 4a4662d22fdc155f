"""Storage keys for clip files and helpers over Django's storage API (local disk or S3 alike).

Keys never derive from the user's file name: everything of a clip lives under
`clips/<clip_id>/`, everything of an export under `exports/<project_id>/`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import default_storage


def clip_prefix(clip_id: uuid.UUID | str) -> str:
    return f"clips/{clip_id}/"


def clip_original_key(clip_id: uuid.UUID | str) -> str:
    return f"{clip_prefix(clip_id)}original"


def clip_derived_key(clip_id: uuid.UUID | str, name: str) -> str:
    """Deterministic key of a derived file (`poster.jpg`, `proxy.mp4` …): re-runs overwrite."""
    return f"{clip_prefix(clip_id)}{name}"


def export_prefix(project_id: uuid.UUID | str) -> str:
    return f"exports/{project_id}/"


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


def storage_url(key: str) -> str | None:
    """A URL the browser can fetch (short-lived and signed on S3), or None for an empty key."""
    if not key:
        return None
    return default_storage.url(key)


def storage_download_url(key: str, *, filename: str) -> str:
    """A URL that downloads `key`; on S3 a short-lived signed URL that names the file."""
    if settings.USE_S3:
        # Quotes and non-ASCII letters would break the header; keep a safe ASCII name.
        safe = "".join(
            c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
        )
        return default_storage.url(  # type: ignore[call-arg]
            key, parameters={"ResponseContentDisposition": f'attachment; filename="{safe}"'}
        )
    return default_storage.url(key)
