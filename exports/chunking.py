"""Where the timeline is cut into chunks, what each chunk holds, and the name it is cached under.

Cuts fall on segment boundaries where that keeps chunks a sensible size, and inside long
segments at fixed offsets from the segment's own start (moved to the next source keyframe when
one is near, so a copyable segment stays copyable). Short segments are grouped: after enough
frames, whether a segment ends its chunk is decided by a hash of the segment itself, not by its
position. An edit therefore moves cuts only near the edited segment, and the chunks before and
after it keep their names (content-defined chunking, as rsync and backup tools do).

A chunk's name (`chunk_key`) is the SHA-256 of its ChunkSpec, which is everything the FFmpeg
builders render from, plus the source files' identity, the encoder settings, the container and
the FFmpeg version. Whatever a future segment field changes (volume, fades, transitions, text)
must reach the builders through the spec, so it reaches the name too.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import hashlib
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.conf import settings

from clips.models import Clip
from exports.plan import SAMPLE_RATE, ExportPlan, Overlay, Piece, Source, TextItem, sample_at
from processing.ffmpeg.export.chunk import (
    DUCK_RAMP_SAMPLES,
    SOUND_CONTAINER,
    ChunkSpec,
    Encoding,
    Picture,
    Sound,
    Text,
    gop,
    picture_container,
    version_args,
    video_codec_args,
)
from processing.ffmpeg.runner import run_ffprobe_lines

# Bump when the builders render an unchanged spec differently: every cached chunk is renamed.
CHUNK_FORMAT = 1


@dataclass(frozen=True)
class Sizing:
    """Chunk lengths in output frames: around `target`, between `shortest` and `longest`."""

    target: int
    max_pieces: int

    @property
    def shortest(self) -> int:
        return max(1, self.target // 2)

    @property
    def longest(self) -> int:
        return 2 * self.target


def sizing_for(rate: Fraction) -> Sizing:
    seconds = Fraction(str(settings.EXPORT_CHUNK_SECONDS))
    size = gop(rate)
    # A whole number of keyframe intervals, so a long segment's chunks keep the GOP cadence.
    target = max(size, math.ceil(seconds * rate / size) * size)
    # Every segment in a chunk is an input with its own decoder: a cap on them keeps a chunk's
    # memory flat however short the segments are.
    return Sizing(target=target, max_pieces=max(1, settings.EXPORT_CHUNK_MAX_PIECES))


def _unit(*parts: Any) -> float:
    """A number in [0, 1) fixed by `parts` alone."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _ends_chunk(piece: Piece, sizing: Sizing, length: int) -> bool:
    """Whether a segment ends its chunk, by a hash of the segment: chunks grow past `shortest`
    by about (target - shortest) frames on average, and are cut far more eagerly past
    `target`, so the hard limits (which depend on where a chunk began) rarely decide."""
    # By the whole segment (a transition trims its pieces): the segment after a new transition
    # decides as it did before.
    frames = piece.segment_frames
    chance = frames / max(1, sizing.target - sizing.shortest)
    if length >= sizing.target:
        chance *= 4
    return _unit(piece.source, piece.origin, frames) < chance


def keyframe_indexes(source: Source) -> list[int] | None:
    """The source's keyframes as frame numbers (sorted), when the ingest probe knew them."""
    if source.keyframes is None or source.fps <= 0:
        return None
    return sorted({round(t * source.fps) for t in source.keyframes})


def _split_offsets(
    piece: Piece, sizing: Sizing, rate: Fraction, keyframes: list[int] | None
) -> list[int]:
    """Where a long segment is cut, in frames from its start: every `target` frames, moved to
    the next source keyframe when one is within `shortest` frames (and the source runs at the
    output rate, so its frames are the output's)."""
    usable = keyframes if keyframes and piece.fps == rate else None
    first_source_frame = round(piece.origin * piece.fps) if usable else 0
    offsets: list[int] = []
    nominal = sizing.target
    while piece.frames - nominal >= sizing.shortest:
        cut = nominal
        if usable:
            at = bisect.bisect_left(usable, first_source_frame + nominal)
            if at < len(usable) and usable[at] - first_source_frame - nominal < sizing.shortest:
                cut = usable[at] - first_source_frame
        if piece.frames - cut < sizing.shortest:
            break
        offsets.append(cut)
        nominal = cut + sizing.target
    return offsets


