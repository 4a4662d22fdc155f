"""The end of an export: the chunks' sound measured as one timeline (EBU R128), then the
chunks' pictures joined by stream copy and muxed with the sound, normalised and encoded once.

The sound stays lossless until this one encode, so no chunk boundary can bring an AAC priming
gap or a click, and loudness normalisation and the true-peak ceiling see the whole timeline.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from processing.ffmpeg.export.chunk import Encoding
from processing.ffmpeg.export.graphs import SAMPLE_RATE, gain_chain, sound_end
from processing.ffmpeg.safety import base_ffmpeg_args

# Time bases of the chunk picture containers (MPEG-TS counts 90 kHz, Matroska milliseconds).
CONTAINER_TIME_BASE = {"mpegts": 90000, "matroska": 1000}


def concat_list(parts: Sequence[tuple[str, Fraction]]) -> str:
    """An ffconcat list of our own files (bare names, next to the list) with their exact
    durations in seconds, so the files are laid end to end."""
    lines = ["ffconcat version 1.0"]
    for name, seconds in parts:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ValueError(f"unexpected part name {name!r}")
        lines += [f"file '{name}'", f"duration {float(seconds):.6f}"]
    return "\n".join(lines) + "\n"


def concat_input_args(list_path: Path, *, demuxer: str = "mpegts") -> list[str]:
    """Open OUR generated concat list. The concat demuxer is otherwise never allowed: a list
    can name any file. This one is safe because we wrote it ourselves, it names only bare file
    names in the same private temp folder (`-safe 1` refuses anything else), the protocol is
    still file-only and the listed files may only be of the one format we wrote."""
    resolved = Path(list_path).resolve()
    return [
        "-f", "concat", "-safe", "1",
        "-protocol_whitelist", "file",
        "-format_whitelist", f"concat,{demuxer}",
        "-i", f"file:{resolved}",
    ]  # fmt: skip


def loudness_measure_args(binary: str, sound_list: Path) -> list[str]:
    """Loudness pass 1: the whole timeline's sound (the chunks' sound files one after the
    other) through ebur128, which prints its summary at info level."""
    return [
        *base_ffmpeg_args(binary, loglevel="info"),
        *concat_input_args(sound_list, demuxer="wv"),
        "-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-",
    ]  # fmt: skip


_NUMBER = r"(-?[\d.]+|-?inf)"
_EBUR128_SUMMARY = re.compile(
    r"Integrated loudness:\s+I:\s+" + _NUMBER + r" LUFS\s+Threshold:\s+" + _NUMBER
    + r" LUFS\s+Loudness range:\s+LRA:\s+" + _NUMBER + r" LU.*?True peak:\s+Peak:\s+"
    + _NUMBER + r" dBFS",
    re.S,
)  # fmt: skip


def parse_ebur128(stderr: str) -> dict[str, float]:
    """The summary ebur128 prints when it ends (the last one): integrated loudness, its gating
    threshold, loudness range and true peak. Silence reads as -inf (or -70 LUFS)."""
    matches = _EBUR128_SUMMARY.findall(stderr)
    if not matches:
        raise ValueError("ebur128 printed no summary")
    i, thresh, lra, tp = (float(v) for v in matches[-1])
    return {"input_i": i, "input_thresh": thresh, "input_lra": lra, "input_tp": tp}


def mux_graph(*, samples: int, gain_db: float | None, limit: float | None) -> str:
    """Loudness pass 2 on the joined sound: timestamps counted from the samples (the joined
    files' own are rounded to microseconds), the gain and limiter, exactly `samples` long."""
    gain = gain_chain(gain_db=gain_db, limit=limit)
    return f"[1:a]asetpts=N/SR/TB,{gain}{sound_end(label='aout', samples=samples)}\n"


def frame_grid_filter(rate: Fraction, picture_demuxer: str) -> str:
    """A bitstream filter putting every joined packet's timestamps back on the frame grid: the
    concat demuxer adds the listed durations, each rounded to a microsecond, so after many
    chunks the sum strays by a few ticks."""
    tick = Fraction(CONTAINER_TIME_BASE[picture_demuxer]) / rate
    step = f"{float(tick):.9f}"
    return f"setts=pts=round(PTS/{step})*{step}:dts=round(DTS/{step})*{step}"


def audio_codec_args(fmt: str, encoding: Encoding) -> list[str]:
    codec = ["-c:a", "libopus", "-b:a", encoding.opus_bitrate] if fmt == "webm" else [
        "-c:a", "aac", "-b:a", encoding.aac_bitrate,
    ]  # fmt: skip
    return [*codec, "-ar", str(SAMPLE_RATE), "-ac", "2"]


def container_args(fmt: str, rate: Fraction) -> list[str]:
    if fmt == "webm":
        return ["-f", "webm"]
    # A track time scale that holds every frame time exactly (and the 90 kHz of the parts).
    timescale = math.lcm(rate.numerator, 90000)
    return ["-video_track_timescale", str(timescale), "-f", "mp4", "-movflags", "+faststart"]


def mux_args(
    binary: str,
    *,
    picture_list: Path,
    picture_demuxer: str,
    sound_list: Path,
    graph_script: Path,
    output: Path,
    fmt: str,
    rate: Fraction,
    encoding: Encoding,
) -> list[str]:
    """The joined pictures (input 0, copied) and the joined sound (input 1, through the mux
    graph into the one audio encode) into the finished file."""
    return [
        *base_ffmpeg_args(binary),
        *concat_input_args(picture_list, demuxer=picture_demuxer),
        *concat_input_args(sound_list, demuxer="wv"),
        "-filter_complex_script", str(graph_script),
        "-map", "0:v:0", "-map", "[aout]",
        "-c:v", "copy", "-bsf:v", frame_grid_filter(rate, picture_demuxer),
        *audio_codec_args(fmt, encoding),
        "-map_metadata", "-1",
        *container_args(fmt, rate),
        f"file:{Path(output).resolve()}",
    ]  # fmt: skip
