"""Notifications: kept per user, pushed live on `user_<id>` after commit, e-mailed for the
kinds that warrant it (mentions; invitations are e-mailed to their address by members.py)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from collaboration.models import Notification
from realtime import messages
from realtime.broadcast import broadcast, user_group


def notification_create(
    *,
    user_id: uuid.UUID,
    kind: str,
    message: str,
    level: str = Notification.Level.INFO,
    project_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
    key: str = "",
    email: bool = False,
) -> Notification | None:
    """Keep a notification for the user and push it to their sockets once committed.

    With a `key`, an event that was already notified is not notified again (None is returned):
    job hooks can run twice for one job when a worker dies and its message is redelivered.
    `email` also sends it by e-mail (a Dramatiq actor, after commit).
    """
    if key and Notification.objects.filter(user_id=user_id, key=key).exists():
        return None
    try:
        with transaction.atomic():  # a savepoint: a lost race undoes only this insert
            notification = Notification.objects.create(
                user_id=user_id,
                kind=kind,
                level=level,
                message=message,
                project_id=project_id,
                data=data or {},
                key=key,
            )
    except IntegrityError:
        if key:  # the same event notified concurrently (notification_unique_key)
            return None
        raise
    broadcast(
        messages.notification(
            id=notification.pk,
            kind=notification.kind,
            level=notification.level,
            message=notification.message,
            project_id=notification.project_id,
            data=notification.data,
        ),
        [user_group(user_id)],
    )
    if email:
        from collaboration.tasks import notification_email_send

        notification_id = str(notification.pk)
        transaction.on_commit(lambda: notification_email_send.send(notification_id))
    return notification


def notifications_mark_read(*, user: Any, ids: list[uuid.UUID] | None = None) -> int:
    """Mark the user's notifications read: those in `ids` (others' ids are ignored), or all."""
    queryset = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset.update(read_at=timezone.now())
