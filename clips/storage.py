"""Where a clip's files are stored, and deleting them. Keys never derive from the user's file
name: everything of a clip lives under `clips/<clip_id>/` (read and written with
processing.files); an unfinished upload's parts may live outside it (S3 multipart)."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from clips.chunks import chunk_store
from processing.files import storage_delete_prefix

if TYPE_CHECKING:
    from clips.models import UploadSession

logger = logging.getLogger(__name__)


def clip_prefix(clip_id: uuid.UUID | str) -> str:
    return f"clips/{clip_id}/"


def clip_original_key(clip_id: uuid.UUID | str) -> str:
    return f"{clip_prefix(clip_id)}original"


def clip_derived_key(clip_id: uuid.UUID | str, name: str) -> str:
    """Deterministic key of a derived file (`poster.jpg`, `proxy.mp4` …): re-runs overwrite."""
    return f"{clip_prefix(clip_id)}{name}"


def clip_files_delete(clip_id: Any, upload: UploadSession | None = None) -> None:
    """Drop an upload's parts (S3: abort the multipart upload) and every file of the clip."""
    if upload is not None:
        try:
            chunk_store().abort(session=upload)
        except Exception:  # best effort: the rows are gone, orphans are only logged
            logger.warning("could not abort upload %s", upload.pk, exc_info=True)
    storage_delete_prefix(clip_prefix(clip_id))
