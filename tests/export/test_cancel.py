"""Cancelling a running export stops FFmpeg and leaves no partial file behind."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.db import connection

from processing.engine import job_run
from processing.export import export_start
from processing.models import ProcessingJob
from processing.services import job_cancel
from projects.models import Project
from projects.storage import export_prefix
from tests.export.conftest import lay_out
from tests.processing.conftest import ffmpeg_pids, wait_for


@pytest.mark.django_db(transaction=True)
def test_it_stops_ffmpeg_and_removes_partial_output(project, clip_of, sources, settings):
    settings.EXPORT_X264_PRESET = "medium"  # slow enough to be caught mid-render
    clip = clip_of(sources.video(seconds=4))
    lay_out(
        project,
        [{"clip": clip, "start": 3 * i, "source_start": "0.5", "duration": 3} for i in range(8)],
    )
    job = export_start(user=project.owner, project=project, preset="720p")

    def work() -> None:
        try:
            job_run(job.pk)
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    tmp_dir = Path(settings.PROCESSING_TMP_DIR) / f"job-{job.pk}"

    def rendering() -> bool:
        job.refresh_from_db()
        return job.progress >= 12 and (tmp_dir / "export.mp4").exists()

    wait_for(rendering, timeout=120, what="the render to start")
    job_cancel(job=job)
    worker.join(timeout=30)

    assert not worker.is_alive()
    job.refresh_from_db()
    assert job.status == ProcessingJob.Status.CANCELLED
    assert ffmpeg_pids(str(job.pk)) == []
    assert not tmp_dir.exists()
    prefix = export_prefix(project.pk).rstrip("/")
    assert not default_storage.exists(prefix) or default_storage.listdir(prefix) == ([], [])
    project.refresh_from_db()
    assert project.status == Project.Status.DRAFT
