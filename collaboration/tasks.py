"""Dramatiq actors of the collaboration app: e-mails, sent after the transaction that made
them commits. They take ids and hand the work to collaboration.emails."""

from __future__ import annotations

import dramatiq

from collaboration import emails


# Retried with Dramatiq's backoff: an SMTP server that is down for a while delays the mail.
@dramatiq.actor(queue_name="default", max_retries=5)
def invitation_email_send(invitation_id: str) -> None:
    emails.invitation_email_send(invitation_id=invitation_id)


@dramatiq.actor(queue_name="default", max_retries=5)
def notification_email_send(notification_id: str) -> None:
    emails.notification_email_send(notification_id=notification_id)
