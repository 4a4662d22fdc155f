"""Pure builders for exporting a timeline: the plan, the filter graph and the command lines.

Everything is counted in output frames and audio samples so the result is exactly the laid-out
timeline: a segment from `start` to `end` covers output frames round(start·R) … round(end·R) and
samples round(f·48000/R) of those frame boundaries, so video and audio of every piece have the
same length and rounding never accumulates.

Each segment is one FFmpeg input opened with the safe input flags and accurate input seeking
(`-ss` before `-i`, FFmpeg decodes from the previous keyframe and drops the frames before the
seek point), so a source is never decoded from its start. The seek point is a hair (≤ 1 ms)
before the in-point frame's timestamp: that frame survives, its predecessor does not, and the
audio drops the same hair so picture and sound stay in sync to the sample.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from processing.ffmpeg.safety import base_ffmpeg_args, safe_input_args

SAMPLE_RATE = 48000
# Segment times are stored to the millisecond: an in-point within half a millisecond of a
# frame's start means that frame (1.533 s at 30 fps is frame 46, which starts at 1.5333… s).
IN_POINT_TOLERANCE = Fraction(1, 2000)
SEEK_HAIR = Fraction(1, 1000)
# Whole-timeline loudness is only measured above this; quieter means silence, left alone.
SILENCE_LUFS = -70.0
# AAC and Opus overshoot true peak a little when encoding; aim below the promised ceiling.
CODEC_TRUE_PEAK_HEADROOM = 0.5


@dataclass(frozen=True)
class Preset:
    name: str
    width: int
    height: int
    rate: Fraction

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"


PRESETS = {
    "1080p": Preset("1080p", 1920, 1080, Fraction(30)),
    "720p": Preset("720p", 1280, 720, Fraction(30)),
}
SOURCE_PRESET = "source"
PRESET_NAMES = (*PRESETS, SOURCE_PRESET)
DEFAULT_PRESET = "1080p"
FORMATS = ("mp4", "webm")
DEFAULT_FORMAT = "mp4"


@dataclass(frozen=True)
class Source:
    """What the export needs to know of one clip's media (from its probed metadata)."""

    key: str
    fps: Fraction
    has_audio: bool
    duration: Fraction
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class Cut:
    """One timeline segment, in seconds (exact fractions of the stored decimals)."""

    source: str
    layer: str
    start: Fraction
    source_start: Fraction
    duration: Fraction
    name: str = ""

    @property
    def end(self) -> Fraction:
        return self.start + self.duration


@dataclass(frozen=True)
class Input:
    """One FFmpeg input: a span of a source file opened with `-ss seek -t length`."""

    source: str
    seek: Fraction
    length: Fraction


@dataclass(frozen=True)
class Piece:
    """A stretch of the video track: a segment (`input` set) or a gap (black and silence)."""

    frames: int
    samples: int
    input: int | None = None
    has_audio: bool = False
    # Audio decoded before the in-point frame (the seek hair) that is dropped.
    audio_lead: Fraction = Fraction(0)
    # For the smart path: the in-point frame's time in the source and its rate.
    source_time: Fraction = Fraction(0)
    source_fps: Fraction = Fraction(0)


@dataclass(frozen=True)
class Overlay:
    """An `audio`-layer segment mixed in at a sample position."""

    input: int
    delay_samples: int
    samples: int


@dataclass(frozen=True)
class ExportPlan:
    width: int
    height: int
    rate: Fraction
    total_frames: int
    inputs: tuple[Input, ...]
    pieces: tuple[Piece, ...]
    overlays: tuple[Overlay, ...] = field(default=())

    @property
    def duration(self) -> float:
        return float(self.total_frames / self.rate)

    @property
    def total_samples(self) -> int:
        return sample_at(self.total_frames, self.rate)

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def gop(self) -> int:
        """Keyframe interval: half a second of frames (YouTube's recommendation)."""
        return max(1, round(self.rate / 2))

    @property
    def has_gaps(self) -> bool:
        return any(piece.input is None for piece in self.pieces)


def sample_at(frame: int, rate: Fraction) -> int:
    """The audio sample where output frame `frame` starts (exact, rounded once)."""
    return round(Fraction(frame) * SAMPLE_RATE / rate)


def source_frame_index(source_start: Fraction, fps: Fraction) -> int:
    """The source frame on screen at `source_start` (within the millisecond storage precision)."""
    return math.floor((source_start + IN_POINT_TOLERANCE) * fps)


