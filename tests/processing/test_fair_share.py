"""One user cannot hold every worker: past JOB_MAX_RUNNING_PER_USER running jobs, that user's
next job waits (pending, re-sent later) while other users' jobs run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from clips.models import Clip
from processing.engine import job_run
from processing.models import ProcessingJob
from projects.models import Project
from tests.media import MediaFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_clamd")]


def _probe_job(clip: Clip, **fields: Any) -> ProcessingJob:
    return ProcessingJob.objects.create(
        owner=clip.owner, clip=clip, project=clip.project, job_type="probe", **fields
    )


def test_it_makes_a_users_extra_job_wait_while_another_users_job_runs(
    settings: Any,
    media: MediaFactory,
    stored_clip: Callable[..., Clip],
    other_user: Any,
) -> None:
    settings.JOB_MAX_RUNNING_PER_USER = 1
    settings.JOB_USER_WAIT_SECONDS = 7
    clip_a = stored_clip(media.normal())
    clip_b = stored_clip(media.normal(), name="b")
    clip_b.project = Project.objects.create(owner=other_user, name="B's")
    clip_b.owner = other_user
    clip_b.save()
    now = timezone.now()
    busy = _probe_job(clip_a, status="running", started_at=now, heartbeat_at=now, attempts=1)
    waiting = _probe_job(clip_a)
    other = _probe_job(clip_b)
    resent: list[tuple[str, float]] = []

    def requeue(job: ProcessingJob, delay: float) -> None:
        resent.append((str(job.pk), delay))

    job_run(waiting.pk, requeue=requeue)
    job_run(other.pk, requeue=requeue)

    waiting.refresh_from_db()
    other.refresh_from_db()
    assert (waiting.status, waiting.attempts, waiting.started_at) == ("pending", 0, None)
    assert resent == [(str(waiting.pk), 7)]
    assert other.status == "completed" and other.attempts == 1

    # Once A's running job is over, A's waiting job runs when its message comes back.
    ProcessingJob.objects.filter(pk=busy.pk).update(status="completed", completed_at=now)
    job_run(waiting.pk, requeue=requeue)

    waiting.refresh_from_db()
    assert waiting.status == "completed" and waiting.attempts == 1
    assert len(resent) == 1
