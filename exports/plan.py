"""The timeline laid out in output frames and audio samples: what an export will contain.

A segment from `start` to `end` covers output frames round(start·R) … round(end·R), and its
sound the samples of those frame boundaries (`sample_at`), so picture and sound of every piece
have the same length and rounding never accumulates. Gaps are black and silent; audio-layer
segments are placed by sample and mixed on top.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.conf import settings

from clips.models import Clip
from common.errors import ServiceError
from projects.models import Project
from timeline.models import MEDIA_LAYERS, TimelineSegment
from timeline.selectors import timeline_segments

SAMPLE_RATE = 48000
# Segment times are stored to the millisecond: an in-point within half a millisecond of a
# frame's start means that frame (1.533 s at 30 fps is frame 46, which starts at 1.5333… s).
IN_POINT_TOLERANCE = Fraction(1, 2000)
# The contract's limits (another part of the code refuses such timelines on input); an export
# checks them again in case one got in some other way.
TIMELINE_MAX_DURATION = 43200
TIMELINE_MAX_SEGMENTS = 2000


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
# A preset names the canvas's short side (API.md "Canvas, …": 1080p on 9:16 is 1080x1920).
PRESET_SHORT_SIDE = {"1080p": 1080, "720p": 720}
CANVAS_RATIOS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1), "4:5": (4, 5)}
DEFAULT_CANVAS = "16:9"
# Text sizes are given for a canvas whose short side is this many pixels.
TEXT_SIZE_BASE = 1080
SOURCE_PRESET = "source"
PRESET_NAMES = (*PRESETS, SOURCE_PRESET)
DEFAULT_PRESET = "1080p"
FORMATS = ("mp4", "webm")
DEFAULT_FORMAT = "mp4"
CAPTIONS_MODES = ("none", "burn", "sidecar")
CAPTIONS_BURN = "burn"
CAPTIONS_SIDECAR = "sidecar"
DEFAULT_CAPTIONS = "none"


@dataclass(frozen=True)
class Source:
    """What the export needs to know of one clip's media (from its probed metadata)."""

    key: str
    fps: Fraction
    has_audio: bool
    duration: Fraction
    width: int = 0
    height: int = 0
    audio_rate: int = 0
    # Keyframe times (seconds) as the ingest probe stored them; None when unknown.
    keyframes: tuple[Fraction, ...] | None = None
    # A still image (PNG, JPEG, WebP): one picture for any length, no sound.
    still: bool = False


@dataclass(frozen=True)
class Cut:
    """One timeline segment, in seconds (exact fractions of the stored decimals)."""

    source: str
    layer: str
    start: Fraction
    source_start: Fraction
    duration: Fraction
    name: str = ""
    volume: Fraction = Fraction(1)
    fade_in: Fraction = Fraction(0)
    fade_out: Fraction = Fraction(0)
    fit: str = "fit"
    duck: bool = False
    # (type, seconds) of the transition from the video cut ending where this one starts.
    transition: tuple[str, Fraction] | None = None
    # {content, font, size, color, background, x, y, align} on text and caption cuts.
    text: dict[str, Any] | None = None
    # The segment id: orders texts that start together.
    key: str = ""

    @property
    def end(self) -> Fraction:
        return self.start + self.duration


@dataclass(frozen=True)
class TextItem:
    """A text or caption segment on the frame grid: shown on timeline frames first … end - 1."""

    first: int
    end: int
    content: str
    font: str
    size: Fraction
    color: str
    background: str | None
    x: Fraction
    y: Fraction
    align: str
    fade_in: Fraction = Fraction(0)
    fade_out: Fraction = Fraction(0)


