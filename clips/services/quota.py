"""Storage accounting: every move of a user's storage counters happens here.

- Every file of a project is charged to the project's owner, whoever uploads it (a member's
  upload uses the owner's storage): `quota_reserve_for_project` picks that account, and the
  clip and upload rows keep it as their `owner`, so every later commit, release or free
  follows `clip.owner` / `upload.owner`;
- an upload in progress (session `active` or `completing`) holds its declared size in
  `User.storage_reserved` (`quota_reserve`, then `quota_commit` or `quota_release`);
- a clip that is not `uploading` and has a `file_size` counts that size in `User.storage_used`
  (`charged_size`; `storage_charged_bytes` is the same rule as one query, for the nightly
  reconcile, `storage_usage_reconcile`); discarding or deleting it gives the bytes back
  (`quota_free`).

Locks are always taken in the order project → upload/clip → user, so that the clip services,
the upload services and a project deletion never deadlock or count a clip twice.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import F, Sum, Value
from django.db.models.functions import Greatest
from django.utils.formats import number_format

from accounts.models import User
from clips.models import Clip, UploadSession
from common.errors import ErrorCode, ServiceError

logger = logging.getLogger(__name__)

RESERVING = (UploadSession.Status.ACTIVE, UploadSession.Status.COMPLETING)


def size_text(size: int) -> str:
    """A size as people read it in messages: "1.5 GiB", "300 MiB"."""
    if size >= 1024**3:
        return f"{size / 1024**3:.1f} GiB".replace(".0 ", " ")
    return f"{number_format(round(size / 1024**2, 1))} MiB".replace(".0 ", " ")


def quota_reserve(*, user_id: Any, size: int) -> None:
    """Reserve `size` bytes for `user_id` or raise STORAGE_QUOTA_EXCEEDED (call in a transaction).

    The user row lock makes parallel starts queue up, so together they cannot overshoot.
    """
    user = User.objects.select_for_update().get(pk=user_id)
    if user.storage_used + user.storage_reserved + size > user.storage_limit:
        available = max(0, user.storage_limit - user.storage_used - user.storage_reserved)
        raise ServiceError(
            f"This file ({size_text(size)}) does not fit in your storage: {size_text(available)} "
            f"of {size_text(user.storage_limit)} are free. Delete clips you no longer need and "
            "try again.",
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


def quota_reserve_for_project(*, project: Any, size: int) -> Any:
    """Reserve `size` bytes for a new file of `project` (its row locked by the caller) and
    return the account charged: the project's owner, whoever sends the file. Store it as the
    clip's (and upload's) `owner`."""
    quota_reserve(user_id=project.owner_id, size=size)
    return project.owner_id


def quota_commit(*, user_id: Any, size: int) -> None:
    """A reservation becomes used storage: the file is stored and its clip counts now."""
    User.objects.filter(pk=user_id).update(
        storage_reserved=Greatest(F("storage_reserved") - size, Value(0)),
        storage_used=F("storage_used") + size,
    )


def quota_release(*, user_id: Any, size: int) -> None:
    """Give back a reservation whose upload will never finish."""
    User.objects.filter(pk=user_id).update(
        storage_reserved=Greatest(F("storage_reserved") - size, Value(0))
    )


def quota_free(*, user_id: Any, size: int) -> None:
    """Give back the storage of a file that is gone."""
    User.objects.filter(pk=user_id).update(
        storage_used=Greatest(F("storage_used") - size, Value(0))
    )


def charged_size(clip: Clip) -> int:
    """Bytes of `clip` counted in its owner's storage_used (see the module docstring)."""
    if clip.status == Clip.Status.UPLOADING or not clip.file_size:
        return 0
    return clip.file_size


def charged_clips() -> Any:
    """The clips whose size counts against their owner: the rule of `charged_size` as a query.
    (Served by clip_owner_status_idx when filtered by owner.)"""
    return Clip.objects.filter(file_size__isnull=False).exclude(status=Clip.Status.UPLOADING)


def storage_charged_bytes(*, user_id: Any) -> int:
    """What `user_id`'s clips add up to by the accounting rule (the nightly reconcile's truth)."""
    total = charged_clips().filter(owner_id=user_id).aggregate(total=Sum("file_size"))["total"]
    return int(total or 0)


def project_storage_release(*, project: Any) -> tuple[list[Any], list[UploadSession]]:
    """Before a project is deleted (its row locked): give its owner back the storage of its
    clips and the reservations of its unfinished uploads. Returns the clip ids and unfinished
    uploads whose stored bytes must go once the deletion commits."""
    clips = Clip.objects.filter(project=project)
    clip_ids = list(clips.values_list("id", flat=True))
    used = charged_clips().filter(project=project).aggregate(total=Sum("file_size"))["total"]
    unfinished = list(UploadSession.objects.filter(clip__project=project, status__in=RESERVING))
    reserved = sum(upload.size for upload in unfinished)
    if used:
        quota_free(user_id=project.owner_id, size=used)
    if reserved:
        quota_release(user_id=project.owner_id, size=reserved)
    return clip_ids, unfinished


def storage_usage_reconcile() -> int:
    """Recompute every user's storage_used from their clips; returns how many were corrected.

    It counts with the live accounting's own query (`storage_charged_bytes`). Exports are not
    charged to storage_used by the export engine, so they are not added here either (the usage
    report shows them apart); adding them only nightly would make the quota jump at 03:00 and
    drift again with every deleted project.

    Each user is locked while counted: an upload finishing meanwhile waits and then adds its
    size on top of the corrected value, so nothing is counted twice or lost.
    """
    corrected = 0
    for user_id in User.objects.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            user = User.objects.select_for_update().filter(pk=user_id).first()
            if user is None:
                continue
            actual = storage_charged_bytes(user_id=user_id)
            if actual != user.storage_used:
                logger.warning(
                    "storage_used of user %s was %d bytes, files add up to %d",
                    user_id,
                    user.storage_used,
                    actual,
                )
                User.objects.filter(pk=user_id).update(storage_used=actual)
                corrected += 1
    return corrected
