"""Exports rendered in chunks: any number of segments, long segments split with no seam in
picture or sound, and re-exports that reuse what an earlier export rendered."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage

from exports.models import ExportChunk, ExportRun
from exports.services import export_start
from processing.models import ProcessingJob
from tests.export.conftest import (
    best_matching_source_frame,
    counted_frames,
    export,
    export_workers,
    ffmpeg,
    lay_out,
    loudness,
    max_volume,
    output_path,
    probe,
    psnr_per_frame,
    sine_misfit,
    sound_samples,
    stream,
)
from tests.processing.conftest import job_finished

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_exports_150_segments(project, clip_of, sources, settings):
    clips = [
        clip_of(sources.video(size="160x90", seconds=4, tone=300 + 200 * i, tag=f"m{i}"), f"c{i}")
        for i in range(3)
    ]
    lay_out(
        project,
        [
            {
                "clip": clips[i % 3],
                "start": Decimal(i) / 5,
                "source_start": Decimal(i % 10) / 5,
                "duration": Decimal("0.2"),
            }
            for i in range(150)
        ],
    )

    seen: list[float] = []
    with export_workers():
        job = export_start(user=project.owner, project=project, preset="source")
        while not job_finished(job)():
            seen.append(float(job.progress))
            time.sleep(0.02)

    assert job.status == ProcessingJob.Status.COMPLETED, job.developer_error[-3000:]
    # One progress number over all chunks, never going back.
    assert seen == sorted(seen) and float(job.progress) == 100
    # It moves as chunks finish: more than one step between planning and the mux (how many
    # this poll catches depends on how fast the chunks render).
    assert len({round(p) for p in seen if 2 < p < 90}) >= 2
    out = output_path(job)
    info = probe(out)
    assert counted_frames(out) == 900  # 30 s at 30 fps
    assert abs(float(info["format"]["duration"]) - 30) <= 1 / 30
    assert abs(float(stream(info, "audio")["duration"]) - 30) <= 0.03
    assert job.output_data["chunks"]["count"] >= 150 // settings.EXPORT_CHUNK_MAX_PIECES
    for index in (0, 77, 149):  # each segment's first frame is its in-point
        in_frame = 6 * (index % 10)
        source = sources.video(
            size="160x90", seconds=4, tone=300 + 200 * (index % 3), tag=f"m{index % 3}"
        )
        best, scores = best_matching_source_frame(out, 6 * index, source, in_frame, size="160x90")
        assert best == in_frame, (index, scores)
    assert max_volume(out, start=10, length=10) > -30


def test_a_long_segment_split_into_chunks_has_no_seam(project, clip_of, sources, settings):
    settings.EXPORT_CHUNK_SECONDS = 1
    # A 1 kHz tone recorded at 44.1 kHz: every chunk resamples its own stretch of it.
    source = sources.video(size="320x180", seconds=12, tone=1000, volume_db=-20, tag="long")
    lay_out(project, [{"clip": clip_of(source), "start": 0, "source_start": "1.1", "duration": 10}])

    job = export(project, preset="source")

    out = output_path(job)
    assert job.output_data["chunks"]["count"] >= 8
    # Every output frame is the next source frame (33, 34, … 332): none repeated or dropped.
    scores = psnr_per_frame(out, source, first=33, frames=300)
    assert len(scores) == 300
    assert min(scores) > 32, [(i, round(s, 1)) for i, s in enumerate(scores) if s <= 32]
    # The sound is one steady sine across every chunk boundary: no gap, no click, no shift.
    run = ExportRun.objects.get(pk=job.pk)
    parts = run.parts.select_related("chunk").order_by("index")
    boundaries, sample = [], 0
    for part in parts:
        sample += part.chunk.samples
        boundaries.append(sample)
    assert stream(probe(out), "audio")["duration_ts"] == 480_000  # 10 s to the sample
    samples = sound_samples(out)
    for boundary in boundaries[:-1]:
        misfit = sine_misfit(samples, frequency=1000, start=boundary - 480, length=960)
        assert misfit < 0.02, (boundary, misfit)
    assert sine_misfit(samples, frequency=1000, start=240_000, length=960) < 0.02


def test_an_incremental_re_export_equals_a_fresh_full_export(project, clip_of, sources):
    a = clip_of(sources.video(seconds=4, tone=440, tag="ia"), "A")
    b = clip_of(sources.video(seconds=4, tone=660, volume_db=-24, tag="ib"), "B")
    segments = [
        {"clip": (a, b)[i % 2], "start": i, "source_start": Decimal(i % 3) / 2, "duration": 1}
        for i in range(14)
    ]
    lay_out(project, segments)
    first = export(project, preset="source")
    segments[7] = {**segments[7], "source_start": "2.5"}
    lay_out(project, segments)

    again = export(project, preset="source")

    chunks = again.output_data["chunks"]
    assert chunks["reused"] >= 1 and chunks["rendered"] < chunks["distinct"], chunks
    assert again.output_data["storage_key"] != first.output_data["storage_key"]
    # A fresh export of the same timeline, with nothing cached.
    ExportRun.objects.all().delete()
    ExportChunk.objects.all().delete()
    fresh = export(project, preset="source")
    assert fresh.output_data["chunks"]["reused"] == 0
    incremental, full = output_path(again), output_path(fresh)
    assert counted_frames(incremental) == counted_frames(full) == 420
    assert probe(incremental)["format"]["duration"] == probe(full)["format"]["duration"]
    assert loudness(incremental) == loudness(full)
    assert frame_hashes(incremental) == frame_hashes(full)  # the very same packets


def frame_hashes(path) -> list[str]:
    out = ffmpeg("-i", str(path), "-map", "0", "-c", "copy", "-f", "framemd5", "-")
    return [line for line in out.stdout.decode().splitlines() if not line.startswith("#")]


def test_an_unchanged_timeline_returns_the_earlier_file_at_once(project, clip_of, sources):
    clip = clip_of(sources.video(seconds=3))
    lay_out(project, [{"clip": clip, "start": 0, "source_start": "0.5", "duration": 2}])
    first = export(project, preset="source")
    chunks = ExportChunk.objects.count()

    again = export(project, preset="source")

    assert again.status == ProcessingJob.Status.COMPLETED
    assert again.output_data["reused_from"] == str(first.pk)
    assert again.output_data["storage_key"] == first.output_data["storage_key"]
    assert again.output_data["download_endpoint"] == f"/api/process/export/{again.pk}/download"
    assert not ExportRun.objects.filter(pk=again.pk).exists()  # nothing was rendered
    assert ExportChunk.objects.count() == chunks
    assert default_storage.exists(again.output_data["storage_key"])
    different = export(project, preset="source", loudness_target=-16)
    assert "reused_from" not in different.output_data
    assert different.output_data["chunks"]["reused"] == different.output_data["chunks"]["distinct"]
