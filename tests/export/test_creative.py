"""Canvas, fit, sound, text, captions and transitions in the exported file, judged on what
FFmpeg decodes from it (timeline/rules.py says what each field means)."""

from __future__ import annotations

import itertools
import math
import re
import subprocess
from fractions import Fraction

import pytest
import requests
from django.test import Client

from exports.models import ExportRun
from tests.export.conftest import (
    counted_frames,
    export,
    ffmpeg,
    frame_pixels,
    lay_out,
    mean_luma,
    output_path,
    probe,
    psnr,
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


def _region(path, index: int, crop: str) -> list[tuple[int, int, int]]:
    """The RGB pixels of a crop w:h:x:y of frame `index` (at its own size)."""
    width, height = (int(v) for v in crop.split(":")[:2])
    data = frame_pixels(path, index, size=f"{width}x{height}", crop=crop)
    return [tuple(data[i : i + 3]) for i in range(0, len(data), 3)]  # type: ignore[misc]


def _white(pixels) -> int:
    return sum(1 for r, g, b in pixels if min(r, g, b) > 200)


def _red(pixels) -> int:
    return sum(1 for r, g, b in pixels if r > 150 and g < 80 and b < 80)


def test_text_is_drawn_where_placed_and_only_while_its_segment_lasts(project, clip_of, sources):
    clip = clip_of(sources.video(seconds=1))
    title = {"content": "HELLO", "size": 200, "color": "#FFFFFF", "background": "#FF0000",
             "x": 0.25, "y": 0.25, "align": "center", "font": "inter-bold"}  # fmt: skip
    lay_out(
        project,
        [
            {"clip": clip, "start": 0, "duration": "0.5"},
            {"layer": "text", "start": 1, "duration": 1, "text": title},
            {"clip": clip, "start": "2.5", "duration": "0.5"},
        ],
    )

    out = output_path(export(project, preset="source"))  # 320x180 over black gaps

    # Size 200 at 1080 is 33 px at 180; centred on (80, 45), on a red box padded by a quarter.
    around = "140:60:10:15"
    shown = _region(out, 45, around)
    assert _white(shown) > 150, _white(shown)
    assert _red(shown) > 300, _red(shown)
    assert _white(_region(out, 45, "120:80:190:90")) == 0  # nothing elsewhere
    assert not _red(_region(out, 45, "120:80:190:90"))
    for before_or_after in (25, 29, 60, 70):
        pixels = _region(out, before_or_after, around)
        assert _white(pixels) == 0 and _red(pixels) == 0, before_or_after
    assert _white(_region(out, 30, around)) > 150  # from its very first frame (1.0 s)
    assert _white(_region(out, 59, around)) > 150  # to its last


def test_text_fades_in_by_opacity(project, clip_of, sources):
    clip = clip_of(sources.video(seconds=1))
    title = {"content": "HELLO", "size": 300, "color": "#FFFFFF", "x": 0.5, "y": 0.5}
    lay_out(
        project,
        [
            {"clip": clip, "start": 0, "duration": "0.5"},
            {"layer": "text", "start": 1, "duration": 2, "text": title, "fade_in": 1},
        ],
    )

    out = output_path(export(project, preset="source"))

    middle = "200:80:60:50"
    brightest = [max(sum(p) / 3 for p in _region(out, index, middle)) for index in (30, 45, 75)]
    assert brightest[0] < 20  # its first frame: opacity 0
    assert 90 < brightest[1] < 170  # half way
    assert brightest[2] > 230


def _caption_timeline(project, clip) -> None:
    lay_out(
        project,
        [
            {"clip": clip, "start": 0, "duration": "0.5"},
            {"layer": "caption", "start": 1, "duration": 1,
             "text": {"content": "Hello there", "size": 120, "background": None}},
            {"clip": clip, "start": "2.5", "duration": "0.5"},
        ],
    )  # fmt: skip


def test_captions_are_burnt_in_when_asked(project, clip_of, sources):
    _caption_timeline(project, clip_of(sources.video(seconds=1)))

    burnt = output_path(export(project, preset="source", captions="burn"))

    lower = "300:40:10:140"  # around y = 0.88 of 180
    assert _white(_region(burnt, 45, lower)) > 100
    assert _white(_region(burnt, 20, lower)) == 0
    assert _white(_region(burnt, 65, lower)) == 0


def test_sidecar_captions_are_stored_beside_the_export_and_linked(api, project, clip_of, sources):
    _caption_timeline(project, clip_of(sources.video(seconds=1)))

    job = export(project, preset="source", captions="sidecar")

    out = output_path(job)
    assert _white(_region(out, 45, "300:40:10:140")) == 0  # not in the picture
    shown = api.get(f"/api/process/status/{job.pk}").json()["output_data"]
    srt = _fetched(shown["captions_url"])
    assert srt.body.decode() == "1\n00:00:01,000 --> 00:00:02,000\nHello there\n"
    assert 'filename="Export me.srt"' in srt.disposition
    vtt = _fetched(shown["captions_vtt_url"])
    assert vtt.body.decode().startswith("WEBVTT\n")
    assert "00:00:01.000 --> 00:00:02.000\nHello there" in vtt.body.decode()
    # The export itself downloads under the project's name.
    video = _fetched(shown["download_url"])
    assert 'filename="Export me.mp4"' in video.disposition


class _Fetched:
    def __init__(self, body: bytes, disposition: str) -> None:
        self.body = body
        self.disposition = disposition


def _fetched(url: str) -> _Fetched:
    """What a browser gets from a media link (the app's media view, or S3 in CI)."""
    if url.startswith("/"):
        response = Client().get(url)
        assert response.status_code == 200
        return _Fetched(b"".join(response.streaming_content), response["Content-Disposition"])
    fetched = requests.get(url, timeout=30)
    assert fetched.status_code == 200
    return _Fetched(fetched.content, fetched.headers.get("Content-Disposition", ""))


def _mix(a: bytes, b: bytes, weight: float) -> bytes:
    return bytes(round(weight * x + (1 - weight) * y) for x, y in zip(a, b, strict=True))


def test_a_crossfade_is_centred_on_the_cut_and_its_middle_frame_a_blend(project, clip_of, sources):
    a_path = sources.video(seconds=3, tone=300, volume_db=-20)
    b_path = sources.video(seconds=4, tone=4000, volume_db=-20, extra=("-vf", "negate"), tag="n")
    a, b = clip_of(a_path, "A"), clip_of(b_path, "B")
    lay_out(
        project,
        [
            {"clip": a, "start": 0, "duration": 2},
            {"clip": b, "start": 2, "source_start": 2, "duration": 2,
             "transition": {"type": "crossfade", "duration": 1}},
        ],
    )  # fmt: skip

    job = export(project, preset="source")

    out = output_path(job)
    assert counted_frames(out) == 120  # the timeline's length does not change
    size = "160x90"
    # The window is 1.5 s … 2.5 s (frames 45 … 74): before it A alone, after it B alone.
    assert psnr(frame_pixels(out, 44, size=size), frame_pixels(a_path, 44, size=size)) > 30
    assert psnr(frame_pixels(out, 75, size=size), frame_pixels(b_path, 75, size=size)) > 30
    # Its middle (2.0 s, the cut): half A's frame 60 (beyond A's out point), half B's.
    middle = frame_pixels(out, 60, size=size)
    a60, b60 = frame_pixels(a_path, 60, size=size), frame_pixels(b_path, 60, size=size)
    blended = psnr(middle, _mix(a60, b60, 0.5))
    assert blended > 28, blended
    assert blended > psnr(middle, a60) + 10 and blended > psnr(middle, b60) + 10
    # The sound crossfades with it: B's 4 kHz is silent before the window, about half
    # (-6 dB) at the cut and whole after it.
    assert level(out, start=1.0, length=0.4, highpass=2000) < -60
    whole = level(out, start=3.0, length=0.5, highpass=2000)
    at_cut = level(out, start=1.98, length=0.04, highpass=2000)
    assert abs((whole - at_cut) - 6.02) <= 1.5, (whole, at_cut)


def test_a_dip_to_black_goes_through_black_and_holds_a_source_that_ends(project, clip_of, sources):
    short = clip_of(sources.video(seconds=1, tag="short"), "short")  # no frames after 1 s
    other = clip_of(sources.video(seconds=2, tone=660, tag="other"), "other")
    lay_out(
        project,
        [
            {"clip": short, "start": 0, "duration": 1},
            {"clip": other, "start": 1, "duration": 1,
             "transition": {"type": "dip_to_black", "duration": 0.6}},
        ],
    )  # fmt: skip

    out = output_path(export(project, preset="source"))

    assert counted_frames(out) == 60
    # The window is frames 21 … 38 (0.7 s … 1.3 s); FFmpeg's fadeblack is darkest in its
    # first half, the short clip's last frame held there.
    window = [mean_luma(out, index) for index in range(21, 39)]
    assert min(window) < 20, window
    assert mean_luma(out, 20) > 60 and mean_luma(out, 40) > 60


def test_chunks_never_split_a_transition_window():
    from exports import plan as p
    from exports.chunking import Sizing, chunk_bounds

    source = p.Source("a", Fraction(30), True, Fraction(600), 1920, 1080, audio_rate=48000)
    cuts = [
        p.Cut("a", "video", Fraction(i * 3), Fraction(i), Fraction(3),
              transition=("crossfade", Fraction(2)) if i else None)
        for i in range(40)
    ]  # fmt: skip
    plan = p.plan_export(cuts, {"a": source}, p.PRESETS["720p"])
    windows = [(x.first, x.end) for x in plan.pieces if x.into is not None]
    assert len(windows) == 39

    bounds = chunk_bounds(plan, Sizing(target=30, max_pieces=2), {})

    cuts_at = {first for first, _ in bounds}
    assert not [w for w in windows for c in cuts_at if w[0] < c < w[1]]


@pytest.mark.parametrize(
    "change",
    [
        {"volume": Fraction(1, 2)},
        {"fade_in": Fraction(1, 2)},
        {"fit": "fill"},
        {"transition": ("wipe", Fraction(1, 2))},
    ],
)
def test_a_changed_field_renames_only_the_chunks_it_touches(change):
    from dataclasses import replace

    from exports import plan as p
    from exports.chunking import Sizing, chunk_bounds, chunk_key, chunk_specs
    from processing.ffmpeg.export.chunk import Encoding

    sources = {
        f"s{i}": p.Source(f"s{i}", Fraction(30), True, Fraction(600), 640, 480, audio_rate=48000)
        for i in range(5)
    }
    cuts = [
        p.Cut(f"s{i % 5}", "video", Fraction(i), Fraction(i % 3), Fraction(1), fit="blur")
        for i in range(60)
    ]
    title = {"content": "Hi", "font": "inter", "size": 96, "color": "#FFFFFF",
             "background": None, "x": 0.5, "y": 0.5, "align": "center"}  # fmt: skip
    cuts.append(p.Cut("", "text", Fraction(5), Fraction(0), Fraction(2), text=title, key="t"))
    identities = {key: {"file": key} for key in sources}
    sizing = Sizing(target=90, max_pieces=4)

    def keys(cut_list: list[p.Cut]) -> list[tuple[str, int]]:
        plan = p.plan_export(cut_list, sources, p.PRESETS["720p"])
        return [
            (
                chunk_key(s, identities=identities, fmt="mp4", encoding=Encoding(), ffmpeg="x"),
                s.frames,
            )
            for s in chunk_specs(plan, chunk_bounds(plan, sizing, {}))
        ]

    before = keys(cuts)
    changed = list(cuts)
    changed[40] = replace(cuts[40], **change)
    after = keys(changed)

    known = {key for key, _ in before}
    renamed = sum(frames for key, frames in after if key not in known)
    assert 30 <= renamed <= 360, renamed  # the edited second's chunks, not the timeline's


def _still_clip(project, path, *, width: int, height: int):
    """A ready still-image clip as the ingest leaves one: duration null, its picture size."""
    from django.core.files import File
    from django.core.files.storage import default_storage

    from clips.models import Clip
    from clips.storage import clip_original_key

    clip = Clip.objects.create(
        project=project,
        owner=project.owner,
        name=path.stem,
        original_filename=path.name,
        file_size=path.stat().st_size,
        status=Clip.Status.READY,
        duration=None,
        resolution=f"{width}x{height}",
        metadata={"width": width, "height": height, "display_width": width,
                  "display_height": height, "has_audio": False},
    )  # fmt: skip
    key = clip_original_key(clip.pk)
    with open(path, "rb") as handle:
        clip.file_path = default_storage.save(key, File(handle, name=key))
    clip.save(update_fields=["file_path"])
    return clip


def test_a_still_image_shows_for_its_whole_segment_whatever_its_length(
    project, clip_of, sources, tmp_path
):
    logo = tmp_path / "logo.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=0xFF0000:s=160x160", "-frames:v", "1", str(logo))
    video = clip_of(sources.video(seconds=1))
    still = _still_clip(project, logo, width=160, height=160)
    lay_out(
        project,
        [
            {"clip": video, "start": 0, "duration": "0.5"},
            {"clip": still, "start": "0.5", "duration": "2.5", "fit": "fit"},
        ],
    )

    out = output_path(export(project, preset="source"))

    assert counted_frames(out) == 90
    for index in (15, 50, 89):
        pixels = _region(out, index, "100:100:110:40")  # the square's middle
        assert _red(pixels) == len(pixels), index
    assert _red(_region(out, 50, "60:180:0:0")) == 0  # bars beside the square


