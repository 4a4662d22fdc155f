"""What keeps exports healthy over time: the disk check before rendering, the recovery sweep for
chunks whose worker died, and the sweep that removes cached chunks no timeline can use."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import dramatiq
import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from exports.models import ExportChunk, ExportRun
from exports.services import export_chunks_prune, export_start, exports_recover
from processing.engine import job_run
from processing.models import ProcessingJob
from projects.models import Project
from projects.storage import export_prefix
from tests.export.conftest import counted_frames, export, export_workers, lay_out, output_path
from tests.export.test_cancel import stored_files
from tests.processing.conftest import job_finished, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 2 MB tmpfs (the tests run as root, as the CI container does)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_it_fails_at_once_when_the_disk_cannot_hold_the_export(
    project, clip_of, sources, settings, small_disk
):
    settings.PROCESSING_TMP_DIR = small_disk
    clip = clip_of(sources.video(seconds=4))
    lay_out(project, [{"clip": clip, "start": 4 * i, "duration": 4} for i in range(5)])

    with export_workers():
        job = export_start(user=project.owner, project=project, preset="source")
        wait_for(job_finished(job), timeout=120, what="the export to fail")

    assert job.status == ProcessingJob.Status.FAILED
    assert "disk space" in job.error_message
    assert "MB" in job.error_message
    assert list(small_disk.iterdir()) == []
    assert not ExportRun.objects.exists()
    assert not ExportChunk.objects.exists()
    assert stored_files(export_prefix(project.pk)) == []
    project.refresh_from_db()
    assert project.status == Project.Status.DRAFT


def test_the_job_checks_the_timeline_limits_again(project, clip_of, sources, settings):
    clip = clip_of(sources.video(seconds=4))
    lay_out(project, [{"clip": clip, "start": i, "duration": 1} for i in range(3)])
    settings.TIMELINE_MAX_SEGMENTS = 2  # the timeline got in under an older limit

    with export_workers():
        job = export_start(user=project.owner, project=project, preset="source")
        wait_for(job_finished(job), timeout=60, what="the export to fail")

    assert job.status == ProcessingJob.Status.FAILED
    assert "3 segments" in job.error_message and "at most 2" in job.error_message
    assert not ExportRun.objects.exists()


def test_a_chunk_whose_worker_died_is_rendered_again_by_the_recovery_sweep(
    project, clip_of, sources, settings
):
    clip = clip_of(sources.video(seconds=4))
    lay_out(
        project,
        [{"clip": clip, "start": 3 * i, "source_start": i / 4, "duration": 3} for i in range(4)],
    )
    job = export_start(user=project.owner, project=project, preset="source")
    job_run(job.pk)  # the plan step, here; then its chunk messages get lost with the broker
    dramatiq.get_broker().flush_all()
    chunks = ExportChunk.objects.filter(parts__run_id=job.pk).distinct()
    assert chunks.count() >= 2
    dead = chunks.first()
    long_ago = timezone.now() - timedelta(hours=1)
    ExportChunk.objects.filter(pk=dead.pk).update(
        status=ExportChunk.Status.RENDERING, heartbeat_at=long_ago, attempts=1
    )
    chunks.exclude(pk=dead.pk).update(last_used_at=long_ago)  # queued for an hour: lost

    with export_workers():
        sent = exports_recover()
        wait_for(job_finished(job), timeout=120, what="the export")

    assert sent["chunks"] == chunks.count()
    job.refresh_from_db()
    assert job.status == ProcessingJob.Status.COMPLETED, job.developer_error[-3000:]
    assert counted_frames(output_path(job)) == 360
    assert ExportChunk.objects.get(pk=dead.pk).attempts == 2


def test_it_prunes_cached_chunks_no_timeline_can_use(project, clip_of, sources):
    clip = clip_of(sources.video(seconds=4))
    segments = [
        {"clip": clip, "start": 3 * i, "source_start": i / 4, "duration": 3} for i in range(4)
    ]
    lay_out(project, segments)
    first = export(project, preset="source")
    lay_out(project, [*segments[:3], {**segments[3], "source_start": "1"}])
    second = export(project, preset="source")
    keys = set(ExportChunk.objects.values_list("key", flat=True))
    used = set(ExportRun.objects.get(pk=second.pk).parts.values_list("chunk_id", flat=True))
    unused = keys - used
    assert unused, "the edit left a chunk behind"
    gone = ExportChunk.objects.filter(key__in=unused)
    files = [key for chunk in gone for key in (chunk.picture_key, chunk.sound_key)]

    assert export_chunks_prune() == 0  # used within the grace period
    removed = export_chunks_prune(grace=timedelta(0))

    assert removed == len(unused)
    assert set(ExportChunk.objects.values_list("key", flat=True)) == used
    assert not any(default_storage.exists(key) for key in files)
    assert default_storage.exists(first.output_data["storage_key"])  # exports stay
    again = export(project, preset="source")
    assert again.output_data["reused_from"] == str(second.pk)


def test_a_cached_chunk_whose_file_vanished_is_rendered_again(project, clip_of, sources):
    clip = clip_of(sources.video(seconds=4))
    lay_out(
        project,
        [{"clip": clip, "start": 3 * i, "source_start": i / 4, "duration": 3} for i in range(3)],
    )
    export(project, preset="source")
    lost = ExportChunk.objects.order_by("key").first()
    default_storage.delete(lost.picture_key)

    again = export(project, preset="source", loudness_target=-16)  # same chunks, new mux

    assert again.output_data["chunks"]["rendered"] == 1
    assert counted_frames(output_path(again)) == 270
    assert default_storage.exists(ExportChunk.objects.get(pk=lost.pk).picture_key)
