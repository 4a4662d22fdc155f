"""The exported file, judged by ffprobe and FFmpeg filters: exactly the laid-out timeline."""

from __future__ import annotations

import pytest

from tests.export.conftest import (
    best_matching_source_frame,
    counted_frames,
    export,
    ffmpeg,
    lay_out,
    loudness,
    max_volume,
    mean_luma,
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


def test_it_letterboxes_portrait_and_4_3_sources_without_stretching(project, clip_of, sources):
    wide = clip_of(sources.video(size="320x180", seconds=2), "wide")
    portrait_path = sources.video(size="180x320", seconds=2)
    four_three_path = sources.video(size="240x180", seconds=2)
    portrait, four_three = clip_of(portrait_path, "portrait"), clip_of(four_three_path, "4:3")
    lay_out(
        project,
        [
            {"clip": wide, "start": 0, "duration": 1, "fit": "fit"},
            {"clip": portrait, "start": 1, "source_start": "0.5", "duration": 1, "fit": "fit"},
            {"clip": four_three, "start": 2, "source_start": "0.5", "duration": 1, "fit": "fit"},
        ],
    )

    job = export(project, preset="source")  # 320x180, from the first (wide) segment

    out = output_path(job)
    assert (stream(probe(out), "video")["width"], stream(probe(out), "video")["height"]) == (
        320,
        180,
    )
    # Portrait 180x320 fits as 100x180 in the middle: 110 px black bars left and right.
    assert mean_luma(out, 30, crop="100:180:0:0") < 20
    assert mean_luma(out, 30, crop="100:180:220:0") < 20
    assert mean_luma(out, 30, crop="100:180:110:0") > 60
    best, scores = best_matching_source_frame(
        out, 30, portrait_path, 15, size="50x90", crop="100:180:110:0"
    )
    assert best == 15 and scores[15] > 25, scores  # the whole picture, at its own proportions
    # 4:3 240x180 fits exactly in the height: 40 px bars.
    assert mean_luma(out, 60, crop="38:180:0:0") < 20
    assert mean_luma(out, 60, crop="38:180:282:0") < 20
    best, scores = best_matching_source_frame(
        out, 60, four_three_path, 15, size="120x90", crop="240:180:40:0"
    )
    assert best == 15 and scores[15] > 25, scores


def test_it_honours_the_rotation_of_a_phone_video(project, clip_of, sources, tmp_path):
    stored = sources.video(size="320x180", seconds=2)
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-i", str(stored), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated))
    wide = clip_of(sources.video(size="320x180", seconds=2, tag="w"), "wide")
    phone = clip_of(rotated, "phone")
    lay_out(
        project,
        [
            {"clip": wide, "start": 0, "duration": 1, "fit": "fit"},
            {"clip": phone, "start": 1, "duration": 1, "fit": "fit"},
        ],
    )

    out = output_path(export(project, preset="source"))

    # Shown upright (portrait) means pillarboxed, not squeezed into the full width.
    assert mean_luma(out, 40, crop="100:180:0:0") < 20
    assert mean_luma(out, 40, crop="100:180:110:0") > 60


def test_it_fills_gaps_with_black_and_silence(project, clip_of, sources):
    clip = clip_of(sources.video(seconds=3, volume_db=-20))
    lay_out(
        project,
        [
            {"clip": clip, "start": 0, "duration": 1},
            {"clip": clip, "start": 2, "source_start": 1, "duration": 1},
        ],
    )

    out = output_path(export(project, preset="source"))

    assert counted_frames(out) == 90
    assert mean_luma(out, 29) > 60
    for index in (30, 45, 59):
        assert mean_luma(out, index) < 3, index
    assert mean_luma(out, 60) > 60
    assert max_volume(out, start=1.1, length=0.8) < -60
    assert max_volume(out, start=0.2, length=0.6) > -20
    assert max_volume(out, start=2.2, length=0.6) > -20


def test_it_mixes_the_audio_layer_in_at_its_position(project, clip_of, sources):
    silent = clip_of(sources.video(seconds=3, tone=None), "silent picture")
    music = clip_of(sources.video(seconds=3, tone=880, volume_db=-24, tag="music"), "music")
    lay_out(
        project,
        [
            {"clip": silent, "start": 0, "duration": 3},
            {"clip": music, "start": "1.0", "source_start": "0.5", "duration": 1, "layer": "audio"},
        ],
    )

    out = output_path(export(project, preset="source"))

    audio = stream(probe(out), "audio")
    assert (audio["sample_rate"], audio["channels"]) == ("48000", 2)
    assert max_volume(out, start=0.1, length=0.8) < -60
    assert max_volume(out, start=1.1, length=0.8) > -20
    assert max_volume(out, start=2.2, length=0.7) < -60
    assert counted_frames(out) == 90


def test_it_exports_webm_with_vp9_and_opus(project, clip_of, sources):
    clip = clip_of(sources.video(seconds=2))
    lay_out(project, [{"clip": clip, "start": 0, "source_start": "0.5", "duration": "1.5"}])

    job = export(project, preset="source", fmt="webm")

    out = output_path(job)
    assert out.name.endswith(".webm")
    info = probe(out)
    assert stream(info, "video")["codec_name"] == "vp9"
    audio = stream(info, "audio")
    assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == ("opus", "48000", 2)
    assert counted_frames(out) == 45
    assert abs(float(info["format"]["duration"]) - 1.5) <= 1 / 30
    assert job.output_data["format"] == "webm"


def test_it_renders_1080p_as_youtube_asks(project, clip_of, sources, settings):
    settings.EXPORT_X264_PRESET = "veryfast"  # the production default: High profile tools
    clip = clip_of(sources.video(size="320x180", seconds=2))
    lay_out(project, [{"clip": clip, "start": 0, "source_start": "0.2", "duration": "1.2"}])

    job = export(project)  # the default preset is 1080p

    out = output_path(job)
    info = probe(out, "-show_entries", "packet=flags", "-select_streams", "v:0")
    video = info["streams"][0]
    assert (video["width"], video["height"], video["r_frame_rate"]) == (1920, 1080, "30/1")
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "High", "yuv420p")
    keyframes = [i for i, p in enumerate(info["packets"]) if "K" in p["flags"]]
    assert keyframes[:3] == [0, 15, 30]  # closed GOPs of half a second
    assert counted_frames(out) == 36
    assert job.output_data["resolution"] == "1920x1080"