def test_every_feature_at_once_on_a_vertical_canvas_in_several_chunks(
    project, clip_of, sources, settings, tmp_path
):
    settings.EXPORT_CHUNK_SECONDS = 1
    project.settings = {**project.settings, "canvas": "9:16"}
    project.save(update_fields=["settings"])
    logo = tmp_path / "logo.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=0x2040FF:s=200x100", "-frames:v", "1", str(logo))
    wide = clip_of(sources.video(seconds=4, volume_db=-20), "wide")
    tall = clip_of(sources.video(size="180x320", seconds=4, tone=660, tag="tall"), "tall")
    music = clip_of(sources.video(seconds=6, tone=4000, tag="music"), "music")
    still = _still_clip(project, logo, width=200, height=100)
    lay_out(
        project,
        [
            {"clip": wide, "start": 0, "duration": 2, "fit": "blur", "fade_in": "0.5"},
            {"clip": tall, "start": 2, "duration": 2, "volume": "0.5",
             "transition": {"type": "slide", "duration": 0.6}},
            {"clip": still, "start": 4, "duration": 1, "fit": "fill",
             "transition": {"type": "wipe", "duration": 0.4}, "fade_out": "0.5"},
            {"clip": music, "start": 0, "duration": 5, "layer": "audio", "duck": True,
             "fade_out": 1},
            {"layer": "text", "start": "0.5", "duration": 3,
             "text": {"content": "Title\nsecond line", "background": "#00000080"},
             "fade_in": "0.3", "fade_out": "0.3"},
            {"layer": "caption", "start": 1, "duration": 2, "text": {"content": "Hello"}},
        ],
    )  # fmt: skip

    job = export(project, preset="720p", captions="burn")

    out = output_path(job)
    assert _size(out) == (720, 1280)
    assert counted_frames(out) == 150
    assert stream(probe(out), "audio")["duration_ts"] == 240_000  # 5 s to the sample
    assert job.output_data["chunks"]["count"] >= 3
    # The fill of the still: its blue over the whole frame, no bars.
    assert min(mean_luma(out, 140, crop=crop) for crop in ("720:100:0:0", "720:100:0:1180")) > 40
