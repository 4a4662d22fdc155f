"""Invitation links: the invitation's id signed with the SECRET_KEY.

The signature makes a link impossible to guess from an id; whether it still works (pending,
not expired, not revoked, not used) is the invitation row's business, so revoking needs no
list of dead tokens and the owner can be shown the same link again.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core import signing

SALT = "collaboration.invitation"


def invitation_token(invitation_id: uuid.UUID | str) -> str:
    # No timestamp in the signature: the same invitation always has the same link (the one
    # e-mailed is the one the owner copies), and its expiry is the row's.
    return signing.Signer(salt=SALT).sign_object(str(invitation_id))


def invitation_id_from_token(token: str) -> uuid.UUID | None:
    """The invitation id a token was made for, or None for a forged or damaged token. Links
    sent before tokens lost their timestamp still open."""
    for read in (signing.Signer(salt=SALT).unsign_object, lambda t: signing.loads(t, salt=SALT)):
        try:
            return uuid.UUID(read(token))
        except (signing.BadSignature, ValueError, TypeError):
            continue
    return None


def invitation_url(invitation_id: uuid.UUID | str) -> str:
    """The absolute link e-mailed to the invitee (no request at hand in the mail worker)."""
    return f"{settings.SITE_URL.rstrip('/')}/invitations/{invitation_token(invitation_id)}/"
