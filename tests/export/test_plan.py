"""The export plan and its command lines, read as data: frame and sample arithmetic, safety
flags on every input, the filter script. (What FFmpeg makes of them is judged elsewhere.)"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from processing.ffmpeg import export as b
from processing.ffmpeg.safety import MAX_PIXELS, SOURCE_DEMUXERS

NTSC = Fraction(30000, 1001)


def source(key: str, fps: Fraction = Fraction(30), audio: bool = True) -> b.Source:
    return b.Source(key, fps, audio, Fraction(60), 1920, 1080)


def cut(key: str, start: str, length: str, source_start: str = "0", layer: str = "video"):
    return b.Cut(key, layer, Fraction(start), Fraction(source_start), Fraction(length))


def test_it_lays_segments_and_gaps_on_the_frame_grid():
    sources = {"a": source("a"), "b": source("b")}
    plan = b.plan_export(
        [cut("a", "0.5", "1.2", "2.0"), cut("b", "2.0", "1.0")], sources, b.PRESETS["720p"]
    )

    assert plan.total_frames == 90
    assert [(p.frames, p.input) for p in plan.pieces] == [(15, None), (36, 0), (9, None), (30, 1)]
    assert sum(p.samples for p in plan.pieces) == plan.total_samples == 144_000
    assert plan.has_gaps
    # The in-point frame (2.0 s = frame 60) is kept: the seek lands a hair before it.
    assert plan.inputs[0].seek == Fraction(1999, 1000)
    assert plan.pieces[1].audio_lead == Fraction(1, 1000)


def test_it_keeps_audio_and_video_the_same_length_at_29_97():
    sources = {"a": source("a", NTSC)}
    cuts = [cut("a", str(Fraction(i, 3)), "0.333") for i in range(9)]
    plan = b.plan_export(cuts, sources, b.Preset("ntsc", 1920, 1080, NTSC))

    for piece in plan.pieces:
        # Each piece's samples match its frames to within one sample, and never drift.
        assert abs(piece.samples - piece.frames * 48000 / NTSC) < 1
    assert sum(p.samples for p in plan.pieces) == b.sample_at(plan.total_frames, NTSC)


def test_it_treats_a_millisecond_in_point_as_the_frame_it_rounds_from():
    assert b.source_frame_index(Fraction("1.533"), Fraction(30)) == 46
    assert b.source_frame_index(Fraction("1.52"), Fraction(30)) == 45  # on screen at 1.52 s
    assert b.source_frame_index(Fraction("0"), Fraction(30)) == 0


def test_it_places_audio_layer_segments_by_sample_and_mixes_without_normalising():
    sources = {"v": source("v", audio=False), "m": source("m")}
    plan = b.plan_export(
        [cut("v", "0", "3"), cut("m", "1.25", "1", "4", layer="audio")],
        sources,
        b.PRESETS["720p"],
    )

    assert plan.overlays == (b.Overlay(input=1, delay_samples=60_000, samples=48_000),)
    graph = b.mix_graph(plan)
    assert "adelay=delays=60000S:all=1" in graph
    assert "amix=inputs=2:duration=first:dropout_transition=0:normalize=0" in graph
    assert "anullsrc=r=48000:cl=stereo" in graph  # the silent clip's sound


def test_every_input_is_opened_with_the_safety_flags(tmp_path: Path):
    sources = {"a": source("a"), "b": source("b")}
    plan = b.plan_export([cut("a", "0", "1"), cut("b", "1", "1")], sources, b.PRESETS["1080p"])
    paths = {"a": tmp_path / "a", "b": tmp_path / "b"}
    args = b.render_args(
        "ffmpeg",
        plan,
        paths,
        tmp_path / "g",
        tmp_path / "mix.wav",
        tmp_path / "o.mp4",
        fmt="mp4",
        encoding=b.Encoding(),
    )

    inputs = [i for i, arg in enumerate(args) if arg == "-i"]
    assert len(inputs) == 3  # two segments and the stored mix
    for index, demuxers in zip(inputs, [",".join(SOURCE_DEMUXERS)] * 2 + ["wav"], strict=True):
        assert args[index - 6 : index] == [
            "-protocol_whitelist", "file",
            "-format_whitelist", demuxers,
            "-max_pixels", str(MAX_PIXELS),
        ]  # fmt: skip
        assert args[index + 1].startswith("file:")
    assert args[args.index("-filter_complex_script") + 1] == str(tmp_path / "g")
    for flag, value in (("-g", "15"), ("-bf", "2"), ("-flags", "+cgop"), ("-profile:v", "high")):
        assert args[args.index(flag) + 1] == value
    assert args[args.index("-movflags") + 1] == "+faststart"


def test_the_concat_list_only_names_our_own_parts():
    text = b.concat_list([("part00000.ts", 30), ("part00001.ts", 45)], Fraction(30))
    assert text.splitlines() == [
        "ffconcat version 1.0",
        "file 'part00000.ts'",
        "duration 1.000000",
        "file 'part00001.ts'",
        "duration 1.500000",
    ]
    with pytest.raises(ValueError):
        b.concat_list([("../../etc/passwd", 1)], Fraction(30))
    args = b.concat_input_args(Path("/tmp/job/parts.ffconcat"))
    assert args[args.index("-safe") + 1] == "1"
    assert args[args.index("-protocol_whitelist") + 1] == "file"
    assert args[args.index("-format_whitelist") + 1] == "concat,mpegts"


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
    measured = b.parse_ebur128(stderr)
    assert measured == {
        "input_i": -23.4,
        "input_thresh": -33.9,
        "input_lra": 5.2,
        "input_tp": -13.1,
    }
    linear = b.Loudness(-14, -1.5, measured)
    assert linear.linear and linear.filter() == "volume=9.40dB:precision=double"
    peaky = b.Loudness(-14, -1.5, {**measured, "input_tp": -1.0})
    assert not peaky.linear and "alimiter" in peaky.filter()
    silent = b.Loudness(-14, -1.5, {**measured, "input_i": -70.0, "input_tp": float("-inf")})
    assert silent.skip