def test_it_uses_the_first_segments_rate_for_the_source_preset(project, clip_of, sources):
    pal = sources.video(size="320x180", rate=25, seconds=2)
    ntsc = sources.video(size="320x180", rate=30, seconds=2, tag="n")
    first, second = clip_of(pal, "pal"), clip_of(ntsc, "ntsc")
    lay_out(
        project,
        [
            {"clip": first, "start": 0, "source_start": "0.4", "duration": 1},
            {"clip": second, "start": 1, "source_start": "0.5", "duration": "0.8"},
        ],
    )

    out = output_path(export(project, preset="source"))

    assert stream(probe(out), "video")["r_frame_rate"] == "25/1"
    assert counted_frames(out) == 45
    best, scores = best_matching_source_frame(out, 0, pal, 10)
    assert best == 10, scores


def test_it_normalises_to_minus_16_when_asked(project, clip_of, sources):
    clip = clip_of(sources.video(seconds=3, volume_db=-10, tag="loud"))
    lay_out(project, [{"clip": clip, "start": 0, "duration": 3}])

    job = export(project, preset="source", loudness_target=-16)

    integrated, peak = loudness(output_path(job))
    assert abs(integrated - -16) <= 1, integrated
    assert peak <= -1.5, peak
    assert job.output_data["loudness"]["target_lufs"] == -16


def test_it_limits_peaks_when_one_gain_cannot_reach_the_target(project, clip_of, sources):
    # A quiet tone with a loud click every 2 s: lifting it to -14 LUFS with one gain would
    # push the clicks far over the ceiling.
    clicks = sources.video(
        seconds=4,
        audio_expr="'0.05*sin(2*PI*440*t)+if(lt(mod(t\\,2)\\,0.001)\\,0.6\\,0)'",
        tag="clicks",
    )
    lay_out(project, [{"clip": clip_of(clicks), "start": 0, "duration": 4}])

    job = export(project, preset="source")

    assert job.output_data["loudness"]["mode"] == "dynamic"
    integrated, peak = loudness(output_path(job))
    assert abs(integrated - -14) <= 1, integrated
    assert peak <= -1.5, peak
