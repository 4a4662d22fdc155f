"""Dramatiq actors. They take ids, never model instances, and hand the work to the runner.

Two queues, so long exports never starve probes and thumbnails: `media` (ingest steps) and
`export` (timeline renders). Production runs a worker per queue (see deploy/).
"""

from __future__ import annotations

import dramatiq

from processing.runner import job_run

MEDIA_QUEUE = "media"
EXPORT_QUEUE = "export"
# Dramatiq's TimeLimit would otherwise kill a job after 10 minutes; FFmpeg has its own timeout.
SIX_HOURS_MS = 6 * 3600 * 1000


@dramatiq.actor(queue_name=MEDIA_QUEUE, max_retries=3, time_limit=SIX_HOURS_MS)
def run_media_job(job_id: str) -> None:
    job_run(job_id)


@dramatiq.actor(queue_name=EXPORT_QUEUE, max_retries=3, time_limit=SIX_HOURS_MS)
def run_export_job(job_id: str) -> None:
    job_run(job_id)