def even(value: int) -> int:
    return max(2, value - value % 2)


def source_preset(first_video: Source) -> Preset:
    """The `source` preset: the first video segment's display size and frame rate."""
    return Preset(
        SOURCE_PRESET,
        even(first_video.width),
        even(first_video.height),
        first_video.fps if first_video.fps > 0 else Fraction(30),
    )


def plan_export(cuts: Sequence[Cut], sources: dict[str, Source], preset: Preset) -> ExportPlan:
    """Lay the timeline out in frames and samples: segments, gaps, audio-layer overlays."""
    rate = preset.rate
    video = sorted((c for c in cuts if c.layer == "video"), key=lambda c: (c.start, c.end))
    audio = sorted((c for c in cuts if c.layer == "audio"), key=lambda c: (c.start, c.end))
    timeline_end = max((c.end for c in cuts), default=Fraction(0))
    total_frames = round(timeline_end * rate)

    inputs: list[Input] = []
    pieces: list[Piece] = []
    cursor = 0
    for cut in video:
        first = max(round(cut.start * rate), cursor)
        last = min(round(cut.end * rate), total_frames)
        if last <= first:
            continue  # shorter than half a frame once placed on the frame grid
        if first > cursor:
            pieces.append(_gap(cursor, first, rate))
        source = sources[cut.source]
        fps = source.fps if source.fps > 0 else rate
        frame_time = Fraction(source_frame_index(cut.source_start, fps)) / fps
        seek = max(Fraction(0), frame_time - min(SEEK_HAIR, 1 / (4 * fps)))
        frames = last - first
        # Two source frames of margin: the graph trims to the exact frame count, and pads
        # by repeating the last frame should the file end a frame early.
        inputs.append(Input(cut.source, seek, frames / rate + (frame_time - seek) + 2 / fps))
        pieces.append(
            Piece(
                frames=frames,
                samples=sample_at(last, rate) - sample_at(first, rate),
                input=len(inputs) - 1,
                has_audio=source.has_audio,
                audio_lead=frame_time - seek,
                source_time=frame_time,
                source_fps=fps,
            )
        )
        cursor = last
    if total_frames > cursor:
        pieces.append(_gap(cursor, total_frames, rate))

    total_samples = sample_at(total_frames, rate)
    overlays: list[Overlay] = []
    for cut in audio:
        if not sources[cut.source].has_audio:
            continue
        begin = round(cut.start * SAMPLE_RATE)
        finish = min(round(cut.end * SAMPLE_RATE), total_samples)
        if finish <= begin:
            continue
        inputs.append(Input(cut.source, cut.source_start, cut.duration + Fraction(1, 10)))
        overlays.append(Overlay(len(inputs) - 1, begin, finish - begin))
    return ExportPlan(
        width=preset.width,
        height=preset.height,
        rate=rate,
        total_frames=total_frames,
        inputs=tuple(inputs),
        pieces=tuple(pieces),
        overlays=tuple(overlays),
    )


def _gap(first: int, last: int, rate: Fraction) -> Piece:
    return Piece(frames=last - first, samples=sample_at(last, rate) - sample_at(first, rate))


# --- The filter graph ---------------------------------------------------------------------


