"""Members and invitations: invite by e-mail, accept once with the signed link, change a
member's role, remove a member or leave.

Who may call which is decided before, by `projects.selectors` (owner for invitations and roles;
any member for leaving); these functions keep the rules of the rows themselves.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from collaboration.models import Invitation, Notification
from collaboration.selectors import Member, invitation_status
from collaboration.services.notifications import notification_create
from collaboration.tokens import invitation_id_from_token
from common.errors import ErrorCode, ServiceError
from projects.models import MEMBER_ROLES, Project, ProjectMember, Role

# An owner sends e-mail to any address they type: bound how many links may be out at once.
MAX_PENDING_INVITATIONS = 50


class NotInvitedAddress(PermissionDenied):
    """The signed-in user is not the invited address (403 UNAUTHORIZED_ACCESS)."""

    def __init__(self, invited: str) -> None:
        super().__init__(
            f"This invitation was sent to {masked_email(invited)}. Sign in with that address to "
            "accept it."
        )
        self.details = {"email": masked_email(invited)}


def masked_email(email: str) -> str:
    # Enough for the invitee to recognise their address, not a way to learn someone else's.
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _member_role(role: str) -> Role:
    if role not in MEMBER_ROLES:
        raise ServiceError(
            "A member is a viewer, a commenter or an editor; a project has one owner.",
            {"field": "role", "allowed": [str(r) for r in MEMBER_ROLES]},
        )
    return Role(role)


def invitation_create(*, project: Project, invited_by: Any, email: str, role: str) -> Invitation:
    """Invite `email` to the project with `role` and e-mail them the link (after commit).

    Inviting an address again replaces its pending invitation: the older link stops working.
    A user who already has an account with that address is also notified in the app.
    """
    email = email.strip().lower()
    member_role = _member_role(role)
    now = timezone.now()
    with transaction.atomic():
        # One invitation at a time per project: the pending count and the replace below hold.
        locked = Project.objects.select_for_update().select_related("owner").get(pk=project.pk)
        if locked.owner.email.lower() == email:
            raise ServiceError(
                "That is the owner's address; the owner is already in the project.",
                {"field": "email"},
                code=ErrorCode.CONFLICT,
            )
        member = (
            ProjectMember.objects.filter(project=locked, user__email__iexact=email)
            .select_related("user")
            .first()
        )
        if member is not None:
            raise ServiceError(
                f"{email} is already a {member.role} of this project. Change their role in "
                "the member list instead.",
                {"field": "email", "user_id": str(member.user_id), "role": member.role},
                code=ErrorCode.CONFLICT,
            )
        pending = Invitation.objects.filter(project=locked, status=Invitation.Status.PENDING)
        pending.filter(email=email).update(status=Invitation.Status.REVOKED, responded_at=now)
        if pending.filter(expires_at__gt=now).count() >= MAX_PENDING_INVITATIONS:
            raise ServiceError(
                f"This project already has {MAX_PENDING_INVITATIONS} open invitations. "
                "Revoke some of them, or wait until they are accepted or expire.",
                {"field": "email", "limit": MAX_PENDING_INVITATIONS},
            )
        invitation = Invitation.objects.create(
            project=locked,
            email=email,
            role=member_role,
            invited_by=invited_by,
            expires_at=now + settings.INVITATION_TTL,
        )
        invitee = User.objects.filter(email__iexact=email, is_active=True).first()
        if invitee is not None:
            notification_create(
                user_id=invitee.pk,
                kind=Notification.Kind.INVITATION,
                message=f"{invited_by.display_name} invited you to “{locked.name}” as "
                f"{member_role.label.lower()}. Open the link in the e-mail we sent you to join.",
                project_id=locked.pk,
                data={
                    "invitation_id": str(invitation.pk),
                    "project_name": locked.name,
                    "role": str(member_role),
                },
                key=f"invitation:{invitation.pk}",
            )
        from collaboration.tasks import invitation_email_send

        invitation_id = str(invitation.pk)
        transaction.on_commit(lambda: invitation_email_send.send(invitation_id))
    return invitation


def invitation_revoke(*, invitation: Invitation) -> None:
    """Stop a pending invitation's link; revoking twice (or an expired one) changes nothing."""
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.status == Invitation.Status.ACCEPTED:
            raise ServiceError(
                "This invitation was already accepted. Remove the member instead.",
                {"status": locked.status, "user_id": str(locked.accepted_by_id or "")},
                code=ErrorCode.CONFLICT,
            )
        if locked.status == Invitation.Status.PENDING:
            locked.status = Invitation.Status.REVOKED
            locked.responded_at = timezone.now()
            locked.save(update_fields=["status", "responded_at"])