@dataclass(frozen=True)
class Piece:
    """A stretch of the video track from timeline frame `first`: a segment, or a gap (black
    and silence) when `source` is None. `origin` is the source time of its first frame."""

    first: int
    frames: int
    source: str | None = None
    origin: Fraction = Fraction(0)
    fps: Fraction = Fraction(0)
    has_audio: bool = False
    audio_rate: int = 0
    fit: str = "fit"
    volume: Fraction = Fraction(1)
    fade_in: Fraction = Fraction(0)
    fade_out: Fraction = Fraction(0)
    # The segment's frame this piece starts on (origin stays the segment's first frame), and
    # the segment's whole length in frames: fades count from its ends.
    lead: int = 0
    length: int = 0
    # A transition window: this piece is the outgoing segment's frames beyond its cut, `into`
    # the incoming one's before its start, mixed by the FFmpeg xfade `transition`.
    into: Piece | None = None
    transition: str = ""
    still: bool = False

    @property
    def end(self) -> int:
        return self.first + self.frames

    @property
    def segment_first(self) -> int:
        return self.first - self.lead

    @property
    def segment_frames(self) -> int:
        return self.length or self.frames


@dataclass(frozen=True)
class Overlay:
    """An `audio`-layer segment: `samples` samples of its source from `origin` on, mixed in
    from timeline sample `at`."""

    source: str
    origin: Fraction
    at: int
    samples: int
    audio_rate: int = 0
    volume: Fraction = Fraction(1)
    fade_in: Fraction = Fraction(0)
    fade_out: Fraction = Fraction(0)
    # Timeline sample spans [start, end) where video sound plays under a ducked segment.
    ducks: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class ExportPlan:
    width: int
    height: int
    rate: Fraction
    total_frames: int
    pieces: tuple[Piece, ...]
    overlays: tuple[Overlay, ...] = field(default=())
    texts: tuple[TextItem, ...] = field(default=())

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
    def has_gaps(self) -> bool:
        return any(piece.source is None for piece in self.pieces)


def sample_at(frame: int, rate: Fraction) -> int:
    """The audio sample where output frame `frame` starts (exact, rounded once)."""
    return round(Fraction(frame) * SAMPLE_RATE / rate)


def source_frame_index(source_start: Fraction, fps: Fraction) -> int:
    """The source frame on screen at `source_start` (within the millisecond storage precision)."""
    return math.floor((source_start + IN_POINT_TOLERANCE) * fps)


def even(value: int) -> int:
    return max(2, value - value % 2)


def canvas_size(short: int, canvas: str) -> tuple[int, int]:
    """Width and height of a canvas shape with this short side (even numbers)."""
    across, up = CANVAS_RATIOS.get(canvas, CANVAS_RATIOS[DEFAULT_CANVAS])
    if across >= up:
        return even(round(Fraction(short * across, up))), even(short)
    return even(short), even(round(Fraction(short * up, across)))


def source_preset(first_video: Source, canvas: str = DEFAULT_CANVAS) -> Preset:
    """The `source` preset: the first video segment's frame rate, and its short side on the
    project's canvas (on 16:9 a landscape source's own size)."""
    short = min(first_video.width, first_video.height) or 1080
    width, height = canvas_size(short, canvas)
    return Preset(
        SOURCE_PRESET, width, height, first_video.fps if first_video.fps > 0 else Fraction(30)
    )


def picture_fit(fit: str, source: Source, width: int, height: int) -> str:
    """A picture of the canvas's own shape looks the same whatever the fit: call it "fit",
    the cheapest, which also keeps the names of chunks rendered before fits existed."""
    if source.width and source.height and source.width * height == source.height * width:
        return "fit"
    return fit


# timeline/rules.py: the FFmpeg xfade transition that renders each type.
XFADE = {
    "crossfade": "fade",
    "dip_to_black": "fadeblack",
    "dip_to_white": "fadewhite",
    "wipe": "wipeleft",
    "slide": "slideleft",
}


