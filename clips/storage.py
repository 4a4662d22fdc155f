"""Where a clip's files are stored, and deleting them. Keys never derive from the user's file
name: everything of a clip lives under `clips/<clip_id>/` (read and written with
processing.files). The bytes of a chunked upload that has not completed live under `staging/`,
a private prefix: no media link is ever issued for it and the media view refuses it
(clips/media_links.py)."""

from __future__ import annotations

import logging
import posixpath
import uuid
from typing import TYPE_CHECKING, Any

from clips.chunks import chunk_store
from processing.files import storage_delete_prefix

if TYPE_CHECKING:
    from clips.models import UploadSession

logger = logging.getLogger(__name__)

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


def clip_files_delete(clip_id: Any, upload: UploadSession | None = None) -> None:
    """Drop an upload's parts (S3: abort the multipart upload) and every file of the clip."""
    if upload is not None:
        try:
            chunk_store().abort(session=upload)
        except Exception:  # best effort: the rows are gone, orphans are only logged
            logger.warning("could not abort upload %s", upload.pk, exc_info=True)
    storage_delete_prefix(f"{STAGING_PREFIX}{clip_prefix(clip_id)}")
    storage_delete_prefix(clip_prefix(clip_id))
