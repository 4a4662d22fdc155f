"""A project's timeline in other tools' formats: OpenTimelineIO (both ways) and YouTube chapters.

OTIO: one video track (segments and the gaps between them) and as many audio tracks as the
overlapping `audio`-layer segments need. Each clip's media reference names our clip by id
(`clipseq:clip/<id>` and metadata `clip_sequencer.clip_id`), so a file that went through
another editor comes back to the same clips. Times are exact OTIO RationalTimes at each clip's
frame rate.

What OTIO has a schema for goes in it: a segment's transition is an OTIO Transition before its
clip, centred on the cut (in_offset = out_offset = duration / 2; crossfade as SMPTE_Dissolve,
the others as Custom with our type in its metadata). Text and caption segments are clips of a
GeneratorReference (generator_kind "text" or "caption", the text object as its parameters) on
video tracks of their own, one per overlapping lane, marked `clip_sequencer.layer`. What OTIO
has no schema for (volume, fades, fit, duck) goes in each clip's `clip_sequencer` metadata.
Reading other editors' files: their dissolves become crossfades (shortened to fit), other
effects are not carried.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from clips.models import Clip
from common.errors import ServiceError
from common.parsers import JSONTooDeep, json_parse
from projects.models import Project
from timeline.limits import segment_count_check
from timeline.models import TEXT_LAYERS, TimelineSegment
from timeline.selectors import timeline_end, timeline_segments
from timeline.services import timeline_replace

METADATA_KEY = "clip_sequencer"
MEDIA_URL_PREFIX = "clipseq:clip/"
DEFAULT_RATE = 30.0
MILLISECOND = Decimal("0.001")
# Times beyond this are refused as unreadable; shorter ones still meet the timeline's own limit.
OTIO_MAX_SECONDS = 1e9
# Segment fields with no OTIO schema, kept in each clip's metadata.
SOUND_AND_PICTURE = ("volume", "fade_in", "fade_out", "fit", "duck")
TRANSITION_TYPES = ("crossfade", "dip_to_black", "dip_to_white", "wipe", "slide")


def _clip_rate(clip: Clip) -> float:
    meta = clip.metadata or {}
    try:
        rate = float(Fraction(str(meta.get("r_frame_rate") or meta.get("fps") or 0)))
    except (ValueError, ZeroDivisionError):
        rate = 0.0
    return rate if rate > 0 else DEFAULT_RATE


def _time(seconds: Decimal, rate: float) -> RationalTime:
    return RationalTime(float(seconds) * rate, rate)


def _range(start: Decimal, duration: Decimal, rate: float) -> TimeRange:
    return TimeRange(_time(start, rate), _time(duration, rate))


def _media(clip: Clip) -> otio.schema.ExternalReference:
    rate = _clip_rate(clip)
    available = _range(Decimal(0), clip.duration or Decimal(0), rate) if clip.duration else None
    reference = otio.schema.ExternalReference(
        target_url=f"{MEDIA_URL_PREFIX}{clip.pk}", available_range=available
    )
    reference.name = clip.original_filename or clip.name
    return reference


def _clip_of(segment: TimelineSegment) -> Clip:
    """The clip of a video or audio segment (text and captions have none)."""
    if segment.clip is None:
        raise ValueError(f"segment {segment.pk} has no clip")
    return segment.clip


def _otio_clip(segment: TimelineSegment) -> otio.schema.Clip:
    clip = _clip_of(segment)
    rate = _clip_rate(clip)
    item = otio.schema.Clip(
        name=segment.name or clip.name,
        media_reference=_media(clip),
        source_range=_range(segment.source_start, segment.duration, rate),
    )
    item.metadata[METADATA_KEY] = {
        "clip_id": str(clip.pk),
        "segment_id": str(segment.pk),
        "clip_name": clip.name,
        **_sound_and_picture(segment),
    }
    return item


def _sound_and_picture(segment: TimelineSegment) -> dict[str, Any]:
    values = {name: getattr(segment, name) for name in SOUND_AND_PICTURE}
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in values.items()}


def _text_clip(segment: TimelineSegment, rate: float) -> otio.schema.Clip:
    reference = otio.schema.GeneratorReference(
        generator_kind=segment.layer,
        available_range=_range(Decimal(0), segment.duration, rate),
        parameters=dict(segment.text or {}),
    )
    item = otio.schema.Clip(
        name=segment.name,
        media_reference=reference,
        source_range=_range(Decimal(0), segment.duration, rate),
    )
    item.metadata[METADATA_KEY] = {
        "segment_id": str(segment.pk),
        "layer": segment.layer,
        **_sound_and_picture(segment),
    }
    return item


def _transition(segment: TimelineSegment, rate: float) -> otio.schema.Transition:
    kind = segment.transition["type"]  # type: ignore[index]
    half = Decimal(str(segment.transition["duration"])) / 2  # type: ignore[index]
    transition = otio.schema.Transition(
        name=kind,
        transition_type=(
            otio.schema.TransitionTypes.SMPTE_Dissolve
            if kind == "crossfade"
            else otio.schema.TransitionTypes.Custom
        ),
        in_offset=_time(half, rate),
        out_offset=_time(half, rate),
    )
    transition.metadata[METADATA_KEY] = {"type": kind}
    return transition


def _gap(seconds: Decimal, rate: float) -> otio.schema.Gap:
    return otio.schema.Gap(source_range=_range(Decimal(0), seconds, rate))


def _fill_track(track: otio.schema.Track, segments: list[TimelineSegment], rate: float) -> None:
    cursor = Decimal(0)
    for segment in segments:
        if segment.start_time > cursor:
            track.append(_gap(segment.start_time - cursor, rate))
        if segment.layer in TEXT_LAYERS:
            track.append(_text_clip(segment, rate))
        else:
            if segment.transition is not None and segment.start_time == cursor and len(track):
                track.append(_transition(segment, _clip_rate(_clip_of(segment))))
            track.append(_otio_clip(segment))
        cursor = segment.start_time + segment.duration


def _lanes(segments: list[TimelineSegment]) -> list[list[TimelineSegment]]:
    """Overlapping segments spread over lanes: each goes on the first lane where it fits."""
    lanes: list[list[TimelineSegment]] = []
    for segment in segments:
        for lane in lanes:
            if lane[-1].start_time + lane[-1].duration <= segment.start_time:
                lane.append(segment)
                break
        else:
            lanes.append([segment])
    return lanes


def timeline_to_otio(*, project: Project) -> str:
    """The project's timeline as an OTIO JSON document."""
    segments = list(timeline_segments(project_id=project.pk).select_related("clip"))
    video = [s for s in segments if s.layer == TimelineSegment.Layer.VIDEO]
    rate = _clip_rate(_clip_of(video[0])) if video else DEFAULT_RATE
    timeline = otio.schema.Timeline(name=project.name)
    timeline.global_start_time = RationalTime(0, rate)
    timeline.metadata[METADATA_KEY] = {
        "project_id": str(project.pk),
        "timeline_version": project.timeline_version,
    }
    video_track = otio.schema.Track(name="Video", kind=otio.schema.TrackKind.Video)
    _fill_track(video_track, video, rate)
    timeline.tracks.append(video_track)
    # Text and captions over the picture, each layer on as many tracks as its overlaps need.
    for layer, title in (
        (TimelineSegment.Layer.TEXT, "Text"),
        (TimelineSegment.Layer.CAPTION, "Captions"),
    ):
        lanes = _lanes([s for s in segments if s.layer == layer])
        for number, lane in enumerate(lanes, start=1):
            track = otio.schema.Track(name=f"{title} {number}", kind=otio.schema.TrackKind.Video)
            track.metadata[METADATA_KEY] = {"layer": str(layer)}
            _fill_track(track, lane, rate)
            timeline.tracks.append(track)
    # Audio-layer segments may overlap: each goes on the first audio track where it fits.
    lanes = _lanes([s for s in segments if s.layer == TimelineSegment.Layer.AUDIO])
    for number, lane in enumerate(lanes, start=1):
        track = otio.schema.Track(name=f"Audio {number}", kind=otio.schema.TrackKind.Audio)
        _fill_track(track, lane, rate)
        timeline.tracks.append(track)
    return otio.adapters.write_to_string(timeline, "otio_json")


