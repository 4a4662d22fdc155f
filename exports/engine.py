"""The exports app's one contact with the job engine (processing.engine): how the export
handler is registered, how it hands its work on to chunk messages, how those report progress,
notice a cancel and finish the job. Nothing else in exports/ imports the engine.

The engine runs the first step (planning) like any job. The chunks and the mux then run as
messages of this app (exports/tasks.py); the job stays `running` without a heartbeat, and
exactly one of them finishes it (exports/runs.py decides which, by conditional updates).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

from processing.engine import (
    EXPORT_QUEUE,
    JobCancelled,
    JobContext,
    JobFailed,
    JobHandedOff,
    Verdict,
    job_finish,
    job_groups,
    job_type_register,
    progress_message,
)
from processing.ffmpeg.runner import FFmpegResult, run_ffmpeg
from processing.models import ProcessingJob
from processing.tasks import SIX_HOURS_MS
from realtime.broadcast import broadcast

EXPORT = ProcessingJob.JobType.EXPORT
RUNNING = ProcessingJob.Status.RUNNING
CANCELLED = ProcessingJob.Status.CANCELLED
COMPLETED = ProcessingJob.Status.COMPLETED
CANCEL_CHECK_SECONDS = 0.25

__all__ = [
    "CANCELLED",
    "COMPLETED",
    "EXPORT",
    "EXPORT_QUEUE",
    "SIX_HOURS_MS",
    "JobCancelled",
    "JobFailed",
    "Work",
    "connect",
    "hand_off",
    "job_cancelled",
    "job_complete",
    "job_fail",
    "job_progress",
    "job_status",
    "job_stopped",
]


@dataclass
class Work:
    """What one step of an export gets: its job, a temp folder, progress and cancellation."""

    job: ProcessingJob
    tmp_dir: Path
    progress: Callable[[float], None]
    should_cancel: Callable[[], bool]

    def check_cancelled(self) -> None:
        if self.should_cancel():
            raise JobCancelled()

    def run_ffmpeg(
        self,
        args: list[str],
        *,
        duration: float | None = None,
        span: tuple[float, float] = (0, 0),
        cwd: Path | None = None,
    ) -> FFmpegResult:
        """Run FFmpeg with its progress mapped onto `span` percent, stopped within a quarter
        second of a cancel."""
        start, end = span

        def report(fraction: float) -> None:
            if end > start:
                self.progress(start + (end - start) * fraction)

        return run_ffmpeg(
            args,
            expected_duration=duration,
            on_progress=report,
            should_cancel=self.should_cancel,
            cwd=cwd or self.tmp_dir,
        )


def connect() -> None:
    """Register the export job type: its handler (the plan step), its queue and its finish
    hook (ExportsConfig.ready)."""
    job_type_register(EXPORT, handler=_plan_step, queue=EXPORT_QUEUE, on_finish=_settle)


def _settle(job: ProcessingJob, verdict: Verdict | None) -> None:
    from exports.services import export_settle_project

    export_settle_project(job)


def _plan_step(ctx: JobContext) -> dict[str, Any]:
    from exports.handler import export_plan

    work = Work(
        job=ctx.job,
        tmp_dir=ctx.tmp_dir,
        progress=ctx.progress,
        should_cancel=ctx.should_cancel,
    )
    return export_plan(work)


def hand_off() -> NoReturn:
    """End the planning step with the job still running: chunk messages carry on."""
    raise JobHandedOff()


def job_status(job_id: Any) -> str | None:
    return ProcessingJob.objects.filter(pk=job_id).values_list("status", flat=True).first()


def job_cancelled(job_id: Any) -> Callable[[], bool]:
    """A `should_cancel` for a handed-off job: true once it is no longer running (cancelled,
    failed by another chunk, or deleted), checked at most four times a second."""
    state = {"checked": 0.0, "stopped": False}

    def check() -> bool:
        now = time.monotonic()
        if not state["stopped"] and now - state["checked"] >= CANCEL_CHECK_SECONDS:
            state["checked"] = now
            state["stopped"] = job_status(job_id) != RUNNING
        return bool(state["stopped"])

    return check


def job_progress(job_id: Any, percent: float) -> None:
    """Raise a handed-off job's progress (never lower it: a chunk done again after its worker
    died must not move the bar back) and tell the job's listeners. No heartbeat is written."""
    value = Decimal(str(round(max(0.0, min(100.0, percent)), 2)))
    updated = ProcessingJob.objects.filter(pk=job_id, status=RUNNING, progress__lt=value).update(
        progress=value
    )
    if updated:
        job = ProcessingJob.objects.get(pk=job_id)
        broadcast(progress_message(job), job_groups(job))


def job_complete(job_id: Any, output: dict[str, Any]) -> ProcessingJob:
    return job_finish(job_id, output_data=output)


def job_fail(job_id: Any, failure: JobFailed) -> ProcessingJob:
    return job_finish(job_id, failed=failure)


def job_stopped(job_id: Any) -> ProcessingJob:
    """The job was cancelled while handed off: stamp it and run the finish hooks."""
    return job_finish(job_id, cancelled=True)
