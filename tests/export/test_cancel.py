"""Cancelling a running export stops every chunk's FFmpeg and leaves no partial file behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from exports.models import ExportChunk, ExportRun
from exports.services import export_start
from processing.models import ProcessingJob
from processing.services import job_cancel
from projects.models import Project
from projects.storage import export_prefix
from tests.export.conftest import export_workers, lay_out
from tests.processing.conftest import ffmpeg_pids, wait_for


def stored_files(prefix: str) -> list[str]:
    prefix = prefix.rstrip("/")
    if not default_storage.exists(prefix):
        return []
    directories, files = default_storage.listdir(prefix)
    return files + [f for d in directories for f in stored_files(f"{prefix}/{d}")]


@pytest.mark.django_db(transaction=True)
def test_it_stops_every_chunk_and_removes_partial_output(project, clip_of, sources, settings):
    settings.EXPORT_X264_PRESET = "medium"  # slow enough to be caught mid-render
    clip = clip_of(sources.video(seconds=4))
    lay_out(
        project,
        [{"clip": clip, "start": 3 * i, "source_start": "0.5", "duration": 3} for i in range(8)],
    )
    tmp_root = Path(settings.PROCESSING_TMP_DIR)

    with export_workers():
        job = export_start(user=project.owner, project=project, preset="720p")

        def rendering() -> bool:
            job.refresh_from_db()
            return job.progress > 2 and bool(ffmpeg_pids(str(job.pk)))

        wait_for(rendering, timeout=120, what="chunks to render")
        job_cancel(job=job)

        def settled() -> bool:
            run = ExportRun.objects.filter(pk=job.pk).first()
            return run is not None and run.stage == ExportRun.Stage.CANCELLED

        wait_for(settled, timeout=30, what="the export to stop")
        wait_for(lambda: not ffmpeg_pids(str(job.pk)), timeout=10, what="FFmpeg to stop")

    job.refresh_from_db()
    assert job.status == ProcessingJob.Status.CANCELLED
    assert job.completed_at is not None
    assert ffmpeg_pids(str(job.pk)) == []
    assert not (tmp_root / f"job-{job.pk}").exists()
    assert not (tmp_root / f"export-{job.pk}").exists()
    assert stored_files(export_prefix(project.pk)) == []
    assert not ExportChunk.objects.filter(project=project).exists()
    project.refresh_from_db()
    assert project.status == Project.Status.DRAFT