# --- Import -----------------------------------------------------------------------------------


def _invalid(message: str, **details: Any) -> ServiceError:
    return ServiceError(message, details)


def _seconds(value: RationalTime, *, where: str) -> Decimal:
    """Seconds of an OTIO time; a rate of 0 (infinite seconds), NaN or an absurd value is the
    file's fault, never a crash."""
    seconds = value.to_seconds()
    if not (value.rate > 0 and math.isfinite(seconds) and abs(seconds) <= OTIO_MAX_SECONDS):
        raise _invalid(
            f"The .otio file has a time that is not a usable number of seconds ({where}: "
            f"{value.value!r} at rate {value.rate!r}). Export it again from your editor.",
            item=where,
        )
    return Decimal(repr(seconds)).quantize(MILLISECOND, rounding=ROUND_HALF_UP)


def _parse(document: str) -> otio.schema.Timeline:
    # OTIO's C++ reader recurses without a limit: a file nested ~100,000 levels deep (600 KB)
    # kills the whole process with a segmentation fault. Python's parser checks it first (real
    # .otio files nest about 15 levels) and refuses what is not JSON at all.
    try:
        # OTIO writes a NaN time as NaN: let it through to be named below.
        json_parse(document, allow_constants=True)
    except JSONTooDeep as exc:
        raise _invalid(
            f"The .otio file is nested more than {exc.limit} levels deep; no editor writes "
            "that. Export it again as .otio.",
            max_depth=exc.limit,
        ) from None
    except ValueError as exc:
        raise _invalid(
            "This is not an OpenTimelineIO (.otio) file we can read. Export it again as .otio.",
            reason=str(exc)[:300],
        ) from exc
    try:
        parsed = otio.adapters.read_from_string(document, "otio_json")
    except Exception as exc:  # the OTIO reader raises assorted exception types
        raise _invalid(
            "This is not an OpenTimelineIO (.otio) file we can read. Export it again as .otio.",
            reason=str(exc)[:300],
        ) from exc
    if not isinstance(parsed, otio.schema.Timeline):
        raise _invalid(
            "The .otio file must contain a timeline (it holds something else).",
            schema=type(parsed).__name__,
        )
    return parsed