def _with_transitions(
    pieces: list[Piece], transitions: dict[int, tuple[str, Fraction]], rate: Fraction
) -> list[Piece]:
    """Each transition as a window piece centred on its cut: the two segments around it lose
    the window's frames, which show both (frames beyond the cut come from their sources)."""
    out: list[Piece] = []
    for index, piece in enumerate(pieces):
        transition = transitions.get(index)
        before = out[-1] if out else None
        if (
            transition is None
            or before is None
            or before.source is None
            or before.into is not None
            or before.end != piece.first
        ):
            out.append(piece)
            continue
        kind, seconds = transition
        window_first = round((Fraction(piece.first) / rate - seconds / 2) * rate)
        window_end = round((Fraction(piece.first) / rate + seconds / 2) * rate)
        window_first = max(window_first, before.first + 1)
        window_end = min(window_end, piece.end - 1)
        if window_end - window_first < 2:
            out.append(piece)
            continue
        frames = window_end - window_first
        out[-1] = replace(
            before,
            frames=window_first - before.first,
            length=before.segment_frames,
        )
        incoming = replace(
            piece,
            first=window_first,
            frames=frames,
            lead=piece.lead - (piece.first - window_first),
            length=piece.segment_frames,
        )
        out.append(
            replace(
                before,
                first=window_first,
                frames=frames,
                lead=before.lead + (window_first - before.first),
                length=before.segment_frames,
                into=incoming,
                transition=XFADE.get(kind, "fade"),
            )
        )
        out.append(
            replace(
                piece,
                first=window_end,
                frames=piece.end - window_end,
                lead=piece.lead + (window_end - piece.first),
                length=piece.segment_frames,
            )
        )
    return out


