"""Writes of the collaboration app, one module per subject; import from here."""

from collaboration.services.comments import comment_create, comment_delete, comment_update
from collaboration.services.members import (
    NotInvitedAddress,
    invitation_accept,
    invitation_create,
    invitation_revoke,
    member_remove,
    member_role_update,
)
from collaboration.services.notifications import notification_create, notifications_mark_read

__all__ = [
    "NotInvitedAddress",
    "comment_create",
    "comment_delete",
    "comment_update",
    "invitation_accept",
    "invitation_create",
    "invitation_revoke",
    "member_remove",
    "member_role_update",
    "notification_create",
    "notifications_mark_read",
]
