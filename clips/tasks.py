"""Dramatiq actors of the clips app; periodic scheduling is configured elsewhere."""

from __future__ import annotations

import dramatiq

from clips.services import uploads_expire


@dramatiq.actor(queue_name="default", max_retries=0)
def uploads_expire_sweep() -> None:
    """Expire abandoned uploads: release their quota and drop their stored chunks."""
    uploads_expire()
