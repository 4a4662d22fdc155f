"""Canvas, fit, sound, text, captions and transitions in the exported file, judged on what
FFmpeg decodes from it (timeline/rules.py says what each field means)."""

from __future__ import annotations

import itertools
import math
import re
import subprocess

import pytest

from exports.models import ExportRun
from tests.export.conftest import (
    counted_frames,
    export,
    frame_pixels,
    lay_out,
    mean_luma,
    output_path,
    probe,
    sine_misfit,
    sound_samples,
    stream,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _size(path) -> tuple[int, int]:
    video = stream(probe(path), "video")
    return video["width"], video["height"]


@pytest.mark.parametrize(
    ("canvas", "preset", "size"),
    [
        ("9:16", "1080p", (1080, 1920)),
        ("1:1", "720p", (720, 720)),
        ("4:5", "720p", (720, 900)),
        ("16:9", "720p", (1280, 720)),
    ],
)
def test_the_preset_names_the_short_side_of_the_projects_canvas(
    project, clip_of, sources, canvas, preset, size
):
    project.settings = {**project.settings, "canvas": canvas}
    project.save(update_fields=["settings"])
    clip = clip_of(sources.video(seconds=1))
    lay_out(project, [{"clip": clip, "start": 0, "duration": "0.5"}])

    out = output_path(export(project, preset=preset))

    assert _size(out) == size
    assert counted_frames(out) == 15


def _column_luma(path, index: int, *, width: int, height: int, x: int, w: int) -> float:
    return mean_luma(path, index, crop=f"{w}:{height}:{x}:0")


def test_fill_leaves_no_bars_fit_leaves_black_bars_and_blur_a_blurred_backdrop(
    project, clip_of, sources
):
    # A 16:9 source on a 9:16 canvas: "fit" bars above and below, "fill" crops the sides.
    project.settings = {**project.settings, "canvas": "9:16"}
    project.save(update_fields=["settings"])
    clip = clip_of(sources.video(size="320x180", seconds=3))
    lay_out(
        project,
        [
            {"clip": clip, "start": 0, "duration": 1, "fit": "fit"},
            {"clip": clip, "start": 1, "source_start": 1, "duration": 1, "fit": "fill"},
            {"clip": clip, "start": 2, "source_start": 2, "duration": 1, "fit": "blur"},
        ],
    )

    out = output_path(export(project, preset="source"))  # short side 180: 180x320

    assert _size(out) == (180, 320)
    top, middle = "180:80:0:0", "180:100:0:110"
    # fit: 180x102 in the middle, black above and below.
    assert mean_luma(out, 15, crop=top) < 20
    assert mean_luma(out, 15, crop=middle) > 60
    # fill: picture everywhere, every row and column of the frame.
    filled = frame_pixels(out, 45, size="180x320")
    rows = [filled[r * 180 * 3 : (r + 1) * 180 * 3] for r in range(320)]
    assert min(sum(row) / len(row) for row in rows) > 30
    assert mean_luma(out, 45, crop=top) > 40
    # blur: the backdrop is the picture blurred, neither black nor sharp.
    assert mean_luma(out, 75, crop=top) > 30
    assert mean_luma(out, 75, crop=middle) > 60


def level(path, *, start: float, length: float, highpass: int | None = None) -> float:
    """Mean level (dBFS, volumedetect) of the sound between start and start+length,
    optionally of what lies above `highpass` Hz only (two steep passes)."""
    chain = f"highpass=f={highpass}:poles=2,highpass=f={highpass}:poles=2," if highpass else ""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-ss", f"{start}", "-t", f"{length}",
         "-i", str(path), "-map", "0:a:0", "-af", f"{chain}volumedetect", "-f", "null", "-"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    match = re.search(r"mean_volume: (-?[\d.]+|-inf) dB", out.stderr.decode(errors="replace"))
    return float(match.group(1)) if match else -math.inf


def test_a_half_volume_segment_is_6_db_quieter_and_a_muted_one_silent(project, clip_of, sources):
    clip = clip_of(sources.video(seconds=4, volume_db=-20))
    lay_out(
        project,
        [
            {"clip": clip, "start": 0, "duration": 1},
            {"clip": clip, "start": 1, "source_start": 1, "duration": 1, "volume": "0.5"},
            {"clip": clip, "start": 2, "source_start": 2, "duration": 1, "volume": 0},
            {"clip": clip, "start": 3, "source_start": 3, "duration": 1, "volume": 2},
        ],
    )

    out = output_path(export(project, preset="source"))

    full = level(out, start=0.2, length=0.6)
    half = level(out, start=1.2, length=0.6)
    double = level(out, start=3.2, length=0.6)
    assert abs((full - half) - 6.02) <= 0.5, (full, half)
    assert abs((double - full) - 6.02) <= 0.5, (full, double)
    assert level(out, start=2.1, length=0.8) < -80
    assert counted_frames(out) == 120


def test_fades_take_picture_and_sound_from_and_to_black_and_silence(project, clip_of, sources):
    clip = clip_of(sources.video(seconds=3, volume_db=-20))
    lay_out(
        project,
        [{"clip": clip, "start": 0, "duration": 3, "fade_in": 1, "fade_out": "0.5"}],
    )

    out = output_path(export(project, preset="source"))

    steady = mean_luma(out, 60)
    assert mean_luma(out, 0) < 20  # the first frame is black
    assert 0.35 < (mean_luma(out, 15) - 16) / (steady - 16) < 0.65  # half way up
    assert mean_luma(out, 89) < 30  # a frame before the end, almost black
    # Sound: linear ramps, so the first tenth is ~20 dB under the middle of the fade.
    middle = level(out, start=1.2, length=0.6)
    assert level(out, start=0.0, length=0.1) < middle - 15
    assert abs(level(out, start=0.45, length=0.1) - (middle - 6.02)) <= 1.5
    assert level(out, start=2.9, length=0.1) < middle - 15


def test_a_ducked_audio_segment_drops_12_db_under_video_sound(project, clip_of, sources):
    voice = clip_of(sources.video(seconds=2, tone=300, volume_db=-20), "voice")
    music = clip_of(sources.video(seconds=4, tone=4000, volume_db=-20, tag="music"), "music")
    lay_out(
        project,
        [
            {"clip": voice, "start": 0, "duration": 2},
            {"clip": music, "start": 0, "duration": 4, "layer": "audio", "duck": True},
        ],
    )

    out = output_path(export(project, preset="source"))

    # Only the music's 4 kHz: ducked under the voice (after the quarter-second ramp), full
    # after it (a quarter second after the voice ends).
    under = level(out, start=0.5, length=1.2, highpass=2000)
    free = level(out, start=2.5, length=1.2, highpass=2000)
    assert abs((free - under) - 12) <= 1, (under, free)


def test_fades_run_smoothly_across_chunk_boundaries(project, clip_of, sources, settings):
    settings.EXPORT_CHUNK_SECONDS = 1
    source = sources.video(size="320x180", seconds=9, tone=1000, volume_db=-20, tag="long")
    lay_out(
        project,
        [{"clip": clip_of(source), "start": 0, "duration": 8, "fade_in": 3, "fade_out": 3}],
    )

    job = export(project, preset="source")

    out = output_path(job)
    assert job.output_data["chunks"]["count"] >= 5
    assert counted_frames(out) == 240
    # Picture: the fade's brightness rises frame after frame, whichever chunk made it.
    lumas = [mean_luma(out, index) for index in range(0, 90, 6)]
    assert all(b >= a - 0.5 for a, b in itertools.pairwise(lumas)), lumas
    # Sound: divided by the planned linear envelope it is one steady sine, across every
    # chunk boundary (each chunk's share of the fade starts where the last one stopped).
    run = ExportRun.objects.get(pk=job.pk)
    boundaries, sample = [], 0
    for part in run.parts.select_related("chunk").order_by("index"):
        sample += part.chunk.samples
        boundaries.append(sample)
    samples = sound_samples(out)
    fade = 3 * 48000
    inside = [b for b in boundaries if 24_000 <= b <= fade - 480]
    assert inside, boundaries
    for boundary in inside:
        window = range(boundary - 480, boundary + 480)
        flat = [samples[i] * fade / i for i in window]
        misfit = sine_misfit(
            [0.0] * window.start + flat, frequency=1000, start=window.start, length=960
        )
        assert misfit < 0.03, (boundary, misfit)
