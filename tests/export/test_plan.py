"""The export plan, its chunks and their command lines, read as data: frame and sample
arithmetic, where chunks are cut, safety flags on every input, the filter script. (What FFmpeg
makes of them is judged elsewhere.)"""

from __future__ import annotations

import dataclasses
import itertools
from fractions import Fraction
from pathlib import Path

import pytest

from exports import plan as p
from exports.chunking import Sizing, chunk_bounds, chunk_key, chunk_specs, plan_chunks
from exports.loudness import Loudness
from processing.ffmpeg.export import chunk as c
from processing.ffmpeg.export import graphs, mux
from processing.ffmpeg.safety import MAX_PIXELS, SOURCE_DEMUXERS

NTSC = Fraction(30000, 1001)


def source(key: str, fps: Fraction = Fraction(30), audio: bool = True) -> p.Source:
    return p.Source(key, fps, audio, Fraction(600), 1920, 1080, audio_rate=48000)


def cut(key: str, start: str, length: str, source_start: str = "0", layer: str = "video"):
    return p.Cut(key, layer, Fraction(start), Fraction(source_start), Fraction(length))


def test_it_lays_segments_and_gaps_on_the_frame_grid():
    sources = {"a": source("a"), "b": source("b")}
    plan = p.plan_export(
        [cut("a", "0.5", "1.2", "2.0"), cut("b", "2.0", "1.0")], sources, p.PRESETS["720p"]
    )

    assert plan.total_frames == 90
    assert [(x.first, x.frames, x.source) for x in plan.pieces] == [
        (0, 15, None),
        (15, 36, "a"),
        (51, 9, None),
        (60, 30, "b"),
    ]
    assert plan.total_samples == 144_000
    assert plan.has_gaps
    # The in-point frame (2.0 s = frame 60) is the segment's first; its input opens before it.
    assert plan.pieces[1].origin == Fraction(2)
    seek = c.picture_seek(c.Picture(36, "a", Fraction(2), 0, Fraction(30)), plan.rate, Fraction(0))
    assert Fraction(seek.seek_us, 1_000_000) < Fraction(2)


def test_it_keeps_audio_and_video_the_same_length_at_29_97():
    sources = {"a": source("a", NTSC)}
    cuts = [cut("a", str(Fraction(i, 3)), "0.333") for i in range(9)]
    plan = p.plan_export(cuts, sources, p.Preset("ntsc", 1920, 1080, NTSC))
    bounds = [(x.first, x.end) for x in plan.pieces]

    specs = chunk_specs(plan, bounds)

    for spec in specs:
        # Each chunk's samples match its frames to within one sample, and never drift.
        assert abs(spec.samples - spec.frames * 48000 / NTSC) < 1
        assert sum(s.samples for s in spec.sounds) == spec.samples
    assert sum(s.samples for s in specs) == p.sample_at(plan.total_frames, NTSC)


def test_it_treats_a_millisecond_in_point_as_the_frame_it_rounds_from():
    assert p.source_frame_index(Fraction("1.533"), Fraction(30)) == 46
    assert p.source_frame_index(Fraction("1.52"), Fraction(30)) == 45  # on screen at 1.52 s
    assert p.source_frame_index(Fraction("0"), Fraction(30)) == 0


def test_it_places_audio_layer_segments_by_sample_and_mixes_without_normalising(tmp_path):
    sources = {"v": source("v", audio=False), "m": source("m")}
    plan = p.plan_export(
        [cut("v", "0", "3"), cut("m", "1.25", "1", "4", layer="audio")],
        sources,
        p.PRESETS["720p"],
    )

    assert plan.overlays == (p.Overlay("m", Fraction(4), 60_000, 48_000, 48000),)
    (spec,) = chunk_specs(plan, [(0, 90)])
    local = {key: c.LocalSource(tmp_path / key) for key in ("v", "m")}
    graph = c.chunk_graph(spec, local, pictures=True)
    assert "adelay=delays=60000S:all=1" in graph
    assert "amix=inputs=2:duration=first:dropout_transition=0:normalize=0" in graph
    assert "anullsrc=r=48000:cl=stereo" in graph  # the silent clip's sound


def test_every_input_is_opened_with_the_safety_flags(tmp_path: Path):
    sources = {"a": source("a"), "b": source("b")}
    plan = p.plan_export([cut("a", "0", "1"), cut("b", "1", "1")], sources, p.PRESETS["1080p"])
    (spec,) = chunk_specs(plan, [(0, 60)])
    local = {key: c.LocalSource(tmp_path / key) for key in ("a", "b")}
    args = c.chunk_render_args(
        "ffmpeg",
        spec,
        local,
        graph_script=tmp_path / "g",
        picture_out=tmp_path / "p.ts",
        sound_out=tmp_path / "s.wv",
        fmt="mp4",
        encoding=c.Encoding(),
    )

    inputs = [i for i, arg in enumerate(args) if arg == "-i"]
    assert len(inputs) == 4  # each segment's picture and its sound
    for index in inputs:
        assert args[index - 6 : index] == [
            "-protocol_whitelist", "file",
            "-format_whitelist", ",".join(SOURCE_DEMUXERS),
            "-max_pixels", str(MAX_PIXELS),
        ]  # fmt: skip
        assert args[index + 1].startswith("file:")
    assert args[args.index("-filter_complex_script") + 1] == str(tmp_path / "g")
    for flag, value in (("-g", "15"), ("-bf", "2"), ("-flags", "+cgop"), ("-profile:v", "high")):
        assert args[args.index(flag) + 1] == value
    assert "-copyts" in args


