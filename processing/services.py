"""Processing services: starting, cancelling and retrying jobs. (Being filled in.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clips.models import Clip
    from processing.models import ProcessingJob


def clip_ingest_start(*, clip: Clip) -> ProcessingJob:
    """Create the clip's ingest job (scan, probe, thumbnails, proxy) and enqueue it on commit."""
    raise NotImplementedError("processing pipeline is being built")
