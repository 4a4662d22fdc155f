"""The job engine: the one runner every processing job goes through, and the registry of job
types. It knows no domain: the apps register what each job type does in AppConfig.ready().

A job row is a state machine: pending → running → completed | failed | cancelled. The runner
claims the row with a conditional update (so a redelivered message never runs a job twice at
once), keeps a heartbeat while the work runs, writes throttled progress, turns exceptions into
a user-facing message plus developer detail, and always removes the job's temp folder. When a
job finishes, the hook registered with its type hears of it, with the handler's verdict, in the
transaction that writes the final status.

A handler may hand the rest of its work to other messages (JobHandedOff); the last of them
finishes the job with `job_finish`.

Cancellation is cooperative: the cancel service sets the row to `cancelled`; the work polls
`ctx.should_cancel()` (FFmpeg runs poll it four times a second) and stops.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from processing.ffmpeg.runner import FFmpegCancelled, FFmpegError, FFmpegResult, run_ffmpeg
from processing.models import ProcessingJob
from realtime import messages
from realtime.broadcast import broadcast, project_group, user_group

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = getattr(settings, "PROCESSING_HEARTBEAT_SECONDS", 10)
# A running job whose heartbeat is older than this belongs to a dead worker and may be re-run.
STALE_AFTER = timedelta(seconds=getattr(settings, "PROCESSING_STALE_AFTER_SECONDS", 60))
PROGRESS_WRITE_INTERVAL = 0.5  # at most a few progress messages a second per job
CANCEL_CHECK_INTERVAL = 0.25


@dataclass(frozen=True)
class Verdict:
    """What a handler asks of the app that owns the job's subject, beyond its output; e.g. the
    ingest pipeline's "discard the original" with the error code to show."""

    action: str
    error_code: str = ""


class JobFailed(Exception):
    """Stop the job as failed with a message the user can act on (and, optionally, a verdict
    for the job type's finish hook)."""

    def __init__(
        self, user_message: str, developer_detail: str = "", *, verdict: Verdict | None = None
    ) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.developer_detail = developer_detail
        self.verdict = verdict


class JobCancelled(Exception):
    pass


class JobHandedOff(Exception):
    """The handler passed the rest of the work to other messages (an export's chunks, then its
    mux), which finish the job with `job_finish`. The job stays `running` with no heartbeat
    (NULL), so the stale-job sweep leaves it to them; they keep their own liveness."""


class JobDeferred(Exception):
    """Put the job back to `pending` and run it again after `delay_seconds`: something it
    needs (the virus scanner) is unreachable, and skipping the step is not an option."""

    def __init__(self, user_message: str, *, delay_seconds: float) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.delay_seconds = delay_seconds


JobHandler = Callable[["JobContext"], dict[str, Any]]
# Called with every finished job of its type (and the handler's verdict, if it gave one), in
# the transaction that writes the final status.
FinishHook = Callable[[ProcessingJob, Verdict | None], None]
# Called with every finished job whatever its type (metrics).
FinishObserver = Callable[[ProcessingJob], None]
# Sends a deferred job to its queue again after a delay (processing.tasks.job_send).
Requeue = Callable[[ProcessingJob, float], None]

MEDIA_QUEUE = "media"
EXPORT_QUEUE = "export"
QUEUES = (MEDIA_QUEUE, EXPORT_QUEUE)


@dataclass(frozen=True)
class Registration:
    """What an app said about one job type."""

    handler: JobHandler
    queue: str = MEDIA_QUEUE
    on_finish: FinishHook | None = None


_job_types: dict[str, Registration] = {}
_observers: list[FinishObserver] = []


