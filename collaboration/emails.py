"""The e-mails of the collaboration app, rendered from templates/collaboration/email/."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from collaboration.models import Invitation, Notification
from collaboration.selectors import invitation_status
from collaboration.tokens import invitation_url

logger = logging.getLogger(__name__)


def _send(*, to: str, template: str, context: dict[str, Any]) -> None:
    context = {**context, "site_url": settings.SITE_URL.rstrip("/")}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        to=[to],
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    message.send()


def invitation_email_send(*, invitation_id: str) -> None:
    """Mail the invitation link to the invited address, if the invitation still stands."""
    invitation = (
        Invitation.objects.select_related("project", "invited_by").filter(pk=invitation_id).first()
    )
    if invitation is None or invitation_status(invitation) != Invitation.Status.PENDING:
        logger.info("invitation %s no longer pending; no e-mail", invitation_id)
        return
    _send(
        to=invitation.email,
        template="collaboration/email/invitation",
        context={
            "invitation": invitation,
            "project_name": invitation.project.name,
            "inviter": invitation.invited_by.display_name if invitation.invited_by else "Someone",
            "role": invitation.get_role_display().lower(),
            "url": invitation_url(invitation.pk),
        },
    )


def notification_email_send(*, notification_id: str) -> None:
    """Mail a notification (a mention) to its user's address."""
    notification = (
        Notification.objects.select_related("user", "project").filter(pk=notification_id).first()
    )
    if notification is None or not notification.user.is_active:
        return
    project = notification.project
    url = settings.SITE_URL.rstrip("/") + (f"/projects/{project.pk}/" if project else "/")
    _send(
        to=notification.user.email,
        template="collaboration/email/notification",
        context={
            "notification": notification,
            "user": notification.user,
            "project_name": project.name if project else "",
            "url": url,
        },
    )