_REFUSED: dict[str, str] = {
    Invitation.Status.REVOKED: "This invitation was withdrawn by the project's owner.",
    Invitation.Status.ACCEPTED: "This invitation has already been used. Open the project from "
    "your dashboard.",
    Invitation.Status.EXPIRED: "This invitation has expired. Ask the project's owner to invite "
    "you again.",
}


def invitation_accept(*, user: Any, token: str) -> Member:
    """Join the project of the invitation `token` stands for, with its role.

    Only the invited address may accept (403); a forged, revoked, used or expired token is a
    400. Accepting when already a member sets the invited role.
    """
    invitation_id = invitation_id_from_token(token)
    if invitation_id is None:
        raise ServiceError(
            "This invitation link is not valid. Check that you opened the whole link from the "
            "e-mail.",
            {"field": "token"},
        )
    with transaction.atomic():
        # Locked: two accepts of one link (double click, two tabs) make one member.
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("project", "project__owner")
            .filter(pk=invitation_id)
            .first()
        )
        if invitation is None:
            raise ServiceError(
                "This invitation no longer exists; the project may have been deleted.",
                {"field": "token"},
            )
        if invitation.email != user.email.lower():
            raise NotInvitedAddress(invitation.email)
        status = invitation_status(invitation)
        if status != Invitation.Status.PENDING:
            raise ServiceError(_REFUSED[status], {"field": "token", "status": status})
        project = invitation.project
        if project.owner_id == user.pk:
            raise ServiceError(
                "You own this project already.", {"field": "token"}, code=ErrorCode.CONFLICT
            )
        now = timezone.now()
        member, _ = ProjectMember.objects.update_or_create(
            project=project,
            user=user,
            defaults={"role": invitation.role},
            create_defaults={"role": invitation.role, "invited_by_id": invitation.invited_by_id},
        )
        invitation.status = Invitation.Status.ACCEPTED
        invitation.accepted_by = user
        invitation.responded_at = now
        invitation.save(update_fields=["status", "accepted_by", "responded_at"])
        Notification.objects.filter(
            user=user, key=f"invitation:{invitation.pk}", read_at__isnull=True
        ).update(read_at=now)
        notification_create(
            user_id=project.owner_id,
            kind=Notification.Kind.MEMBER_JOINED,
            level=Notification.Level.SUCCESS,
            message=f"{user.display_name} joined “{project.name}” as "
            f"{Role(invitation.role).label.lower()}.",
            project_id=project.pk,
            data={"user_id": str(user.pk), "role": invitation.role},
            key=f"member_joined:{invitation.pk}",
        )
    return Member(user=user, role=Role(member.role), joined_at=member.joined_at)


def member_role_update(*, project: Project, user_id: uuid.UUID, role: str) -> Member:
    """Give a member another role (the owner's own role does not change)."""
    if user_id == project.owner_id:
        raise ServiceError(
            "The owner's role cannot change: a project has exactly one owner.",
            {"field": "role"},
        )
    member_role = _member_role(role)
    with transaction.atomic():
        member = (
            ProjectMember.objects.select_for_update()
            .select_related("user")
            .filter(project=project, user_id=user_id)
            .first()
        )
        if member is None:
            raise ServiceError(
                "This user is not a member of the project.", code=ErrorCode.NOT_FOUND
            )
        if member.role != member_role:
            member.role = member_role
            member.save(update_fields=["role"])
    return Member(user=member.user, role=member_role, joined_at=member.joined_at)


def member_remove(*, project: Project, user_id: uuid.UUID) -> None:
    """Remove a member (or let one leave); the owner cannot leave their own project."""
    if user_id == project.owner_id:
        raise ServiceError(
            "The owner cannot leave the project. Delete the project instead, or keep it.",
            {"user_id": str(user_id)},
        )
    deleted, _ = ProjectMember.objects.filter(project=project, user_id=user_id).delete()
    if not deleted:
        raise ServiceError("This user is not a member of the project.", code=ErrorCode.NOT_FOUND)
