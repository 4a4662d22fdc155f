"""Storage keys for clip files and helpers over Django's storage API (local disk or S3 alike).

Keys never derive from the user's file name: everything of a clip lives under
`clips/<clip_id>/`, everything of an export under `exports/<project_id>/`. The bytes of a
chunked upload that has not completed live under `staging/`, a private prefix: no media link
is ever issued for it and the media view refuses it (clips/media_links.py). Browsers only ever
get links from clips/media_links.py.
"""

from __future__ import annotations

import posixpath
import uuid

from django.core.files.storage import default_storage

STAGING_PREFIX = "staging/"


def clip_prefix(clip_id: uuid.UUID | str) -> str:
    return f"clips/{clip_id}/"


def clip_original_key(clip_id: uuid.UUID | str) -> str:
    return f"{clip_prefix(clip_id)}original"


def clip_derived_key(clip_id: uuid.UUID | str, name: str) -> str:
    """Deterministic key of a derived file (`poster.jpg`, `proxy.mp4` …): re-runs overwrite."""
    return f"{clip_prefix(clip_id)}{name}"


def upload_staging_key(clip_id: uuid.UUID | str) -> str:
    """Where the chunks of a clip's upload are assembled until the upload completes."""
    return f"{STAGING_PREFIX}clips/{clip_id}/upload"


def is_staging_key(key: str) -> bool:
    """True for any spelling of a key under the staging prefix (`./staging/…`, `a/../staging/…`)."""
    normalized = posixpath.normpath("/" + key).lstrip("/")
    return f"{normalized}/".startswith(STAGING_PREFIX)


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
