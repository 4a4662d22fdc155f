"""One chunk of an export: what it holds (ChunkSpec) and the FFmpeg commands that make its two
files, the picture (encoded, or stream-copied from the sources) and the sound (lossless).

A chunk is a stretch of the timeline rendered by its own FFmpeg, which opens only the inputs
it needs. Chunks are joined later by stream copy, so each must start exactly where the previous
one ended, even inside one long segment:

- picture: every input keeps its own timestamps (`-copyts`) and is shifted so that the
  segment's frame `offset` sits at a fixed lead; `fps` then picks the source frame on screen at
  each output frame's time. The rule depends on the segment, never on where FFmpeg seeked, so
  two chunks of one segment show consecutive frames. A sliver of an output frame (TIE_BIAS) is
  added so a source frame exactly halfway between two output frames (60 → 30 fps) always goes
  to the later one, whatever microsecond rounding each seek brought.
- sound: a source is decoded from a seek point on a grid counted from the segment's first
  sample (10 ms or 1 s, always a whole number of source samples and of 48 kHz samples), so the
  resampler sees the source samples with the same phase in every chunk; the samples before the
  piece, decoded while the decoder and resampler settle, are dropped by count. The joined
  sound is sample for sample what one continuous decode gives.

A ChunkSpec holds everything that decides the chunk's pixels and samples except the source
files themselves (named by key); `describe()` is its canonical form, which callers hash to
name the chunk in a cache. Fields left at their default are not described, so a new optional
field (a volume, a fade) keeps the names of chunks that do not use it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from processing.ffmpeg.export.graphs import (
    SAMPLE_RATE,
    black_chain,
    blend_chain,
    concat_chain,
    fades_chain,
    mix_chain,
    number,
    picture_chain,
    silence_chain,
    sound_chain,
    sound_effects,
    sound_end,
    still_chain,
    text_chain,
)
from processing.ffmpeg.safety import base_ffmpeg_args, safe_input_args

# How far before a piece's first output frame its picture input is opened: the source frame on
# screen then may have started up to a source frame earlier.
PICTURE_MARGIN = Fraction(1, 10)
TIE_BIAS = Fraction(7, 10000)
# Sound decoded and dropped before a piece that starts inside a segment: AAC needs a frame or
# two to settle after a seek, the resampler a millisecond.
SOUND_PREROLL = Fraction(1, 5)
# A seek a hair past a keyframe's time lands on that keyframe (copying starts there).
SEEK_HAIR = Fraction(1, 1000)
MICROS = 1_000_000


@dataclass(frozen=True)
class Picture:
    """A stretch of the chunk's picture: `frames` output frames of one segment, from the
    segment's output frame `offset` on, or black when `source` is None. `origin` is the source
    time (seconds from the file's start) of the segment's first frame, `fps` the source's rate.
    In copy mode `origin` is on a keyframe, `fps` equals the output rate."""

    frames: int
    source: str | None = None
    origin: Fraction = Fraction(0)
    offset: int = 0
    fps: Fraction = Fraction(0)
    # How a picture of another shape fills the frame (timeline/rules.py "fit").
    fit: str = "fit"
    # Seconds of fade from black at the segment's start and to black from `fade_out_at`
    # (seconds from the segment's first frame).
    fade_in: Fraction = Fraction(0)
    fade_out: Fraction = Fraction(0)
    fade_out_at: Fraction = Fraction(0)
    # A transition window: the frames of `into` (the incoming segment) mixed over these by
    # the FFmpeg xfade `transition`, from all these to all those.
    into: Picture | None = None
    transition: str = ""
    # A still image: its one picture for every frame.
    still: bool = False

    @property
    def effects(self) -> bool:
        return bool(self.fade_in or self.fade_out or self.into)


@dataclass(frozen=True)
class Sound:
    """Samples of one source's sound placed in the chunk: `samples` samples from the segment's
    sample `skip` on, starting at the chunk's sample `at`. `origin` is the source time of the
    segment's first sample, `source_rate` the source's sample rate (0 when unknown)."""

    source: str
    origin: Fraction
    skip: int
    at: int
    samples: int
    source_rate: int = 0
    # Linear gain, and fades in samples of the segment (the fade out from its sample
    # `fade_out_at`).
    volume: Fraction = Fraction(1)
    fade_in: int = 0
    fade_out: int = 0
    fade_out_at: int = 0
    # Spans [start, end) of the segment's samples where it is ducked (audio layer).
    ducks: tuple[tuple[int, int], ...] = ()
    # A transition's sound: (1 in or -1 out, its first sample of the segment, its length).
    cross: tuple[int, ...] = ()
    # The segment's sample number of `origin` (not 0 for sound read from before the
    # segment's first sample: the incoming side of a transition).
    base: int = 0


@dataclass(frozen=True)
class Text:
    """A title or caption drawn over the chunk's picture from its frame `start` to `end`
    (either may lie outside the chunk: the segment's frame 0 is `start`). `size` is in output
    pixels; colours are "#RRGGBB[AA]"; `x`, `y` and `align` as timeline/rules.py says. Fades
    are in seconds."""

    content: str
    font: str
    size: Fraction
    color: str
    x: Fraction
    y: Fraction
    start: int
    end: int
    align: str = "center"
    background: str | None = None
    fade_in: Fraction = Fraction(0)
    fade_out: Fraction = Fraction(0)


@dataclass(frozen=True)
class ChunkSpec:
    width: int
    height: int
    rate: Fraction
    frames: int
    samples: int
    pictures: tuple[Picture, ...]
    # The video segments' own sound, in order and never overlapping; silence elsewhere.
    sounds: tuple[Sound, ...] = ()
    # Audio-layer segments, added on top.
    overlays: tuple[Sound, ...] = ()
    # Picture stream-copied from the sources instead of encoded.
    copy: bool = False
    # Titles and burnt-in captions, bottom to top.
    texts: tuple[Text, ...] = ()

    @property
    def sources(self) -> list[str]:
        keys = [p.source for p in self.pictures if p.source is not None]
        keys += [p.into.source for p in self.pictures if p.into and p.into.source is not None]
        keys += [s.source for s in (*self.sounds, *self.overlays)]
        return list(dict.fromkeys(keys))

    @property
    def effects(self) -> bool:
        """Whether the picture is more than its sources' frames (fades, text)."""
        return bool(self.texts) or any(p.effects for p in self.pictures)

    def describe(self) -> dict[str, Any]:
        return _describe(self)

    @classmethod
    def from_description(cls, data: dict[str, Any]) -> ChunkSpec:
        return cls(
            width=int(data["width"]),
            height=int(data["height"]),
            rate=Fraction(data["rate"]),
            frames=int(data["frames"]),
            samples=int(data["samples"]),
            pictures=tuple(_build(Picture, item) for item in data.get("pictures", [])),
            sounds=tuple(_build(Sound, item) for item in data.get("sounds", [])),
            overlays=tuple(_build(Sound, item) for item in data.get("overlays", [])),
            copy=bool(data.get("copy", False)),
            texts=tuple(_build(Text, item) for item in data.get("texts", [])),
        )


def _plain(value: Any) -> Any:
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _describe(value)
    return value


def _describe(item: Any) -> dict[str, Any]:
    described = {}
    for spec_field in dataclasses.fields(item):
        value = getattr(item, spec_field.name)
        if spec_field.default is not dataclasses.MISSING and value == spec_field.default:
            continue
        if spec_field.default_factory is not dataclasses.MISSING and not value:
            continue
        described[spec_field.name] = _plain(value)
    return described


def _build(cls: type[Any], data: dict[str, Any]) -> Any:
    kinds = {f.name: f.type for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for name, value in data.items():
        kind = str(kinds[name])
        if "Fraction" in kind:
            value = Fraction(value)
        elif name == "ducks":
            value = tuple((int(a), int(b)) for a, b in value)
        elif name == "cross":
            value = tuple(int(v) for v in value)
        elif name == "into":
            value = _build(Picture, value)
        values[name] = value
    return cls(**values)


# --- Where each input is opened ------------------------------------------------------------


@dataclass(frozen=True)
class LocalSource:
    """A source file on this machine and its format start time (what `-ss 0` means)."""

    path: Path
    start: Fraction = Fraction(0)


@dataclass(frozen=True)
class PictureSeek:
    seek_us: int
    length: Fraction
    shift_us: int
    start_seconds: Fraction


def picture_seek(piece: Picture, rate: Fraction, start: Fraction) -> PictureSeek:
    """Where to open a picture piece's input and how to shift its (absolute) timestamps so that
    the segment's output frame `offset` lands on output frame `lead` plus TIE_BIAS."""
    fps = piece.fps if piece.fps > 0 else rate
    first = piece.origin + Fraction(piece.offset) / rate
    margin = max(PICTURE_MARGIN, 2 / fps)
    seek_us = math.floor(max(Fraction(0), first - margin) * MICROS)
    lead = math.ceil(margin * rate) + 2
    shift = (start + first) - (lead + TIE_BIAS) / rate
    length = piece.frames / rate + (first - Fraction(seek_us, MICROS)) + 2 / fps
    return PictureSeek(seek_us, length, round(shift * MICROS), Fraction(lead) / rate)


@dataclass(frozen=True)
class SoundSeek:
    seek_us: int
    length: Fraction
    drop: int


def sound_grid_us(source_rate: int) -> int:
    """Seek points this far apart keep a source's samples in phase with the 48 kHz grid."""
    return 10_000 if source_rate and source_rate % 100 == 0 else MICROS


def sound_seek(piece: Sound) -> SoundSeek:
    grid = sound_grid_us(piece.source_rate)
    origin_us = math.floor(piece.origin * MICROS)
    steps = 0
    if piece.skip:
        settle = Fraction(piece.skip, SAMPLE_RATE) - SOUND_PREROLL
        steps = max(0, math.floor(settle * MICROS / grid))
    drop = piece.skip - steps * grid * SAMPLE_RATE // MICROS
    length = Fraction(drop + piece.samples, SAMPLE_RATE) + Fraction(1, 10)
    return SoundSeek(origin_us + steps * grid, length, drop)


def _input(seek_us: int, length: Fraction, path: Path, *, kind: str) -> list[str]:
    # One decoding thread per input: chunks run side by side, so threads inside one would only
    # add memory (frames in flight per thread) and overhead.
    args = ["-threads", "1", "-ss", number(Fraction(seek_us, MICROS)), "-t", number(length)]
    return [*args, kind, *safe_input_args(path)]


@dataclass(frozen=True)
class _Inputs:
    args: list[str] = field(default_factory=list)
    pictures: dict[int, tuple[int, PictureSeek]] = field(default_factory=dict)
    intos: dict[int, tuple[int, PictureSeek]] = field(default_factory=dict)
    sounds: dict[int, tuple[int, SoundSeek]] = field(default_factory=dict)
    overlays: dict[int, tuple[int, SoundSeek]] = field(default_factory=dict)


# A still image clip's file (PNG, JPEG, WebP), read as one picture.
STILL_DEMUXERS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe")


def _open_picture(
    inputs: _Inputs, piece: Picture, rate: Fraction, sources: Mapping[str, LocalSource]
) -> PictureSeek:
    assert piece.source is not None
    local = sources[piece.source]
    if piece.still:
        inputs.args.extend(["-threads", "1", *safe_input_args(local.path, demuxers=STILL_DEMUXERS)])
        return PictureSeek(0, Fraction(0), 0, Fraction(0))
    seek = picture_seek(piece, rate, local.start)
    inputs.args.extend(_input(seek.seek_us, seek.length, local.path, kind="-an"))
    return seek


def _open_inputs(spec: ChunkSpec, sources: Mapping[str, LocalSource], *, pictures: bool) -> _Inputs:
    inputs = _Inputs()
    count = 0
    for index, piece in enumerate(spec.pictures):
        if not pictures or piece.source is None:
            continue
        inputs.pictures[index] = (count, _open_picture(inputs, piece, spec.rate, sources))
        count += 1
        if piece.into is not None and piece.into.source is not None:
            inputs.intos[index] = (count, _open_picture(inputs, piece.into, spec.rate, sources))
            count += 1
    for table, pieces in ((inputs.sounds, spec.sounds), (inputs.overlays, spec.overlays)):
        for index, sound in enumerate(pieces):
            at = sound_seek(sound)
            path = sources[sound.source].path
            inputs.args.extend(_input(at.seek_us, at.length, path, kind="-vn"))
            table[index] = (count, at)
            count += 1
    return inputs


def _picture_graph(spec: ChunkSpec, inputs: _Inputs) -> list[str]:
    lines = []
    for index, piece in enumerate(spec.pictures):
        label = f"v{index}"
        if piece.source is None:
            lines.append(
                black_chain(
                    label=label,
                    frames=piece.frames,
                    width=spec.width,
                    height=spec.height,
                    rate=spec.rate,
                )
            )
            continue
        if piece.into is None or index not in inputs.intos:
            lines.append(_one_picture(spec, piece, inputs.pictures[index], label))
            continue
        lines.append(_one_picture(spec, piece, inputs.pictures[index], f"{label}x", hold=True))
        lines.append(_one_picture(spec, piece.into, inputs.intos[index], f"{label}y", hold=True))
        lines.append(
            blend_chain(
                first=f"{label}x",
                second=f"{label}y",
                label=label,
                transition=piece.transition,
                frames=piece.frames,
                rate=spec.rate,
            )
        )
    joined = "vcat" if spec.texts else "vout"
    lines.append(concat_chain([f"v{i}" for i in range(len(spec.pictures))], video=True, out=joined))
    if spec.texts:
        drawn = [_text_filters(spec, index, text) for index, text in enumerate(spec.texts)]
        lines.append(f"[vcat]{','.join(d for d in drawn if d) or 'null'}[vout]")
    return lines


def _one_picture(
    spec: ChunkSpec,
    piece: Picture,
    opened: tuple[int, PictureSeek],
    label: str,
    *,
    hold: bool = False,
) -> str:
    input_index, seek = opened
    if piece.still:
        return still_chain(
            input_index=input_index,
            label=label,
            frames=piece.frames,
            width=spec.width,
            height=spec.height,
            rate=spec.rate,
            fit=piece.fit,
            fades=fades_chain(
                rate=spec.rate,
                offset=piece.offset,
                fade_in=piece.fade_in,
                fade_out=piece.fade_out,
                fade_out_at=piece.fade_out_at,
            ),
        )
    return picture_chain(
        input_index=input_index,
        label=label,
        frames=piece.frames,
        shift_us=seek.shift_us,
        start_seconds=seek.start_seconds,
        width=spec.width,
        height=spec.height,
        rate=spec.rate,
        fit=piece.fit,
        # A transition shows a source's last frame for as long as the window needs.
        hold=piece.frames if hold else 2,
        fades=fades_chain(
            rate=spec.rate,
            offset=piece.offset,
            fade_in=piece.fade_in,
            fade_out=piece.fade_out,
            fade_out_at=piece.fade_out_at,
        ),
    )


def font_file_name(font: str) -> str:
    """The name a font file has next to a chunk's graph (FreeType reads it by content)."""
    return f"font-{font}"


def _text_line_name(index: int, line: int) -> str:
    return f"text-{index}-{line}.txt"


def chunk_text_files(spec: ChunkSpec) -> dict[str, str]:
    """The files the graph's drawtext filters read, by name: one per non-empty text line
    (read from a file, the text needs no escaping). Fonts: `chunk_fonts`."""
    files = {}
    for index, text in enumerate(spec.texts):
        for line_number, line in enumerate(text.content.split("\n")):
            if line.strip():
                files[_text_line_name(index, line_number)] = line
    return files


def chunk_fonts(spec: ChunkSpec) -> set[str]:
    """The font ids the chunk draws with; each is expected as `font_file_name(id)`."""
    return {text.font for text in spec.texts}


def _text_filters(spec: ChunkSpec, index: int, text: Text) -> str:
    return text_chain(
        lines=[
            _text_line_name(index, number) if line.strip() else None
            for number, line in enumerate(text.content.split("\n"))
        ],
        font_file=font_file_name(text.font),
        size=text.size,
        color=text.color,
        background=text.background,
        x=text.x,
        y=text.y,
        align=text.align,
        start=text.start,
        end=text.end,
        fade_in=text.fade_in,
        fade_out=text.fade_out,
        rate=spec.rate,
        width=spec.width,
        height=spec.height,
    )


def _sound_graph(spec: ChunkSpec, inputs: _Inputs) -> list[str]:
    lines: list[str] = []
    labels: list[str] = []
    cursor = 0
    for index, sound in sorted(enumerate(spec.sounds), key=lambda item: item[1].at):
        if sound.at > cursor:
            labels.append(f"q{len(labels)}")
            lines.append(silence_chain(label=labels[-1], samples=sound.at - cursor))
        input_index, seek = inputs.sounds[index]
        labels.append(f"s{index}")
        lines.append(
            sound_chain(
                input_index=input_index,
                label=labels[-1],
                drop=seek.drop,
                samples=sound.samples,
                effects=_sound_effects(sound),
            )
        )
        cursor = sound.at + sound.samples
    if cursor < spec.samples or not labels:
        labels.append(f"q{len(labels)}")
        lines.append(silence_chain(label=labels[-1], samples=max(1, spec.samples - cursor)))
    lines.append(concat_chain(labels, video=False, out="track"))
    mixed = "track"
    if spec.overlays:
        for index, overlay in enumerate(spec.overlays):
            input_index, seek = inputs.overlays[index]
            lines.append(
                sound_chain(
                    input_index=input_index,
                    label=f"o{index}",
                    drop=seek.drop,
                    samples=overlay.samples,
                    delay=overlay.at,
                    effects=_sound_effects(overlay),
                )
            )
        lines.append(
            mix_chain(["track", *(f"o{i}" for i in range(len(spec.overlays)))], out="mixed")
        )
        mixed = "mixed"
    lines.append(f"[{mixed}]" + sound_end(label="aout", samples=spec.samples))
    return lines


# Ducked sound: 12 dB down (timeline/rules.py DUCK_DB), ramps of a quarter second.
DUCK_GAIN = 10 ** (-12 / 20)
DUCK_RAMP_SAMPLES = SAMPLE_RATE // 4


def _sound_effects(sound: Sound) -> str:
    return sound_effects(
        skip=sound.skip + sound.base,
        cross=sound.cross,
        volume=sound.volume,
        fade_in=sound.fade_in,
        fade_out=sound.fade_out,
        fade_out_at=sound.fade_out_at,
        ducks=sound.ducks,
        duck_gain=DUCK_GAIN,
        duck_ramp=DUCK_RAMP_SAMPLES,
    )


# --- Command lines --------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoding:
    """Encoder choices shared by every chunk of every export (settings decide preset and
    quality). Chunks join by stream copy only because they all use the same."""

    x264_preset: str = "veryfast"
    x264_crf: int = 20
    vp9_crf: int = 32
    vp9_speed: int = 4
    aac_bitrate: str = "192k"
    opus_bitrate: str = "160k"
    # Encoder threads per chunk. Chunks are the unit of parallelism (one per worker thread, on
    # any machine), and a single-threaded encoder spends less CPU and memory per frame; its
    # output is also the same on every machine, whatever its core count.
    threads: int = 1


def gop(rate: Fraction) -> int:
    """Keyframe interval: half a second of frames (YouTube's recommendation)."""
    return max(1, round(rate / 2))


def video_codec_args(fmt: str, rate: Fraction, encoding: Encoding) -> list[str]:
    size = str(gop(rate))
    threads = ["-threads", str(encoding.threads)]
    if fmt == "webm":
        return [
            "-c:v", "libvpx-vp9", "-crf", str(encoding.vp9_crf), "-b:v", "0",
            "-deadline", "good", "-cpu-used", str(encoding.vp9_speed), "-row-mt", "1",
            "-g", size, "-pix_fmt", "yuv420p", *threads,
        ]  # fmt: skip
    return [
        "-c:v", "libx264", "-preset", encoding.x264_preset, "-crf", str(encoding.x264_crf),
        "-profile:v", "high", "-pix_fmt", "yuv420p",
        # Closed GOPs of half a second with 2 B-frames: what YouTube asks of uploads, and what
        # lets chunks that each start on a keyframe be joined without touching a frame.
        "-g", size, "-keyint_min", size, "-flags", "+cgop", "-bf", "2", *threads,
    ]  # fmt: skip


def picture_container(fmt: str) -> str:
    """The demuxer name of a chunk's picture file: MPEG-TS for H.264, Matroska for VP9."""
    return "matroska" if fmt == "webm" else "mpegts"


def picture_extension(fmt: str) -> str:
    return "mkv" if fmt == "webm" else "ts"


# The chunk's sound: 32-bit float WavPack, lossless and about half the size of raw PCM.
SOUND_CONTAINER = "wv"
SOUND_EXTENSION = "wv"


def _sound_output(path: Path) -> list[str]:
    return [
        "-map", "[aout]", "-c:a", "wavpack", "-map_metadata", "-1",
        "-f", SOUND_CONTAINER, f"file:{path}",
    ]  # fmt: skip


def chunk_graph(spec: ChunkSpec, sources: Mapping[str, LocalSource], *, pictures: bool) -> str:
    inputs = _open_inputs(spec, sources, pictures=pictures)
    lines = (_picture_graph(spec, inputs) if pictures else []) + _sound_graph(spec, inputs)
    return ";\n".join(lines) + "\n"


def chunk_render_args(
    binary: str,
    spec: ChunkSpec,
    sources: Mapping[str, LocalSource],
    *,
    graph_script: Path,
    picture_out: Path,
    sound_out: Path,
    fmt: str,
    encoding: Encoding,
) -> list[str]:
    """Encode the chunk's picture and write its sound in one FFmpeg run. The graph script is
    `chunk_graph(spec, sources, pictures=True)`, written by the caller."""
    inputs = _open_inputs(spec, sources, pictures=True)
    return [
        *base_ffmpeg_args(binary),
        "-copyts",
        *inputs.args,
        "-filter_complex_script", str(graph_script),
        "-map", "[vout]", *video_codec_args(fmt, spec.rate, encoding),
        "-map_metadata", "-1", "-f", picture_container(fmt), f"file:{picture_out}",
        *_sound_output(sound_out),
    ]  # fmt: skip


def chunk_sound_args(
    binary: str,
    spec: ChunkSpec,
    sources: Mapping[str, LocalSource],
    *,
    graph_script: Path,
    sound_out: Path,
) -> list[str]:
    """Only the chunk's sound (a copied chunk's picture is made by `chunk_copy_args`). The
    graph script is `chunk_graph(spec, sources, pictures=False)`."""
    inputs = _open_inputs(spec, sources, pictures=False)
    return [
        *base_ffmpeg_args(binary),
        "-copyts",
        *inputs.args,
        "-filter_complex_script", str(graph_script),
        *_sound_output(sound_out),
    ]  # fmt: skip


def copy_first_frame(piece: Picture, rate: Fraction) -> int:
    """The source frame a copied piece starts on (its keyframe)."""
    return round(piece.origin * rate) + piece.offset


def chunk_copy_args(
    binary: str,
    spec: ChunkSpec,
    sources: Mapping[str, LocalSource],
    parts: Sequence[Path],
) -> list[str]:
    """Copy every picture piece's packets (whole GOPs from its keyframe) to its own MPEG-TS
    part, in one FFmpeg run. Seeking a hair past the keyframe's time lands on that keyframe;
    counting packets (not time) makes each part exactly the piece's frames."""
    args = base_ffmpeg_args(binary)
    for piece in spec.pictures:
        assert piece.source is not None, "a copied chunk has no gaps"
        hair = min(SEEK_HAIR, 1 / (4 * spec.rate))
        seek = Fraction(copy_first_frame(piece, spec.rate)) / spec.rate + hair
        args += ["-ss", number(seek), *safe_input_args(sources[piece.source].path)]
    for index, (piece, output) in enumerate(zip(spec.pictures, parts, strict=True)):
        args += [
            "-map", f"{index}:v:0", "-c:v", "copy", "-frames:v", str(piece.frames),
            "-map_metadata", "-1", "-f", "mpegts", f"file:{output}",
        ]  # fmt: skip
    return args


def chunk_join_args(binary: str, list_args: list[str], output: Path) -> list[str]:
    """The copied parts of one chunk joined into its picture file, by stream copy."""
    return [
        *base_ffmpeg_args(binary),
        *list_args,
        "-map", "0:v:0", "-c", "copy", "-map_metadata", "-1",
        "-f", "mpegts", f"file:{output}",
    ]  # fmt: skip


# --- Probes ---------------------------------------------------------------------------------


def start_time_probe_args(binary: str, path: Path) -> list[str]:
    """ffprobe of a source's format start time: what `-ss 0` means, so what timestamps a
    `-copyts` input carries."""
    return [
        binary, "-hide_banner", "-loglevel", "error", "-print_format", "json",
        "-show_entries", "format=start_time", *safe_input_args(path),
    ]  # fmt: skip


def version_args(binary: str) -> list[str]:
    return [binary, "-hide_banner", "-version"]