def _match_clip(item: otio.schema.Clip, clips: list[Clip]) -> Clip | None:
    """Our clip for an OTIO clip: by the id we wrote, else by media or clip name."""
    by_id = {str(c.pk): c for c in clips}
    meta = item.metadata.get(METADATA_KEY) if METADATA_KEY in item.metadata else None
    if meta is not None and "clip_id" in meta and str(meta["clip_id"]) in by_id:
        return by_id[str(meta["clip_id"])]
    reference = item.media_reference
    url = getattr(reference, "target_url", "") or ""
    if url.startswith(MEDIA_URL_PREFIX) and url[len(MEDIA_URL_PREFIX) :] in by_id:
        return by_id[url[len(MEDIA_URL_PREFIX) :]]
    names = {n for n in (getattr(reference, "name", ""), url.rsplit("/", 1)[-1], item.name) if n}
    matches = [c for c in clips if c.name in names or c.original_filename in names]
    return matches[0] if len(matches) == 1 else None


def _ours(item: Any) -> dict[str, Any]:
    """Our metadata on an OTIO object, as a plain dict (empty if it has none)."""
    if METADATA_KEY not in item.metadata:
        return {}
    meta = item.metadata[METADATA_KEY]
    return dict(meta) if hasattr(meta, "keys") else {}


def _text_layer(track: otio.schema.Track) -> str | None:
    """ "text" or "caption" for a track of our text segments, else None (a track of media)."""
    layer = _ours(track).get("layer")
    if layer in TEXT_LAYERS:
        return str(layer)
    generated = [
        item.media_reference.generator_kind
        for item in track
        if isinstance(item, otio.schema.Clip)
        and isinstance(item.media_reference, otio.schema.GeneratorReference)
    ]
    if generated and all(kind in TEXT_LAYERS for kind in generated):
        return str(generated[0])
    return None


def _plain(value: Any) -> Any:
    """OTIO's dictionaries and lists as Python ones (for the text object)."""
    if hasattr(value, "keys"):
        return {str(k): _plain(value[k]) for k in value.keys()}  # noqa: SIM118
    if isinstance(value, list | tuple) or type(value).__name__ == "AnyVector":
        return [_plain(v) for v in value]
    return value