def test_the_concat_list_only_names_our_own_parts():
    text = mux.concat_list([("p00000.ts", Fraction(1)), ("p00001.ts", Fraction(3, 2))])
    assert text.splitlines() == [
        "ffconcat version 1.0",
        "file 'p00000.ts'",
        "duration 1.000000",
        "file 'p00001.ts'",
        "duration 1.500000",
    ]
    with pytest.raises(ValueError):
        mux.concat_list([("../../etc/passwd", Fraction(1))])
    args = mux.concat_input_args(Path("/tmp/job/parts.ffconcat"), demuxer="wv")
    assert args[args.index("-safe") + 1] == "1"
    assert args[args.index("-protocol_whitelist") + 1] == "file"
    assert args[args.index("-format_whitelist") + 1] == "concat,wv"


def test_it_reads_the_ebur128_summary():
    stderr = """[Parsed_ebur128_0 @ 0x1] Summary:

  Integrated loudness:
    I:         -23.4 LUFS
    Threshold: -33.9 LUFS

  Loudness range:
    LRA:         5.2 LU
    Threshold: -44.0 LUFS
    LRA low:   -27.0 LUFS
    LRA high:  -21.8 LUFS

  True peak:
    Peak:      -13.1 dBFS
"""
    measured = mux.parse_ebur128(stderr)
    assert measured == {
        "input_i": -23.4,
        "input_thresh": -33.9,
        "input_lra": 5.2,
        "input_tp": -13.1,
    }
    linear = Loudness(-14, -1.5, measured)
    assert linear.linear
    assert graphs.gain_chain(gain_db=linear.gain_db, limit=linear.limit) == (
        "volume=9.40dB:precision=double,"
    )
    peaky = Loudness(-14, -1.5, {**measured, "input_tp": -1.0})
    assert not peaky.linear
    assert "alimiter" in graphs.gain_chain(gain_db=peaky.gain_db, limit=peaky.limit)
    silent = Loudness(-14, -1.5, {**measured, "input_i": -70.0, "input_tp": float("-inf")})
    assert silent.skip and silent.gain_db is None


# --- Chunks -------------------------------------------------------------------------------------

SIZING = Sizing(target=180, max_pieces=6)


def one_second_segments(count: int, *, changed: int | None = None) -> p.ExportPlan:
    sources = {f"s{i}": source(f"s{i}") for i in range(7)}
    cuts = [
        cut(f"s{i % 7}", str(i), "1", str(Fraction(i % 5, 2) + (1 if i == changed else 0)))
        for i in range(count)
    ]
    return p.plan_export(cuts, sources, p.PRESETS["720p"])


def test_it_cuts_short_segments_into_chunks_of_a_few_seconds_and_few_inputs():
    plan = one_second_segments(100)

    bounds = chunk_bounds(plan, SIZING, {})

    assert bounds[0][0] == 0 and bounds[-1][1] == plan.total_frames
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    lengths = [last - first for first, last in bounds]
    assert max(lengths) <= SIZING.longest
    assert all(length % 30 == 0 for length in lengths)  # on segment boundaries
    assert max(length // 30 for length in lengths) <= SIZING.max_pieces
    assert 8 <= len(bounds) <= 34


@pytest.mark.parametrize("changed", [3, 10, 50, 77, 98])
def test_an_edit_renames_only_the_chunks_around_the_edited_segment(changed):
    def chunks(plan: p.ExportPlan) -> list[tuple[str, int]]:
        identities = {f"s{i}": {"file": f"clips/s{i}/original"} for i in range(7)}
        return [
            (
                chunk_key(s, identities=identities, fmt="mp4", encoding=c.Encoding(), ffmpeg="x"),
                s.frames,
            )
            for s in chunk_specs(plan, chunk_bounds(plan, SIZING, {}))
        ]

    before = chunks(one_second_segments(100))
    after = chunks(one_second_segments(100, changed=changed))

    known = {key for key, _ in before}
    new_frames = sum(frames for key, frames in after if key not in known)
    assert 30 <= new_frames <= 600  # the edited second, and at most 20 % of the timeline


def test_it_splits_a_long_segment_every_few_seconds_on_source_keyframes():
    long_source = dataclasses.replace(
        source("a"), keyframes=tuple(Fraction(k, 2) for k in range(0, 1200, 1))
    )
    plan = p.plan_export([cut("a", "0", "60", "10.5")], {"a": long_source}, p.PRESETS["1080p"])

    specs = plan_chunks(plan, {"a": long_source})

    assert [s.frames for s in specs] == [180] * 10
    assert [s.pictures[0].offset for s in specs] == [180 * i for i in range(10)]
    skips = [s.sounds[0].skip for s in specs]
    assert skips == [288_000 * i for i in range(10)]
    assert sum(s.samples for s in specs) == plan.total_samples


def test_a_chunk_spec_names_only_what_it_uses():
    spec = c.ChunkSpec(1280, 720, Fraction(30), 30, 48000, (c.Picture(30),))
    described = spec.describe()

    # Defaults are left out, so a new optional field keeps existing chunk names.
    assert described == {
        "width": 1280,
        "height": 720,
        "rate": "30/1",
        "frames": 30,
        "samples": 48000,
        "pictures": [{"frames": 30}],
    }
    assert c.ChunkSpec.from_description(described) == spec