def _num(value: Fraction | float) -> str:
    """A number FFmpeg parses: fractions as `n/d` where a rate is meant, decimals elsewhere."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.6f}"


def _rate(rate: Fraction) -> str:
    return f"{rate.numerator}/{rate.denominator}"


AUDIO_FORMAT = f"aresample={SAMPLE_RATE}:async=1,aformat=sample_fmts=fltp:channel_layouts=stereo"


def _video_chain(plan: ExportPlan, piece: Piece, label: str) -> str:
    w, h = plan.width, plan.height
    if piece.input is None:
        return (
            f"color=c=black:s={w}x{h}:r={_rate(plan.rate)},setsar=1,format=yuv420p,"
            f"trim=end_frame={piece.frames}[{label}]"
        )
    # Fit inside the frame keeping the display aspect ratio (sample aspect ratio included),
    # then centre on black: portrait and 4:3 sources get bars, never stretching. FFmpeg has
    # already applied the rotation (autorotate) before this chain sees the frames.
    fit = f"scale=w='min({w},2*trunc({h}*iw*sar/ih/2))':h='min({h},2*trunc({w}*ih/(iw*sar)/2))'"
    return (
        f"[{piece.input}:v]setpts=PTS-STARTPTS,fps={_rate(plan.rate)},{fit},"
        f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p,"
        f"tpad=stop_mode=clone:stop=2,trim=end_frame={piece.frames},setpts=PTS-STARTPTS[{label}]"
    )


def _audio_chain(piece: Piece, label: str) -> str:
    if piece.input is None or not piece.has_audio:
        return (
            f"anullsrc=r={SAMPLE_RATE}:cl=stereo,atrim=end_sample={piece.samples},"
            f"asetpts=PTS-STARTPTS[{label}]"
        )
    lead = f"atrim=start={_num(piece.audio_lead)}," if piece.audio_lead else ""
    return (
        f"[{piece.input}:a]{lead}asetpts=PTS-STARTPTS,{AUDIO_FORMAT},"
        f"apad,atrim=end_sample={piece.samples},asetpts=PTS-STARTPTS[{label}]"
    )


def _overlay_chain(overlay: Overlay, label: str) -> str:
    return (
        f"[{overlay.input}:a]asetpts=PTS-STARTPTS,{AUDIO_FORMAT},"
        f"apad,atrim=end_sample={overlay.samples},"
        f"adelay=delays={overlay.delay_samples}S:all=1[{label}]"
    )


@dataclass(frozen=True)
class Loudness:
    """Two-pass loudness normalisation (EBU R128): the target, then pass 1's measurement.

    Pass 1 measures the mixed timeline audio with `ebur128` (integrated loudness, its gating
    threshold, loudness range, true peak). Pass 2 is what loudnorm's `linear=true` mode does
    with those values: one constant gain, target − measured, when it keeps the true peak under
    the ceiling. We apply that gain with `volume` (loudnorm would also resample to 192 kHz
    for nothing). When the gain would push peaks over the ceiling, loudnorm's dynamic mode
    misses the target by several LU on short or peaky audio; a true-peak limiter after the
    same gain keeps both promises for real material.
    """

    target_i: float
    true_peak: float
    measured: dict[str, float] | None = None

    @property
    def skip(self) -> bool:
        """Silence (or near silence) is left alone: no gain could make it reach the target."""
        return self.measured is not None and not (
            self.measured["input_i"] > SILENCE_LUFS and math.isfinite(self.measured["input_tp"])
        )

    @property
    def ceiling(self) -> float:
        return self.true_peak - CODEC_TRUE_PEAK_HEADROOM

    @property
    def gain(self) -> float:
        assert self.measured is not None
        return self.target_i - self.measured["input_i"]

    @property
    def linear(self) -> bool:
        return self.measured is not None and self.measured["input_tp"] + self.gain <= self.ceiling

    def filter(self) -> str:
        if self.measured is None:
            return "ebur128=peak=true"
        if self.linear:
            return f"volume={self.gain:.2f}dB:precision=double"
        # One gain would push peaks over the ceiling: apply it anyway and limit the peaks at
        # four times the sample rate, where true peaks are (that is how they are measured).
        # Sparse peaks carry little energy, so the integrated loudness stays on target.
        limit = 10 ** (self.ceiling / 20)
        return (
            f"volume={self.gain:.2f}dB:precision=double,aresample={4 * SAMPLE_RATE},"
            f"alimiter=limit={limit:.4f}:attack=1:release=50:level=false:latency=true"
        )


def _end(total_samples: int) -> str:
    # Ending every graph on one explicit format also lets FFmpeg rebuild the graph when a
    # decoder changes its channel layout mid-stream (AAC mono in MP4 does).
    return f"{AUDIO_FORMAT},apad,atrim=end_sample={total_samples}[aout]"


def mix_graph(plan: ExportPlan) -> str:
    """Pass 1: the timeline's whole sound (each segment's audio or silence, gaps silent, the
    audio layer mixed in) measured by ebur128, as output [aout]. It is written once to a local
    WAV, so the render reads the mix instead of decoding every segment's audio again."""
    lines: list[str] = []
    for index, piece in enumerate(plan.pieces):
        lines.append(_audio_chain(piece, f"a{index}"))
    labels = "".join(f"[a{i}]" for i in range(len(plan.pieces)))
    lines.append(f"{labels}concat=n={len(plan.pieces)}:v=0:a=1[acat]")
    audio = "[acat]"
    if plan.overlays:
        for index, overlay in enumerate(plan.overlays):
            lines.append(_overlay_chain(overlay, f"o{index}"))
        labels = "".join(f"[o{i}]" for i in range(len(plan.overlays)))
        lines.append(
            f"[acat]{labels}amix=inputs={len(plan.overlays) + 1}:duration=first"
            f":dropout_transition=0:normalize=0[amix]"
        )
        audio = "[amix]"
    lines.append(f"{audio}ebur128=peak=true,{_end(plan.total_samples)}")
    return ";\n".join(lines) + "\n"