def job_type_register(
    job_type: str,
    *,
    handler: JobHandler,
    queue: str = MEDIA_QUEUE,
    on_finish: FinishHook | None = None,
) -> None:
    """Say what a job type does, on which queue it runs and who hears when it finishes.
    Called from the owning app's AppConfig.ready()."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; the workers serve {', '.join(QUEUES)}")
    _job_types[job_type] = Registration(handler=handler, queue=queue, on_finish=on_finish)


def job_finish_observe(observer: FinishObserver) -> None:
    """Hear of every finished job (idempotent: registering twice is registering once)."""
    if observer not in _observers:
        _observers.append(observer)


def job_type_of(job_type: str) -> Registration:
    try:
        return _job_types[job_type]
    except KeyError:
        raise ImproperlyConfigured(
            f"No handler is registered for {job_type!r} jobs (see AppConfig.ready())."
        ) from None


class JobContext:
    """What a job handler gets: its row, a temp folder, progress and cancellation."""

    def __init__(self, job: ProcessingJob, tmp_dir: Path) -> None:
        self.job = job
        self.tmp_dir = tmp_dir
        self._last_progress_write = 0.0
        self._last_cancel_check = 0.0
        self._cancelled = False

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if not self._cancelled and now - self._last_cancel_check >= CANCEL_CHECK_INTERVAL:
            self._last_cancel_check = now
            status = (
                ProcessingJob.objects.filter(pk=self.job.pk)
                .values_list("status", flat=True)
                .first()
            )
            self._cancelled = status == ProcessingJob.Status.CANCELLED or status is None
        return self._cancelled

    def check_cancelled(self) -> None:
        if self.should_cancel():
            raise JobCancelled()

    def progress(self, percent: float, *, force: bool = False) -> None:
        """Record progress (0–100); written and broadcast at most twice a second."""
        now = time.monotonic()
        if not force and now - self._last_progress_write < PROGRESS_WRITE_INTERVAL:
            return
        self._last_progress_write = now
        value = Decimal(str(round(max(0.0, min(100.0, percent)), 2)))
        updated = ProcessingJob.objects.filter(
            pk=self.job.pk, status=ProcessingJob.Status.RUNNING
        ).update(progress=value, heartbeat_at=timezone.now())
        if updated:
            self.job.progress = value
            broadcast(progress_message(self.job), job_groups(self.job))

    def run_ffmpeg(
        self, args: list[str], *, duration: float | None, span: tuple[float, float]
    ) -> FFmpegResult:
        """Run an FFmpeg argument list in this job's temp folder, its progress mapped onto
        `span` percent of the job, stopped within a quarter second of a cancel."""
        return run_ffmpeg(
            args,
            expected_duration=duration,
            on_progress=self.progress_callback(*span),
            should_cancel=self.should_cancel,
            cwd=self.tmp_dir,
        )

    def progress_callback(self, start: float, end: float) -> Callable[[float], None]:
        """A callback mapping an FFmpeg fraction 0–1 onto the range start–end percent."""

        def callback(fraction: float) -> None:
            self.progress(start + (end - start) * fraction)

        return callback


def job_groups(job: ProcessingJob) -> list[str]:
    groups = [user_group(job.owner_id)]
    if job.project_id:
        groups.append(project_group(job.project_id))
    return groups


def _message_fields(job: ProcessingJob) -> messages.JobFields:
    return {
        "job_id": job.pk,
        "job_type": job.job_type,
        "clip_id": job.clip_id,
        "project_id": job.project_id,
        "progress": float(job.progress),
        "status": job.status,
    }


def progress_message(job: ProcessingJob) -> dict[str, Any]:
    return messages.processing_progress(_message_fields(job))


def finished_message(job: ProcessingJob) -> dict[str, Any]:
    if job.status == ProcessingJob.Status.COMPLETED:
        return messages.processing_completed(_message_fields(job), output_data=job.output_data)
    return messages.processing_failed(_message_fields(job), error_message=job.error_message)


class _UserBusy(Exception):
    """The job's owner already runs JOB_MAX_RUNNING_PER_USER jobs: this one waits."""


def _owner_running(job_id: uuid.UUID | str, now: datetime) -> int | None:
    """How many live jobs the owner of `job_id` runs besides it (None: no such job). Locks the
    owner's row so two workers cannot both take the user's last free slot."""
    owner_id = ProcessingJob.objects.filter(pk=job_id).values_list("owner_id", flat=True).first()
    if owner_id is None:
        return None
    list(get_user_model().objects.select_for_update().filter(pk=owner_id).values_list("pk"))
    return (
        ProcessingJob.objects.filter(
            owner_id=owner_id,
            status=ProcessingJob.Status.RUNNING,
            heartbeat_at__gte=now - STALE_AFTER,
        )
        .exclude(pk=job_id)
        .count()
    )


