"""Every FFmpeg and ffprobe command line the ingest builds opens its inputs safely: the file
protocol only, a demuxer allow-list, a pixel cap; ffmpeg never reads stdin."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from processing.ffmpeg import commands
from processing.ffmpeg.commands import fit_within, parse_loudnorm_json, scale_to_height
from processing.ffmpeg.runner import ffprobe_args
from processing.ffmpeg.safety import MAX_PIXELS, SOURCE_DEMUXERS, safe_input_args

SOURCE = Path("/tmp/job-x/source")
DEST = Path("/tmp/job-x/out.mp4")
MEASURED = {
    "input_i": -23.1,
    "input_tp": -4.2,
    "input_lra": 3.3,
    "input_thresh": -33.5,
    "target_offset": 0.4,
}

# One sample call per builder. A builder added to commands.py without a line here fails
# test_it_covers_every_builder, so no call site escapes the flag checks.
SAMPLE_CALLS: dict[str, Callable[[], list[str]]] = {
    "decode_check_args": lambda: commands.decode_check_args(SOURCE),
    "keyframes_probe_args": lambda: commands.keyframes_probe_args(SOURCE),
    "loudness_measure_args": lambda: commands.loudness_measure_args(
        SOURCE, target_lufs=-14, true_peak=-1.5
    ),
    "poster_args": lambda: commands.poster_args(SOURCE, DEST, at=0.2, width=320, height=240),
    "filmstrip_args": lambda: commands.filmstrip_args(
        SOURCE, DEST, interval=0.2, tiles=10, tile_width=214, tile_height=160
    ),
    "waveform_args": lambda: commands.waveform_args(SOURCE, DEST, width=1600, height=120),
    "transcode_args": lambda: commands.transcode_args(
        SOURCE, DEST, width=640, height=360, container="webm"
    ),
    "proxy_args": lambda: commands.proxy_args(SOURCE, DEST, width=640, height=360),
    "normalize_audio_args": lambda: commands.normalize_audio_args(
        SOURCE, DEST, measured=MEASURED, target_lufs=-14, true_peak=-1.5, container="mp4"
    ),
    "extract_args": lambda: commands.extract_args(
        SOURCE, DEST, start=1, duration=0.5, width=320, height=240
    ),
    "first_frame_probe_args": lambda: commands.first_frame_probe_args(SOURCE),
    "still_poster_args": lambda: commands.still_poster_args(SOURCE, DEST, width=640, height=360),
    "still_proxy_args": lambda: commands.still_proxy_args(
        SOURCE, DEST, width=640, height=360, image_format="png"
    ),
    "ffprobe_args": lambda: ffprobe_args(SOURCE),
}


def builders() -> list[str]:
    return sorted(
        name
        for name, func in inspect.getmembers(commands, inspect.isfunction)
        if name.endswith("_args") and func.__module__ == commands.__name__
    )


def assert_safe_inputs(args: list[str]) -> None:
    input_positions = [i for i, arg in enumerate(args) if arg == "-i"]
    assert input_positions, f"no input in {args}"
    previous = 0
    for position in input_positions:
        options = args[previous:position]
        assert options[options.index("-protocol_whitelist") + 1] == "file"
        demuxers = options[options.index("-format_whitelist") + 1].split(",")
        assert set(demuxers) <= set(SOURCE_DEMUXERS) | {"wav", "image2", "png_pipe", "jpeg_pipe"}
        assert "hls" not in demuxers and "concat" not in demuxers
        assert int(options[options.index("-max_pixels") + 1]) == MAX_PIXELS
        assert args[position + 1].startswith("file:/")
        previous = position + 1


def test_it_covers_every_builder() -> None:
    assert builders() == sorted(name for name in SAMPLE_CALLS if name != "ffprobe_args")


@pytest.mark.parametrize("name", sorted(SAMPLE_CALLS))
def test_it_opens_every_input_with_the_safety_flags(name: str) -> None:
    assert_safe_inputs(SAMPLE_CALLS[name]())


@pytest.mark.parametrize("name", sorted(n for n in SAMPLE_CALLS if n not in ("ffprobe_args",)))
def test_it_starts_every_ffmpeg_call_without_stdin_and_with_progress(name: str) -> None:
    args = SAMPLE_CALLS[name]()
    if "ffprobe" in Path(args[0]).name:
        assert "-show_entries" in args
        return
    assert "-nostdin" in args
    assert args[args.index("-progress") + 1] == "pipe:1"
    # Outputs are local files (or FFmpeg's null muxer), never a URL.
    assert args[-1] == "-" or args[-1].startswith("file:/")


def test_it_refuses_to_open_urls_or_option_like_names() -> None:
    for bad in ("http://127.0.0.1/x.m3u8", "-i", "concat:a|b", "pipe:0", "s3://bucket/key"):
        with pytest.raises(ValueError):
            safe_input_args(bad)


def test_it_maps_audio_optionally_so_silent_clips_transcode() -> None:
    args = commands.proxy_args(SOURCE, DEST, width=320, height=240)
    assert "0:a:0?" in args
    assert args[args.index("-movflags") + 1] == "+faststart"


def test_it_cuts_with_an_input_seek_and_reencodes_for_frame_accuracy() -> None:
    args = commands.extract_args(SOURCE, DEST, start=1.5, duration=0.5, width=320, height=240)
    assert args.index("-ss") < args.index("-i") < args.index("-t")
    assert args[args.index("-c:v") + 1] == "libx264"
    assert "copy" not in args


def test_it_applies_the_measured_values_in_the_second_loudnorm_pass() -> None:
    args = commands.normalize_audio_args(
        SOURCE, DEST, measured=MEASURED, target_lufs=-14, true_peak=-1.5, container="mp4"
    )
    audio_filter = args[args.index("-af") + 1]
    assert "I=-14:TP=-1.5" in audio_filter
    assert "measured_I=-23.1" in audio_filter and "linear=true" in audio_filter
    assert args[args.index("-c:v") + 1] == "copy"


@pytest.mark.parametrize(
    ("size", "box", "expected"),
    [
        ((1920, 1080), (1280, 720), (1280, 720)),
        ((1080, 1920), (1280, 720), (720, 1280)),
        ((320, 240), (1280, 720), (320, 240)),
        ((3840, 1600), (1280, 720), (1280, 532)),
        ((333, 251), (1280, 720), (332, 250)),
    ],
)
def test_it_fits_sizes_keeping_aspect_with_even_sides(
    size: tuple[int, int], box: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert fit_within(*size, max_long=box[0], max_short=box[1]) == expected


def test_it_never_scales_a_rendition_above_the_source() -> None:
    assert scale_to_height(320, 240, 1080) == (320, 240)
    assert scale_to_height(1920, 1080, 480) == (852, 480)


def test_it_reads_loudnorm_json_with_silence_as_none() -> None:
    stderr = (
        '[Parsed_loudnorm_0 @ 0x1] \n{\n\t"input_i" : "-inf",\n\t"input_tp" : "-4.20",\n'
        '\t"input_lra" : "0.00",\n\t"input_thresh" : "-70.00",\n'
        '\t"normalization_type" : "dynamic",\n\t"target_offset" : "0.00"\n}\n'
    )
    measured: dict[str, Any] = parse_loudnorm_json(stderr)
    assert measured["input_i"] is None
    assert measured["input_tp"] == -4.2
    assert measured["normalization_type"] == "dynamic"


def test_it_keeps_transparency_only_where_the_source_has_it() -> None:
    assert [commands.has_alpha(f) for f in ("rgba", "ya8", "yuva420p", "pal8")] == [True] * 4
    assert [commands.has_alpha(f) for f in ("rgb24", "yuvj420p", "gray", "yuv444p")] == [False] * 4
    png = commands.still_proxy_args(SOURCE, DEST, width=64, height=36, image_format="png")
    jpeg = commands.still_proxy_args(SOURCE, DEST, width=64, height=36, image_format="jpeg")
    assert png[png.index("-c:v") + 1] == "png" and "rgba" in png
    assert jpeg[jpeg.index("-c:v") + 1] == "mjpeg"
    assert png[png.index("-frames:v") + 1] == "1"