def loudness_chain(plan: ExportPlan, loudness: Loudness, mix_input: int) -> str:
    """Pass 2 on the stored mix: the gain (and limiter) that brings it to the target."""
    gain = "" if loudness.skip else f"{loudness.filter()},"
    return f"[{mix_input}:a]{gain}{_end(plan.total_samples)}"


def video_graph(plan: ExportPlan, *, loudness: Loudness, mix_input: int) -> str:
    """The render: every piece of picture trimmed, fitted and concatenated into [vout], and
    the stored mix (input `mix_input`) normalised into [aout]."""
    lines = [_video_chain(plan, piece, f"v{i}") for i, piece in enumerate(plan.pieces)]
    labels = "".join(f"[v{i}]" for i in range(len(plan.pieces)))
    lines.append(f"{labels}concat=n={len(plan.pieces)}:v=1:a=0[vout]")
    lines.append(loudness_chain(plan, loudness, mix_input))
    return ";\n".join(lines) + "\n"


# --- Command lines ------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoding:
    """Encoder choices shared by every export (settings decide preset and quality)."""

    x264_preset: str = "veryfast"
    x264_crf: int = 20
    vp9_crf: int = 32
    vp9_speed: int = 4
    aac_bitrate: str = "192k"
    opus_bitrate: str = "160k"
    input_threads: int | None = None


def _input_args(plan: ExportPlan, paths: dict[str, Path], encoding: Encoding) -> list[str]:
    args: list[str] = []
    for item in plan.inputs:
        if encoding.input_threads:
            args += ["-threads", str(encoding.input_threads)]
        args += ["-ss", _num(item.seek), "-t", _num(item.length)]
        args += safe_input_args(paths[item.source])
    return args


def video_codec_args(plan: ExportPlan, fmt: str, encoding: Encoding) -> list[str]:
    gop = str(plan.gop)
    if fmt == "webm":
        return [
            "-c:v", "libvpx-vp9", "-crf", str(encoding.vp9_crf), "-b:v", "0",
            "-deadline", "good", "-cpu-used", str(encoding.vp9_speed), "-row-mt", "1",
            "-g", gop, "-pix_fmt", "yuv420p",
        ]  # fmt: skip
    return [
        "-c:v", "libx264", "-preset", encoding.x264_preset, "-crf", str(encoding.x264_crf),
        "-profile:v", "high", "-pix_fmt", "yuv420p",
        # Closed GOPs of half a second with 2 B-frames: what YouTube asks of uploads.
        "-g", gop, "-keyint_min", gop, "-flags", "+cgop", "-bf", "2",
    ]  # fmt: skip


def audio_codec_args(fmt: str, encoding: Encoding) -> list[str]:
    codec = ["-c:a", "libopus", "-b:a", encoding.opus_bitrate] if fmt == "webm" else [
        "-c:a", "aac", "-b:a", encoding.aac_bitrate,
    ]  # fmt: skip
    return [*codec, "-ar", str(SAMPLE_RATE), "-ac", "2"]


def container_args(fmt: str) -> list[str]:
    if fmt == "webm":
        return ["-f", "webm"]
    return ["-f", "mp4", "-movflags", "+faststart"]


def _mix_input_args(mix: Path) -> list[str]:
    # Our own WAV from pass 1: still opened with the safe flags, as the only demuxer it needs.
    return safe_input_args(mix, demuxers=("wav",))