def _transition_of(item: otio.schema.Transition) -> dict[str, Any]:
    kind = _ours(item).get("type")
    if kind not in TRANSITION_TYPES:
        # Another editor's dissolve, wipe or effect: the nearest we have is a crossfade.
        kind = "crossfade"
    where = item.name or "transition"
    try:
        offsets = item.in_offset + item.out_offset
    except (ValueError, ArithmeticError, TypeError) as exc:
        raise _invalid(
            f"The .otio file has a transition whose length cannot be computed ({where}). "
            "Export it again from your editor.",
            item=where,
            reason=str(exc)[:300],
        ) from exc
    duration = _seconds(offsets, where=where)
    return {"type": kind, "duration": duration}


def _placed_and_source(
    track: otio.schema.Track, index: int, item: otio.schema.Clip, *, where: str
) -> tuple[TimeRange, TimeRange]:
    """Where the item sits on its track and which part of its media it shows."""
    try:
        return track.range_of_child_at_index(index), item.trimmed_range()
    except (ValueError, ArithmeticError, TypeError) as exc:
        raise _invalid(
            f"The .otio file has an item whose place in time cannot be computed "
            f"({where}). Export it again from your editor.",
            item=where,
            reason=str(exc)[:300],
        ) from exc


def _segments_from(timeline: otio.schema.Timeline, clips: list[Clip]) -> list[dict[str, Any]]:
    text_tracks = [(t, layer) for t in timeline.video_tracks() if (layer := _text_layer(t))]
    video_tracks = [
        t
        for t in timeline.video_tracks()
        if _text_layer(t) is None and any(isinstance(i, otio.schema.Clip) for i in t)
    ]
    if len(video_tracks) > 1:
        raise _invalid(
            "The .otio timeline has more than one video track with clips; this editor has one "
            "video layer. Flatten the video tracks into one, then import again.",
            video_tracks=len(video_tracks),
        )
    segments: list[dict[str, Any]] = []
    unknown: list[str] = []
    layers = [(t, TimelineSegment.Layer.VIDEO) for t in video_tracks] + [
        (t, TimelineSegment.Layer.AUDIO) for t in timeline.audio_tracks()
    ]
    for track, layer in layers:
        pending: dict[str, Any] | None = None
        previous: dict[str, Any] | None = None
        for index, item in enumerate(track):
            if isinstance(item, otio.schema.Transition):
                pending = _transition_of(item) if layer == TimelineSegment.Layer.VIDEO else None
                continue
            if not isinstance(item, otio.schema.Clip) or not item.enabled:
                pending, previous = None, None
                continue  # gaps and muted clips
            clip = _match_clip(item, clips)
            if clip is None:
                unknown.append(item.name or getattr(item.media_reference, "name", "") or "?")
                pending, previous = None, None
                continue
            where = item.name or f"{track.name or layer} item {index + 1}"
            placed, source = _placed_and_source(track, index, item, where=where)
            meta = _ours(item)
            segment = {
                "clip_id": clip.pk,
                "name": (item.name or clip.name)[:255],
                "layer": layer,
                "start_time": _seconds(placed.start_time, where=where),
                "source_start": max(Decimal(0), _seconds(source.start_time, where=where)),
                "duration": _seconds(placed.duration, where=where),
                **{name: meta[name] for name in SOUND_AND_PICTURE if name in meta},
            }
            if layer == TimelineSegment.Layer.AUDIO:
                segment.pop("fit", None)
            else:
                segment.pop("duck", None)
            if pending is not None and previous is not None:
                # Centred on the cut and no longer than either neighbour (other editors' are
                # often one-sided or longer).
                limit = min(previous["duration"], segment["duration"])
                if pending["duration"] > 0:
                    segment["transition"] = {
                        **pending,
                        "duration": float(min(pending["duration"], limit)),
                    }
            segments.append(segment)
            pending, previous = None, segment
            # Stop reading a file with far too many clips as soon as it has one too many.
            segment_count_check(len(segments))
    for track, text_layer in text_tracks:
        for index, item in enumerate(track):
            if not isinstance(item, otio.schema.Clip) or not item.enabled:
                continue
            where = item.name or f"{track.name or text_layer} item {index + 1}"
            placed, _ = _placed_and_source(track, index, item, where=where)
            reference = item.media_reference
            parameters = (
                _plain(reference.parameters)
                if isinstance(reference, otio.schema.GeneratorReference)
                else {}
            )
            meta = _ours(item)
            segments.append(
                {
                    "layer": text_layer,
                    "name": (item.name or "")[:255],
                    "start_time": _seconds(placed.start_time, where=where),
                    "duration": _seconds(placed.duration, where=where),
                    "text": parameters,
                    **{n: meta[n] for n in ("fade_in", "fade_out") if n in meta},
                }
            )
            # Stop reading a file with far too many clips as soon as it has one too many.
            segment_count_check(len(segments))
    if unknown:
        raise _invalid(
            "These media of the .otio file are not clips of this project: "
            f"{', '.join(sorted(set(unknown)))}. Upload them to the project first (same name), "
            "then import again.",
            unknown_media=sorted(set(unknown)),
        )
    return [s for s in segments if s["duration"] > 0]