def chunk_bounds(
    plan: ExportPlan, sizing: Sizing, keyframes: Mapping[str, list[int] | None]
) -> list[tuple[int, int]]:
    """The chunks as [first, last) timeline frames, covering the whole timeline."""
    bounds: list[tuple[int, int]] = []
    start = 0
    count = 0
    for index, piece in enumerate(plan.pieces):
        # A transition window is never split: its blend runs in one FFmpeg.
        if piece.frames > sizing.target + sizing.shortest and piece.into is None:
            if piece.first > start:
                bounds.append((start, piece.first))
            known = keyframes.get(piece.source) if piece.source else None
            # Offsets from the segment's own start, so a transition trimming its head or
            # tail moves none of them.
            whole = dataclasses.replace(piece, frames=piece.segment_frames, lead=0, length=0)
            inside = [
                offset - piece.lead
                for offset in _split_offsets(whole, sizing, plan.rate, known)
                if 0 < offset - piece.lead < piece.frames
            ]
            cuts = [0, *inside, piece.frames]
            bounds += [(piece.first + a, piece.first + b) for a, b in itertools.pairwise(cuts)]
            start, count = piece.end, 0
            continue
        if piece.first > start and (
            piece.end - start > sizing.longest or count >= sizing.max_pieces
        ):
            bounds.append((start, piece.first))
            start, count = piece.first, 0
        count += 1
        length = piece.end - start
        following = plan.pieces[index + 1] if index + 1 < len(plan.pieces) else None
        # Around a transition window no chunk ends: the chunks before and after it stay as
        # they were without it.
        glued = piece.into is not None or (following is not None and following.into is not None)
        if not glued and length >= sizing.shortest and _ends_chunk(piece, sizing, length):
            bounds.append((start, piece.end))
            start, count = piece.end, 0
    if start < plan.total_frames:
        bounds.append((start, plan.total_frames))
    return bounds


def chunk_specs(plan: ExportPlan, bounds: Sequence[tuple[int, int]]) -> list[ChunkSpec]:
    """What each chunk holds: its picture pieces, its segments' sound, the overlays in it."""
    overlays = sorted(plan.overlays, key=lambda o: o.at)
    starts = [o.at for o in overlays]
    longest_overlay = max((o.samples for o in overlays), default=0)
    specs = []
    index = 0
    for first, last in bounds:
        while plan.pieces[index].end <= first:
            index += 1
        pictures: list[Picture] = []
        sounds: list[Sound] = []
        # The incoming sound of transition windows, mixed over the outgoing one.
        crossing: list[Sound] = []
        chunk_start = sample_at(first, plan.rate)
        chunk_end = sample_at(last, plan.rate)
        cursor = index
        while cursor < len(plan.pieces) and plan.pieces[cursor].first < last:
            piece = plan.pieces[cursor]
            begin, end = max(first, piece.first), min(last, piece.end)
            pictures.append(_picture(piece, begin, end, plan.rate))
            from_sample, to_sample = sample_at(begin, plan.rate), sample_at(end, plan.rate)
            if piece.source and piece.has_audio:
                sounds.append(_piece_sound(piece, plan.rate, from_sample, to_sample, chunk_start))
            if piece.into is not None and piece.into.has_audio:
                incoming = _from_zero(
                    _piece_sound(piece.into, plan.rate, from_sample, to_sample, chunk_start)
                )
                if incoming.samples > 0:
                    crossing.append(incoming)
            cursor += 1
        mixed: list[Sound] = []
        low = bisect.bisect_left(starts, chunk_start - longest_overlay)
        for overlay in overlays[low : bisect.bisect_left(starts, chunk_end)]:
            begin, end = max(chunk_start, overlay.at), min(chunk_end, overlay.at + overlay.samples)
            if end > begin:
                mixed.append(_overlay_sound(overlay, begin, end, chunk_start))
        specs.append(
            ChunkSpec(
                width=plan.width,
                height=plan.height,
                rate=plan.rate,
                frames=last - first,
                samples=chunk_end - chunk_start,
                pictures=tuple(pictures),
                sounds=tuple(sounds),
                overlays=tuple(crossing + mixed),
                texts=tuple(
                    _text(item, first)
                    for item in plan.texts
                    if item.first < last and item.end > first
                ),
            )
        )
    return specs


def _picture(piece: Piece, begin: int, end: int, rate: Fraction) -> Picture:
    """Timeline frames begin … end - 1 of a piece."""
    if not piece.source:
        return Picture(frames=end - begin)
    length = Fraction(piece.segment_frames) / rate
    if piece.into is not None:
        # The whole window (never split), both sides held at their sources' ends.
        return dataclasses.replace(
            _picture(dataclasses.replace(piece, into=None), begin, end, rate),
            into=_picture(piece.into, begin, end, rate),
            transition=piece.transition,
        )
    return Picture(
        frames=end - begin,
        source=piece.source,
        origin=piece.origin,
        offset=begin - piece.segment_first,
        fps=piece.fps,
        fit=piece.fit,
        fade_in=piece.fade_in,
        fade_out=piece.fade_out,
        fade_out_at=length - piece.fade_out if piece.fade_out else Fraction(0),
        still=piece.still,
    )


def _fade_samples(seconds: Fraction) -> int:
    return round(seconds * SAMPLE_RATE)