def measure_args(
    binary: str,
    plan: ExportPlan,
    paths: dict[str, Path],
    graph_script: Path,
    mix_output: Path,
    encoding: Encoding | None = None,
) -> list[str]:
    """Pass 1: the mix graph, measured by ebur128 and written to a local float WAV.

    Inputs that only carry picture are still opened (the input numbering must match the
    graph) but nothing of their video is decoded.
    """
    return [
        *base_ffmpeg_args(binary),
        # ebur128 prints its summary at info level.
        "-loglevel",
        "info",
        *_input_args(plan, paths, encoding or Encoding()),
        "-filter_complex_script",
        str(graph_script),
        "-map",
        "[aout]",
        "-c:a",
        "pcm_f32le",
        "-rf64",
        "auto",
        "-f",
        "wav",
        str(mix_output),
    ]


def render_args(
    binary: str,
    plan: ExportPlan,
    paths: dict[str, Path],
    graph_script: Path,
    mix: Path,
    output: Path,
    *,
    fmt: str,
    encoding: Encoding,
) -> list[str]:
    """The export in one FFmpeg run: every segment's picture and the stored mix through the
    video graph (the mix is the last input) into the encoders."""
    return [
        *base_ffmpeg_args(binary),
        *_input_args(plan, paths, encoding),
        *_mix_input_args(mix),
        "-filter_complex_script",
        str(graph_script),
        "-map",
        "[vout]",
        "-map",
        "[aout]",
        *video_codec_args(plan, fmt, encoding),
        "-r",
        _rate(plan.rate),
        *audio_codec_args(fmt, encoding),
        *container_args(fmt),
        str(output),
    ]


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


# --- Smart path: copy the video, encode only the audio -------------------------------------


@dataclass(frozen=True)
class VideoStream:
    """A source's video stream as the smart path judges it (from ffprobe of the local copy)."""

    codec: str
    profile: str
    pix_fmt: str
    width: int
    height: int
    fps: Fraction
    sar: str
    rotation: int
    extradata_hash: str
    frame_count: int
    keyframes: frozenset[int]


def smart_refusal(
    plan: ExportPlan, streams: Sequence[VideoStream | None], *, fmt: str
) -> str | None:
    """Why the video cannot be stream-copied, or None when it can.

    `streams[i]` describes the source of plan.pieces[i]. Copying is exact only when every
    segment starts on a keyframe and ends on one (or at the end of its clip): a cut anywhere
    else would need frames of a group of pictures we do not copy. All segments must share one
    set of codec parameters (the same SPS/PPS), since the output has one video track.
    """
    if fmt != "mp4":
        return "the format is not mp4"
    if plan.has_gaps or not plan.pieces:
        return "the timeline has gaps"
    first = streams[0]
    for piece, stream in zip(plan.pieces, streams, strict=True):
        if stream is None:
            return "a source could not be probed"
        if stream.codec != "h264" or stream.pix_fmt != "yuv420p":
            return "a source is not H.264 yuv420p"
        if (stream.width, stream.height) != (plan.width, plan.height) or stream.rotation:
            return "a source would need scaling or rotating"
        if stream.sar not in ("1:1", "0:1", "", "N/A"):
            return "a source has non-square pixels"
        if stream.fps != plan.rate:
            return "a source has another frame rate"
        assert first is not None
        if (stream.extradata_hash, stream.profile) != (first.extradata_hash, first.profile):
            return "the sources were encoded with different parameters"
        start = round(piece.source_time * stream.fps)
        end = start + piece.frames
        if start not in stream.keyframes:
            return "an in-point is not on a keyframe"
        if end > stream.frame_count:
            return "a segment runs past the end of its clip"
        if end != stream.frame_count and end not in stream.keyframes:
            return "an out-point is not on a keyframe"
    return None


def video_stream_probe_args(binary: str, path: Path) -> list[str]:
    """ffprobe of a source's first video stream with a hash of its codec parameters (SPS/PPS):
    two files can be joined without re-encoding only when the hashes match."""
    return [
        binary,
        "-hide_banner",
        "-loglevel",
        "error",
        "-print_format",
        "json",
        "-select_streams",
        "v:0",
        "-show_data_hash",
        "MD5",
        "-show_streams",
        *safe_input_args(path),
    ]