def _claim(job_id: uuid.UUID | str) -> ProcessingJob | None:
    """Take the job (pending, or running on a dead worker) or return None; raise _UserBusy when
    its owner has no free slot, leaving the row as it was."""
    now = timezone.now()
    claimable = Q(status=ProcessingJob.Status.PENDING) | Q(
        status=ProcessingJob.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    )
    limit = settings.JOB_MAX_RUNNING_PER_USER
    with transaction.atomic():
        if limit > 0:
            running = _owner_running(job_id, now)
            if running is None:
                return None
            if running >= limit and ProcessingJob.objects.filter(claimable, pk=job_id).exists():
                raise _UserBusy
        claimed = ProcessingJob.objects.filter(claimable, pk=job_id).update(
            status=ProcessingJob.Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            progress=0,
            error_message="",
            developer_error="",
        )
    if not claimed:
        return None
    return ProcessingJob.objects.select_related("clip", "project", "owner").get(pk=job_id)


class _Heartbeat(threading.Thread):
    def __init__(self, job_id: uuid.UUID) -> None:
        super().__init__(daemon=True)
        self.job_id = job_id
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(HEARTBEAT_SECONDS):
                ProcessingJob.objects.filter(
                    pk=self.job_id, status=ProcessingJob.Status.RUNNING
                ).update(heartbeat_at=timezone.now())
        finally:
            # This thread's connection dies with it (close_old_connections would keep it for
            # CONN_MAX_AGE, holding a database session nobody will use again).
            connection.close()


def job_run(job_id: uuid.UUID | str, *, requeue: Requeue | None = None) -> ProcessingJob | None:
    """Run a job once; returns the finished row, or None when there was nothing to claim
    (already finished, cancelled, or running on a live worker). A deferred job comes back
    `pending` and is handed to `requeue` with its delay after commit; so does a job whose
    owner already runs JOB_MAX_RUNNING_PER_USER jobs (it is not started at all)."""
    try:
        job = _claim(job_id)
    except _UserBusy:
        # Not started, so nothing to undo: the message comes back later (the job stays pending).
        # Waiting jobs retry on a fixed delay, so among them the order is not strict.
        waiting = ProcessingJob.objects.get(pk=job_id)
        if requeue is not None:
            transaction.on_commit(lambda: requeue(waiting, settings.JOB_USER_WAIT_SECONDS))
        logger.info("job %s waits: its owner runs the most jobs allowed", job_id)
        return waiting
    if job is None:
        logger.info("job %s: nothing to claim", job_id)
        return None
    tmp_dir = Path(settings.PROCESSING_TMP_DIR) / f"job-{job.pk}"
    shutil.rmtree(tmp_dir, ignore_errors=True)  # leftovers of an attempt that died
    tmp_dir.mkdir(parents=True, exist_ok=True)
    ctx = JobContext(job, tmp_dir)
    heartbeat = _Heartbeat(job.pk)
    heartbeat.start()
    broadcast(progress_message(job), job_groups(job))
    outcome: dict[str, Any]
    verdict: Verdict | None = None
    try:
        output = job_type_of(job.job_type).handler(ctx)
        outcome = {"status": ProcessingJob.Status.COMPLETED, "output_data": output or {}}
    except JobHandedOff:
        heartbeat.stopped.set()
        heartbeat.join()  # its last beat must not land after the NULL below
        ProcessingJob.objects.filter(pk=job.pk, status=ProcessingJob.Status.RUNNING).update(
            heartbeat_at=None
        )
        shutil.rmtree(tmp_dir, ignore_errors=True)
        job.refresh_from_db()
        return job
    except (JobCancelled, FFmpegCancelled):
        outcome = {"status": ProcessingJob.Status.CANCELLED}
    except JobDeferred as exc:
        heartbeat.stopped.set()
        shutil.rmtree(tmp_dir, ignore_errors=True)
        return _defer(job, exc, requeue)
    except JobFailed as exc:
        outcome = {
            "status": ProcessingJob.Status.FAILED,
            "error_message": exc.user_message,
            "developer_error": exc.developer_detail,
        }
        verdict = exc.verdict
    except FFmpegError as exc:
        outcome = {
            "status": ProcessingJob.Status.FAILED,
            "error_message": "The video could not be processed. Try again, or upload the file "
            "again if it keeps failing.",
            "developer_error": f"{exc}\n{exc.stderr}",
        }
    except OSError as exc:
        outcome = {
            "status": ProcessingJob.Status.FAILED,
            "error_message": _os_error_message(exc),
            "developer_error": traceback.format_exc(),
        }
    except Exception:
        logger.exception("job %s (%s) crashed", job.pk, job.job_type)
        outcome = {
            "status": ProcessingJob.Status.FAILED,
            "error_message": "Something went wrong on our side while processing. Please try again.",
            "developer_error": traceback.format_exc(),
        }
    finally:
        heartbeat.stopped.set()
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return _finish(job, outcome, verdict)


