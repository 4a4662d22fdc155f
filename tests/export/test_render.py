"""The exported file, judged by ffprobe and FFmpeg filters: exactly the laid-out timeline."""

from __future__ import annotations

import pytest

from tests.export.conftest import (
    best_matching_source_frame,
    counted_frames,
    export,
    lay_out,
    loudness,
    output_path,
    probe,
    stream,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_renders_segments_frame_exact_with_each_in_point_first(project, clip_of, sources):
    a = sources.video(seconds=4)
    b = sources.video(seconds=4, tone=660, tag="b")
    clip_a, clip_b = clip_of(a, "A"), clip_of(b, "B")
    # In-points 0.5 s (frame 15), 1.533 s (frame 46, stored to the millisecond) and 2.0 s.
    lay_out(
        project,
        [
            {"clip": clip_a, "start": 0, "source_start": "0.5", "duration": "1.2"},
            {"clip": clip_b, "start": "1.2", "source_start": "1.533", "duration": "0.9"},
            {"clip": clip_a, "start": "2.1", "source_start": "2.0", "duration": "1.0"},
        ],
    )

    job = export(project, preset="source")

    out = output_path(job)
    info = probe(out)
    video, audio = stream(info, "video"), stream(info, "audio")
    assert (video["width"], video["height"]) == (320, 180)
    assert video["r_frame_rate"] == "30/1"
    assert counted_frames(out) == 93  # 3.1 s at 30 fps
    assert abs(float(info["format"]["duration"]) - 3.1) <= 1 / 30
    assert (audio["sample_rate"], audio["channels"]) == ("48000", 2)
    for out_index, source, in_frame in ((0, a, 15), (36, b, 46), (63, a, 60)):
        best, scores = best_matching_source_frame(out, out_index, source, in_frame)
        assert best == in_frame, scores


def test_it_normalises_loudness_to_the_target(project, clip_of, sources):
    quiet = sources.video(seconds=3, volume_db=-32)
    clip = clip_of(quiet)
    lay_out(project, [{"clip": clip, "start": 0, "duration": 3}])

    job = export(project, preset="source")

    integrated, peak = loudness(output_path(job))
    assert abs(integrated - -14) <= 1, integrated
    assert peak <= -1.5, peak