def parse_video_stream(
    data: dict[str, Any],
    *,
    keyframe_times: Sequence[Fraction],
    packet_times: Sequence[Fraction] | None = None,
) -> VideoStream | None:
    """A VideoStream from the header probe and the keyframe times (seconds from the start of
    the clip). The frame count comes from the packet list when there is one, else from the
    header (`nb_frames`, which MP4/MOV carry); None when neither knows it."""
    streams = data.get("streams") or []
    if not streams:
        return None
    stream = streams[0]
    try:
        fps = Fraction(stream.get("r_frame_rate") or "0")
    except (ValueError, ZeroDivisionError):
        return None
    if fps <= 0:
        return None
    rotation = 0
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            rotation = round(float(side["rotation"])) % 360
    rotation = rotation or int((stream.get("tags") or {}).get("rotate", 0) or 0) % 360
    if packet_times:
        frame_count = len(packet_times)
        origin = min(packet_times)
    elif str(stream.get("nb_frames", "")).isdigit():
        frame_count = int(stream["nb_frames"])
        origin = (
            Fraction(str(stream.get("start_time") or 0))
            if stream.get("start_time") != "N/A"
            else Fraction(0)
        )
    else:
        return None
    return VideoStream(
        codec=stream.get("codec_name", ""),
        profile=stream.get("profile", ""),
        pix_fmt=stream.get("pix_fmt", ""),
        width=int(stream.get("width") or 0),
        height=int(stream.get("height") or 0),
        fps=fps,
        sar=stream.get("sample_aspect_ratio", ""),
        rotation=rotation,
        extradata_hash=stream.get("extradata_hash", ""),
        frame_count=frame_count,
        keyframes=frozenset(round((t - origin) * fps) for t in keyframe_times),
    )


def copy_parts_args(binary: str, parts: Sequence[tuple[Path, Piece, Path]]) -> list[str]:
    """Copy every segment's video packets (whole GOPs from its in-point keyframe) to its own
    MPEG-TS part, all in one FFmpeg run. Seeking a hair past the keyframe's time lands on that
    keyframe; counting packets (not time) makes each part exactly the segment's frames."""
    args = base_ffmpeg_args(binary)
    for source, piece, _ in parts:
        seek = piece.source_time + min(SEEK_HAIR, 1 / (4 * piece.source_fps))
        args += ["-ss", _num(seek), *safe_input_args(source)]
    for index, (_, piece, output) in enumerate(parts):
        args += [
            "-map", f"{index}:v:0", "-c:v", "copy", "-frames:v", str(piece.frames),
            "-f", "mpegts", str(output),
        ]  # fmt: skip
    return args


def concat_list(parts: Sequence[tuple[str, int]], rate: Fraction) -> str:
    """An ffconcat list of our own parts (bare file names, next to the list) with their exact
    durations, so the parts are laid end to end on the frame grid."""
    lines = ["ffconcat version 1.0"]
    for name, frames in parts:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ValueError(f"unexpected part name {name!r}")
        lines += [f"file '{name}'", f"duration {float(frames / rate):.6f}"]
    return "\n".join(lines) + "\n"


def concat_input_args(list_path: Path) -> list[str]:
    """Open OUR generated concat list. The concat demuxer is otherwise never allowed: a list
    can name any file. This one is safe because we wrote it ourselves, it names only bare
    file names of parts in the same private temp folder (`-safe 1` refuses anything else),
    the protocol is still file-only and the parts may only be MPEG-TS."""
    resolved = Path(list_path).resolve()
    return [
        "-f",
        "concat",
        "-safe",
        "1",
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        "concat,mpegts",
        "-i",
        f"file:{resolved}",
    ]


def audio_encode_args(
    binary: str, mix: Path, graph_script: Path, output: Path, *, encoding: Encoding
) -> list[str]:
    """Smart path: the stored mix normalised and encoded to AAC on its own (an .m4a), while
    the video parts are copied."""
    return [
        *base_ffmpeg_args(binary),
        *_mix_input_args(mix),
        "-filter_complex_script",
        str(graph_script),
        "-map",
        "[aout]",
        *audio_codec_args("mp4", encoding),
        "-f",
        "mp4",
        str(output),
    ]


def smart_mux_args(binary: str, audio: Path, list_path: Path, output: Path) -> list[str]:
    """Smart path: the copied video (the concat list, input 1) and the encoded audio (our own
    .m4a, input 0) put together without touching either."""
    return [
        *base_ffmpeg_args(binary),
        *safe_input_args(audio, demuxers=("mov",)),
        *concat_input_args(list_path),
        "-map",
        "1:v:0",
        "-map",
        "0:a:0",
        "-c",
        "copy",
        *container_args("mp4"),
        str(output),
    ]