def _os_error_message(exc: OSError) -> str:
    if exc.errno == 28:  # ENOSPC
        return (
            "The server ran out of temporary disk space while processing. Please try again later."
        )
    return "A file could not be read or written while processing. Please try again."


def _defer(job: ProcessingJob, exc: JobDeferred, requeue: Requeue | None) -> ProcessingJob:
    with transaction.atomic():
        # A cancel in between wins: only a job still running goes back to the queue.
        deferred = ProcessingJob.objects.filter(
            pk=job.pk, status=ProcessingJob.Status.RUNNING
        ).update(
            status=ProcessingJob.Status.PENDING,
            progress=0,
            heartbeat_at=None,
            error_message=exc.user_message,
        )
        job.refresh_from_db()
        if deferred:
            broadcast(progress_message(job), job_groups(job))
            if requeue is not None:
                transaction.on_commit(lambda: requeue(job, exc.delay_seconds))
    logger.info("job %s deferred for %s s: %s", job.pk, exc.delay_seconds, exc.user_message)
    return job


def _finish(job: ProcessingJob, outcome: dict[str, Any], verdict: Verdict | None) -> ProcessingJob:
    now = timezone.now()
    fields: dict[str, Any] = {"completed_at": now, **outcome}
    if outcome["status"] == ProcessingJob.Status.COMPLETED:
        fields["progress"] = Decimal("100")
    with transaction.atomic():
        if outcome["status"] == ProcessingJob.Status.CANCELLED:
            # The cancel service already set the status; only stamp the time.
            ProcessingJob.objects.filter(pk=job.pk).update(completed_at=now)
        else:
            # Only a job still running is finished here: a cancel in between wins.
            ProcessingJob.objects.filter(pk=job.pk, status=ProcessingJob.Status.RUNNING).update(
                **fields
            )
        job.refresh_from_db()
        broadcast(finished_message(job), job_groups(job))
        # In the same transaction as the final status: nobody may see a completed export
        # whose project still says `exporting`, or a finished step whose clip lags behind.
        job_finished(job, verdict)
    return job


def job_finished(job: ProcessingJob, verdict: Verdict | None = None) -> None:
    """Tell the job type's finish hook, then every observer, that `job` finished. A failing hook
    never stops the others nor turns a finished job into a crashed worker message."""
    entry = _job_types.get(job.job_type)
    if entry is not None and entry.on_finish is not None:
        _call_in_savepoint(job, entry.on_finish, job, verdict)
    for observer in _observers:
        _call_in_savepoint(job, observer, job)


def job_finish(
    job_id: uuid.UUID | str,
    *,
    output_data: dict[str, Any] | None = None,
    failed: JobFailed | None = None,
    cancelled: bool = False,
) -> ProcessingJob:
    """Finish a handed-off job (see JobHandedOff) from wherever its last part ran: completed
    with `output_data`, failed with `failed`'s messages, or, after a cancel, only stamped and
    its hooks run. The caller makes sure it is called once per job."""
    job = ProcessingJob.objects.select_related("clip", "project", "owner").get(pk=job_id)
    outcome: dict[str, Any]
    if cancelled:
        outcome = {"status": ProcessingJob.Status.CANCELLED}
    elif failed is not None:
        outcome = {
            "status": ProcessingJob.Status.FAILED,
            "error_message": failed.user_message,
            "developer_error": failed.developer_detail,
        }
    else:
        outcome = {"status": ProcessingJob.Status.COMPLETED, "output_data": output_data or {}}
    return _finish(job, outcome, None)


def _call_in_savepoint(job: ProcessingJob, func: Callable[..., None], *args: Any) -> None:
    try:
        with transaction.atomic():  # a failing hook undoes only itself
            func(*args)
    except Exception:
        logger.exception("finish hook %s failed for job %s", func, job.pk)
