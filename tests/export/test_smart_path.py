"""The smart path: video stream-copied when every cut allows it, still exactly the timeline."""

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


def test_it_copies_the_video_when_every_cut_is_on_a_keyframe(project, clip_of, sources, settings):
    # Same encoder settings (so the same codec parameters), keyframes every 0.5 s.
    a = sources.video(seconds=3, gop=15)
    b = sources.video(seconds=3, gop=15, tone=660, tag="b")
    clip_a, clip_b = clip_of(a, "A"), clip_of(b, "B")
    lay_out(
        project,
        [
            {"clip": clip_a, "start": 0, "source_start": "0.5", "duration": 1},
            {"clip": clip_b, "start": 1, "source_start": "1.0", "duration": "1.5"},
        ],
    )

    smart = export(project, preset="source")

    assert smart.output_data["path"] == "smart", smart.output_data["smart_path_refusal"]
    out = output_path(smart)
    info = probe(out)
    assert stream(info, "video")["codec_name"] == "h264"
    assert counted_frames(out) == 75
    assert abs(float(info["format"]["duration"]) - 2.5) <= 1 / 30
    for out_index, source, in_frame in ((0, a, 15), (30, b, 30)):
        best, scores = best_matching_source_frame(out, out_index, source, in_frame)
        assert best == in_frame, scores
    integrated, peak = loudness(out)
    assert abs(integrated - -14) <= 1 and peak <= -1.5, (integrated, peak)

    settings.EXPORT_SMART_PATH = False
    full = export(project, preset="source")

    assert full.output_data["path"] == "full"
    full_out = output_path(full)
    assert counted_frames(full_out) == counted_frames(out)
    assert (
        abs(float(probe(full_out)["format"]["duration"]) - float(info["format"]["duration"]))
        <= 1 / 30
    )


def test_it_re_encodes_when_an_in_point_falls_between_keyframes(project, clip_of, sources):
    clip = clip_of(sources.video(seconds=3, gop=15))
    lay_out(project, [{"clip": clip, "start": 0, "source_start": "0.6", "duration": 1}])

    job = export(project, preset="source")

    assert job.output_data["path"] == "full"
    assert "keyframe" in job.output_data["smart_path_refusal"]
    out = output_path(job)
    assert counted_frames(out) == 30
    best, scores = best_matching_source_frame(out, 0, sources.video(seconds=3, gop=15), 18)
    assert best == 18, scores


def test_it_re_encodes_when_the_timeline_has_a_gap(project, clip_of, sources):
    clip = clip_of(sources.video(seconds=3, gop=15))
    lay_out(project, [{"clip": clip, "start": "0.5", "source_start": "0.5", "duration": 1}])

    job = export(project, preset="source")

    assert job.output_data["path"] == "full"
    assert counted_frames(output_path(job)) == 45


def test_it_finds_keyframes_itself_when_the_clip_metadata_has_none(project, clip_of, sources):
    clip = clip_of(sources.video(seconds=3, gop=15))
    clip.metadata = {k: v for k, v in clip.metadata.items() if not k.startswith("keyframe")}
    clip.save(update_fields=["metadata"])
    lay_out(project, [{"clip": clip, "start": 0, "source_start": "1.5", "duration": "1.5"}])

    job = export(project, preset="source")

    assert job.output_data["path"] == "smart", job.output_data["smart_path_refusal"]
    assert counted_frames(output_path(job)) == 45