def timeline_import_otio(
    *, project: Project, user: Any, document: str, version: int | None = None
) -> Project:
    """Replace the project's timeline with the one in an OTIO document whose media are clips of
    the project (matched by our clip id, else by name). `version` as for a timeline save."""
    timeline = _parse(document)
    clips = list(Clip.objects.filter(project=project))
    segments = _segments_from(timeline, clips)
    return timeline_replace(
        project=project,
        user=user,
        version=project.timeline_version if version is None else version,
        segments=segments,
    )


# --- YouTube chapters -------------------------------------------------------------------------

CHAPTERS_MIN_COUNT = 3
CHAPTER_MIN_SECONDS = 10


@dataclass(frozen=True)
class Chapter:
    start: int  # whole seconds, as YouTube reads them
    title: str

    def timestamp(self, *, hours: bool) -> str:
        h, rest = divmod(self.start, 3600)
        m, s = divmod(rest, 60)
        return f"{h}:{m:02d}:{s:02d}" if hours else f"{m:02d}:{s:02d}"


def _chapter_error(rule: str, message: str, **details: Any) -> ServiceError:
    return ServiceError(
        f"These segments cannot become YouTube chapters: {message}", {"rule": rule, **details}
    )


def chapters_for(*, project: Project) -> tuple[list[Chapter], str]:
    """YouTube chapters from the video segments' names (adjacent segments with the same name
    make one chapter), checked against YouTube's rules; returns them and the description text."""
    video = [
        s
        for s in timeline_segments(project_id=project.pk).select_related("clip")
        if s.layer == TimelineSegment.Layer.VIDEO
    ]
    if not video:
        raise _chapter_error("first_at_zero", "the timeline has no video segments.")
    chapters: list[Chapter] = []
    for segment in video:
        title = (segment.name or _clip_of(segment).name).strip() or f"Chapter {len(chapters) + 1}"
        start = math.floor(segment.start_time)
        if chapters and (chapters[-1].title == title or start == chapters[-1].start):
            continue  # the same chapter goes on (or it would share a timestamp)
        chapters.append(Chapter(start, title))
    if chapters[0].start != 0:
        raise _chapter_error(
            "first_at_zero",
            f"YouTube needs the first chapter at 00:00, but the first video segment starts at "
            f"{video[0].start_time} s. Move it to the start of the timeline.",
            first_start=float(video[0].start_time),
        )
    if len(chapters) < CHAPTERS_MIN_COUNT:
        raise _chapter_error(
            "at_least_three",
            f"YouTube needs at least {CHAPTERS_MIN_COUNT} chapters, and the video segments make "
            f"{len(chapters)}. Give segments different names or add segments.",
            chapters=len(chapters),
        )
    end = math.floor(timeline_end(project_id=project.pk))
    for chapter, after in zip(chapters, [*(c.start for c in chapters[1:]), end], strict=True):
        if after - chapter.start < CHAPTER_MIN_SECONDS:
            raise _chapter_error(
                "at_least_ten_seconds",
                f"each chapter must last at least {CHAPTER_MIN_SECONDS} seconds, and "
                f"“{chapter.title}” lasts {after - chapter.start} s. Lengthen it or merge it "
                "with a neighbour (give both the same name).",
                chapter=chapter.title,
                seconds=after - chapter.start,
            )
    hours = end >= 3600
    text = "\n".join(f"{c.timestamp(hours=hours)} {c.title}" for c in chapters) + "\n"
    return chapters, text
