"""Dramatiq actors of an export's steps after planning (the plan runs as the job's own message,
processing.tasks.run_export_job). They take ids and hand the work to exports/steps.py.

Both run on the `export` queue, so every export worker renders chunks of any export: an
export's chunks spread over however many workers there are.
"""

from __future__ import annotations

import uuid

import dramatiq

from exports.engine import EXPORT_QUEUE, SIX_HOURS_MS


@dramatiq.actor(queue_name=EXPORT_QUEUE, max_retries=3, time_limit=SIX_HOURS_MS)
def render_export_chunk(job_id: str, chunk_key: str) -> None:
    from exports.steps import chunk_step

    chunk_step(uuid.UUID(job_id), chunk_key)


@dramatiq.actor(queue_name=EXPORT_QUEUE, max_retries=3, time_limit=SIX_HOURS_MS)
def mux_export(job_id: str) -> None:
    from exports.steps import mux_step

    mux_step(uuid.UUID(job_id))