def _merged(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _fraction_of(value: Any, default: str = "0") -> Fraction:
    return Fraction(str(value if value is not None else default))


def text_items(cuts: Sequence[Cut], rate: Fraction, width: int, height: int) -> list[TextItem]:
    """Text segments then captions on the frame grid, bottom to top (timeline/rules.py)."""
    scale = Fraction(min(width, height), TEXT_SIZE_BASE)
    order = {"text": 0, "caption": 1}
    drawn = sorted(
        (c for c in cuts if c.layer in order and c.text),
        key=lambda c: (order[c.layer], c.start, c.key),
    )
    items = []
    for cut in drawn:
        style = cut.text or {}
        first, end = round(cut.start * rate), round(cut.end * rate)
        if end <= first or not str(style.get("content", "")).strip():
            continue
        items.append(
            TextItem(
                first=first,
                end=end,
                content=str(style["content"]),
                font=str(style["font"]),
                size=(_fraction_of(style["size"]) * scale).limit_denominator(100),
                color=str(style["color"]),
                background=style.get("background"),
                x=_fraction_of(style.get("x"), "0.5"),
                y=_fraction_of(style.get("y"), "0.5"),
                align=str(style.get("align") or "center"),
                fade_in=cut.fade_in,
                fade_out=cut.fade_out,
            )
        )
    return items


def plan_export(cuts: Sequence[Cut], sources: dict[str, Source], preset: Preset) -> ExportPlan:
    """Lay the timeline out in frames and samples: segments, gaps, audio-layer overlays."""
    rate = preset.rate
    video = sorted((c for c in cuts if c.layer == "video"), key=lambda c: (c.start, c.end))
    audio = sorted((c for c in cuts if c.layer == "audio"), key=lambda c: (c.start, c.end))
    timeline_end = max((c.end for c in cuts), default=Fraction(0))
    total_frames = round(timeline_end * rate)

    pieces: list[Piece] = []
    transitions: dict[int, tuple[str, Fraction]] = {}
    cursor = 0
    for cut in video:
        first = max(round(cut.start * rate), cursor)
        last = min(round(cut.end * rate), total_frames)
        if last <= first:
            continue  # shorter than half a frame once placed on the frame grid
        if first > cursor:
            pieces.append(Piece(first=cursor, frames=first - cursor))
        source = sources[cut.source]
        fps = source.fps if source.fps > 0 and not source.still else rate
        if cut.transition is not None:
            transitions[len(pieces)] = cut.transition
        pieces.append(
            Piece(
                first=first,
                frames=last - first,
                source=cut.source,
                origin=(
                    Fraction(0)
                    if source.still
                    else Fraction(source_frame_index(cut.source_start, fps)) / fps
                ),
                fps=fps,
                has_audio=source.has_audio and not source.still,
                still=source.still,
                audio_rate=source.audio_rate,
                fit=picture_fit(cut.fit, source, preset.width, preset.height),
                volume=cut.volume,
                fade_in=cut.fade_in,
                fade_out=cut.fade_out,
            )
        )
        cursor = last
    if total_frames > cursor:
        pieces.append(Piece(first=cursor, frames=total_frames - cursor))
    if transitions:
        pieces = _with_transitions(pieces, transitions, rate)

    total_samples = sample_at(total_frames, rate)
    sounding = _merged(
        [
            (sample_at(piece.first, rate), sample_at(piece.end, rate))
            for piece in pieces
            if piece.source and piece.has_audio and piece.volume > 0
        ]
    )
    overlays: list[Overlay] = []
    for cut in audio:
        source = sources[cut.source]
        if not source.has_audio or source.still:
            continue
        begin = round(cut.start * SAMPLE_RATE)
        finish = min(round(cut.end * SAMPLE_RATE), total_samples)
        if finish <= begin:
            continue
        overlays.append(
            Overlay(
                cut.source,
                cut.source_start,
                begin,
                finish - begin,
                source.audio_rate,
                volume=cut.volume,
                fade_in=cut.fade_in,
                fade_out=cut.fade_out,
                ducks=sounding if cut.duck else (),
            )
        )
    return ExportPlan(
        width=preset.width,
        height=preset.height,
        rate=rate,
        total_frames=total_frames,
        pieces=tuple(pieces),
        overlays=tuple(overlays),
        texts=tuple(text_items(cuts, rate, preset.width, preset.height)),
    )


# --- From the database ------------------------------------------------------------------------


def _fraction(value: Decimal | float | str) -> Fraction:
    return Fraction(str(value))


def clip_of(segment: TimelineSegment) -> Clip:
    """The clip of a video or audio segment, the only segments an export reads."""
    if segment.clip is None:  # text and captions (segment_clip_iff_media_layer)
        raise ValueError(f"segment {segment.pk} has no clip")
    return segment.clip


def exportable_segments(project: Project) -> list[TimelineSegment]:
    """The project's segments (media segments with their clips; text and captions too), or a
    ServiceError saying what stops the export."""
    segments = list(timeline_segments(project_id=project.pk).select_related("clip"))
    media = [s for s in segments if s.layer in MEDIA_LAYERS]
    if not any(s.layer == TimelineSegment.Layer.VIDEO for s in segments):
        raise ServiceError(
            "The timeline has no video segment yet. Place at least one clip on the video "
            "layer, then export.",
            {"reason": "empty_timeline"},
        )
    waiting = sorted(
        {
            clip_of(s).name
            for s in media
            if clip_of(s).status != Clip.Status.READY or not clip_of(s).file_path
        }
    )
    if waiting:
        raise ServiceError(
            f"These clips are not ready yet: {', '.join(waiting)}. Wait until they finish "
            "processing (or remove them from the timeline), then export.",
            {"reason": "clips_not_ready", "clips": waiting},
        )
    return segments


def check_limits(segments: Sequence[TimelineSegment]) -> None:
    """The contract's timeline limits, as a ServiceError."""
    max_segments = int(getattr(settings, "TIMELINE_MAX_SEGMENTS", TIMELINE_MAX_SEGMENTS))
    max_duration = int(getattr(settings, "TIMELINE_MAX_DURATION", TIMELINE_MAX_DURATION))
    if len(segments) > max_segments:
        raise ServiceError(
            f"The timeline has {len(segments)} segments; an export takes at most "
            f"{max_segments}. Remove some, then export.",
            {"reason": "too_many_segments", "limit": max_segments},
        )
    end = max((s.start_time + s.duration for s in segments), default=Decimal(0))
    if end > max_duration:
        raise ServiceError(
            f"The timeline is {float(end):.0f} s long; an export may be at most {max_duration} s "
            f"({max_duration / 3600:g} h). Shorten it, then export.",
            {"reason": "too_long", "limit": max_duration},
        )


def source_of(clip: Clip) -> Source:
    meta = clip.metadata or {}
    fps = Fraction(0)
    for key in ("r_frame_rate", "avg_frame_rate"):
        try:
            fps = Fraction(str(meta.get(key) or "0"))
        except (ValueError, ZeroDivisionError):
            continue
        if fps > 0:
            break
    if fps <= 0 and meta.get("fps"):
        fps = Fraction(str(meta["fps"])).limit_denominator(1001)
    keyframes = meta.get("keyframes")
    if not isinstance(keyframes, list) or meta.get("keyframes_truncated"):
        keyframes = None
    return Source(
        key=str(clip.pk),
        fps=fps,
        has_audio=bool(meta.get("has_audio")),
        duration=_fraction(clip.duration or 0),
        width=int(meta.get("display_width") or meta.get("width") or 0),
        height=int(meta.get("display_height") or meta.get("height") or 0),
        audio_rate=int(meta.get("audio_sample_rate") or 0),
        keyframes=None if keyframes is None else tuple(Fraction(str(t)) for t in keyframes),
        still=clip.duration is None,
    )


def cuts_of(segments: Sequence[TimelineSegment]) -> list[Cut]:
    return [
        Cut(
            source=str(s.clip_id) if s.clip_id else "",
            layer=s.layer,
            start=_fraction(s.start_time),
            source_start=_fraction(s.source_start),
            duration=_fraction(s.duration),
            name=s.name,
            volume=_fraction(s.volume),
            fade_in=_fraction(s.fade_in),
            fade_out=_fraction(s.fade_out),
            fit=s.fit,
            duck=s.duck,
            transition=(
                (str(s.transition["type"]), _fraction(s.transition["duration"]))
                if s.transition
                else None
            ),
            text=s.text,
            key=str(s.pk),
        )
        for s in segments
    ]


def preset_for(
    name: str, cuts: Sequence[Cut], sources: dict[str, Source], canvas: str = DEFAULT_CANVAS
) -> Preset:
    if name != SOURCE_PRESET:
        width, height = canvas_size(PRESET_SHORT_SIDE[name], canvas)
        return Preset(name, width, height, PRESETS[name].rate)
    first = min((c for c in cuts if c.layer == "video"), key=lambda c: c.start)
    return source_preset(sources[first.source], canvas)


@dataclass(frozen=True)
class Timeline:
    """A project's timeline ready to chunk: the plan, the preset and the clips it uses."""

    plan: ExportPlan
    preset: Preset
    clips: dict[str, Clip]
    sources: dict[str, Source]
    segments: int


def timeline_plan(
    segments: Sequence[TimelineSegment],
    preset_name: str,
    *,
    canvas: str = DEFAULT_CANVAS,
    captions: str = "none",
) -> Timeline:
    """The plan of these segments at a preset on the project's canvas; caption segments are
    drawn only when `captions` is "burn"."""
    drawn = [
        s for s in segments if s.layer != TimelineSegment.Layer.CAPTION or captions == CAPTIONS_BURN
    ]
    clips = {str(s.clip_id): clip_of(s) for s in drawn if s.layer in MEDIA_LAYERS}
    cuts = cuts_of(drawn)
    sources = {key: source_of(clip) for key, clip in clips.items()}
    preset = preset_for(preset_name, cuts, sources, canvas)
    return Timeline(
        plan=plan_export(cuts, sources, preset),
        preset=preset,
        clips=clips,
        sources=sources,
        segments=len(segments),
    )