def _piece_sound(piece: Piece, rate: Fraction, begin: int, end: int, chunk_start: int) -> Sound:
    """Timeline samples begin … end - 1 of a video piece's own sound; in a transition window
    the outgoing side fades out over it, the incoming side (`into`) in."""
    first = sample_at(piece.segment_first, rate)
    length = sample_at(piece.segment_first + piece.segment_frames, rate) - first
    fade_out = _fade_samples(piece.fade_out)
    cross: tuple[int, ...] = ()
    if piece.into is not None or piece.lead < 0:
        window_first = sample_at(piece.first, rate)
        window = sample_at(piece.end, rate) - window_first
        cross = (-1 if piece.into is not None else 1, window_first - first, window)
    return Sound(
        source=piece.source or "",
        origin=piece.origin,
        skip=begin - first,
        at=begin - chunk_start,
        samples=end - begin,
        source_rate=piece.audio_rate,
        volume=piece.volume,
        fade_in=_fade_samples(piece.fade_in),
        fade_out=fade_out,
        fade_out_at=length - fade_out if fade_out else 0,
        cross=cross,
    )


def _from_zero(sound: Sound) -> Sound:
    """A sound that starts before its segment's first sample (the incoming side of a
    transition) read from its source's time, the part before the source's start silent."""
    if sound.skip >= 0:
        return sound
    start = sound.origin + Fraction(sound.skip, SAMPLE_RATE)
    silent = 0 if start >= 0 else min(sound.samples, math.ceil(-start * SAMPLE_RATE))
    return dataclasses.replace(
        sound,
        origin=max(Fraction(0), start),
        skip=0,
        base=sound.skip + silent,
        at=sound.at + silent,
        samples=sound.samples - silent,
    )


def _overlay_sound(overlay: Overlay, begin: int, end: int, chunk_start: int) -> Sound:
    """Timeline samples begin … end - 1 of an audio-layer segment. Only the duck spans that
    reach these samples (ramps included) are named, so a far edit keeps this chunk's name."""
    skip = begin - overlay.at
    ducks = tuple(
        (a - overlay.at, b - overlay.at)
        for a, b in overlay.ducks
        if a < end and b + DUCK_RAMP_SAMPLES > begin
    )
    fade_out = _fade_samples(overlay.fade_out)
    return Sound(
        source=overlay.source,
        origin=overlay.origin,
        skip=skip,
        at=begin - chunk_start,
        samples=end - begin,
        source_rate=overlay.audio_rate,
        volume=overlay.volume,
        fade_in=_fade_samples(overlay.fade_in),
        fade_out=fade_out,
        fade_out_at=overlay.samples - fade_out if fade_out else 0,
        ducks=ducks,
    )


def _text(item: TextItem, first: int) -> Text:
    return Text(
        content=item.content,
        font=item.font,
        size=item.size,
        color=item.color,
        background=item.background,
        x=item.x,
        y=item.y,
        align=item.align,
        start=item.first - first,
        end=item.end - first,
        fade_in=item.fade_in,
        fade_out=item.fade_out,
    )


def plan_chunks(plan: ExportPlan, sources: Mapping[str, Source]) -> list[ChunkSpec]:
    """The timeline in chunks (none copied yet: the smart path decides that)."""
    keyframes = {key: keyframe_indexes(source) for key, source in sources.items()}
    return chunk_specs(plan, chunk_bounds(plan, sizing_for(plan.rate), keyframes))


# --- Names ----------------------------------------------------------------------------------


@functools.cache
def ffmpeg_version(binary: str) -> str:
    """The FFmpeg build (first line of `ffmpeg -version`): another build may encode other bits."""
    # run_ffprobe_lines runs any argument list through the one runner; only the first line counts.
    lines, _ = run_ffprobe_lines(version_args(binary), limit=1, timeout=30)
    return lines[0] if lines else ""


def source_identity(clip: Clip) -> dict[str, Any]:
    """What names a clip's file: a re-uploaded original under the same clip is another file."""
    return {"file": clip.file_path, "size": clip.file_size, "sha256": clip.sha256}


def _digest(payload: dict[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def chunk_key(
    spec: ChunkSpec,
    *,
    identities: Mapping[str, dict[str, Any]],
    fmt: str,
    encoding: Encoding,
    ffmpeg: str,
) -> str:
    return _digest(
        {
            "chunk_format": CHUNK_FORMAT,
            "ffmpeg": ffmpeg,
            "picture": "copy" if spec.copy else video_codec_args(fmt, spec.rate, encoding),
            "picture_container": picture_container(fmt),
            "sound": SOUND_CONTAINER,
            "spec": spec.describe(),
            "sources": {key: identities[key] for key in spec.sources},
        }
    )


def result_key(
    specs: Sequence[ChunkSpec],
    *,
    identities: Mapping[str, dict[str, Any]],
    fmt: str,
    encoding: Encoding,
    ffmpeg: str,
    finish: dict[str, Any],
) -> str:
    """The name of a whole export: its chunks as planned before the smart path (which decides
    the same way for the same files and settings) and how they are finished (loudness, audio
    codec, smart path on or off)."""
    keys = [
        chunk_key(spec, identities=identities, fmt=fmt, encoding=encoding, ffmpeg=ffmpeg)
        for spec in specs
    ]
    return _digest({"chunks": keys, "finish": finish})
