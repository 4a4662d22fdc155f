"""Canvas, fit, sound, text, captions and transitions in the exported file, judged on what
FFmpeg decodes from it (timeline/rules.py says what each field means)."""

from __future__ import annotations

import pytest

from tests.export.conftest import (
    counted_frames,
    export,
    frame_pixels,
    lay_out,
    mean_luma,
    output_path,
    probe,
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
