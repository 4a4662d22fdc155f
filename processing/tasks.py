"""Dramatiq actors. They take ids, never model instances, and hand the work to the engine.

Two queues, so long exports never starve probes and thumbnails: `media` (clip work) and
`export` (timeline renders); each job type names its queue when it is registered. Production
runs a worker per queue (see deploy/).
"""

from __future__ import annotations

import dramatiq

from processing.engine import EXPORT_QUEUE, MEDIA_QUEUE, job_run, job_type_of
from processing.models import ProcessingJob

# Dramatiq's TimeLimit would otherwise kill a job after 10 minutes; FFmpeg has its own timeout.
SIX_HOURS_MS = 6 * 3600 * 1000


@dramatiq.actor(queue_name=MEDIA_QUEUE, max_retries=3, time_limit=SIX_HOURS_MS)
def run_media_job(job_id: str) -> None:
    job_run(job_id, requeue=job_send)


@dramatiq.actor(queue_name=EXPORT_QUEUE, max_retries=3, time_limit=SIX_HOURS_MS)
def run_export_job(job_id: str) -> None:
    job_run(job_id, requeue=job_send)


ACTORS = {MEDIA_QUEUE: run_media_job, EXPORT_QUEUE: run_export_job}


def job_send(job: ProcessingJob, delay_seconds: float | None = None) -> None:
    """Send a job's id to its type's queue (call after commit), optionally after a delay."""
    actor = ACTORS[job_type_of(job.job_type).queue]
    if delay_seconds:
        actor.send_with_options(args=(str(job.pk),), delay=int(delay_seconds * 1000))
    else:
        actor.send(str(job.pk))
