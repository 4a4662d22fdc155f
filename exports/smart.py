"""The smart path, chunk by chunk: which chunks' pictures are stream-copied instead of encoded.

A chunk is copyable when every piece starts and ends on a source keyframe and its sources
need no scaling (processing/ffmpeg/export/smart.py). The chunks join into one video track with
one set of codec parameters, so copying is decided for the export as a whole:

- every chunk copyable, all from sources encoded alike: everything is copied (a timeline cut
  on keyframes of one camera's footage);
- otherwise the other chunks are encoded, and only copyable chunks whose sources carry exactly
  our encoder's parameters (earlier exports of ours, say) are copied among them.

Cheap checks on the clips' stored metadata come first; the files are fetched and read only
for chunks that pass them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import struct
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings

from clips.models import Clip
from exports.sources import local_copy, work_folder
from processing.ffmpeg.commands import keyframes_probe_args
from processing.ffmpeg.export.chunk import ChunkSpec, Encoding
from processing.ffmpeg.export.smart import (
    VideoStream,
    copy_refusal,
    encoder_probe_args,
    parse_video_stream,
    video_stream_probe_args,
)
from processing.ffmpeg.runner import run_ffmpeg, run_ffprobe_json, run_ffprobe_lines

logger = logging.getLogger(__name__)

# How many packets a source's keyframe scan reads at most (about 2 h at 60 fps).
SMART_MAX_PACKETS = 500_000
NOT_OURS = "the copyable sources were encoded with other parameters than the rest of the export"


def _keyframe_times(clip: Clip) -> list[Fraction] | None:
    """The keyframe times the ingest probe stored, unless it had to stop counting."""
    meta = clip.metadata or {}
    times = meta.get("keyframes")
    if not isinstance(times, list) or meta.get("keyframes_truncated"):
        return None
    return [Fraction(str(t)) for t in times]


def _mp4_boxes(handle: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the MP4 boxes between start and end."""
    position = start
    while position + 8 <= end:
        handle.seek(position)
        header = handle.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header)
        payload = position + 8
        if size == 1:
            size = struct.unpack(">Q", handle.read(8))[0]
            payload += 8
        elif size == 0:
            size = end - position
        if size < 8 or position + size > end:
            return
        yield kind, payload, position + size
        position += size


def _mp4_track(handle: BinaryIO, start: int, end: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for kind, payload, box_end in _mp4_boxes(handle, start, end):
        if kind in (b"mdia", b"minf", b"stbl"):
            found.update(_mp4_track(handle, payload, box_end))
        elif kind == b"hdlr":
            handle.seek(payload + 8)
            found["handler"] = handle.read(4)
        elif kind == b"stsz":
            handle.seek(payload + 8)
            found["samples"] = struct.unpack(">I", handle.read(4))[0]
        elif kind == b"stsd":
            handle.seek(payload + 8)
            entry_size, entry_kind = struct.unpack(">I4s", handle.read(8))
            if entry_kind not in (b"avc1", b"avc3"):
                continue
            # A visual sample entry's own fields take 78 bytes before its child boxes.
            entry = payload + 8
            for child, child_payload, child_end in _mp4_boxes(
                handle, entry + 8 + 78, entry + entry_size
            ):
                if child == b"avcC":
                    handle.seek(child_payload)
                    found["avcc"] = handle.read(child_end - child_payload)
                elif child == b"pasp":
                    handle.seek(child_payload)
                    found["pasp"] = struct.unpack(">II", handle.read(8))
    return found


def mp4_video_track(path: Path) -> dict[str, Any] | None:
    """The first video track's avcC (the H.264 codec parameters), pixel aspect and sample
    count, read from the MP4/MOV index in a few small reads, without starting ffprobe. None
    for anything else (ffprobe then decides)."""
    try:
        with open(path, "rb") as handle:
            for kind, payload, box_end in _mp4_boxes(handle, 0, path.stat().st_size):
                if kind != b"moov":
                    continue
                for child, child_payload, child_end in _mp4_boxes(handle, payload, box_end):
                    if child != b"trak":
                        continue
                    track = _mp4_track(handle, child_payload, child_end)
                    if track.get("handler") == b"vide":
                        return track if "avcc" in track and "samples" in track else None
    except (OSError, struct.error):
        return None
    return None


def _parameters_hash(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _same_hash(value: str) -> str:
    """ffprobe writes `MD5:<hex>`; the MP4 index path gives the bare hex of the same bytes."""
    return value.removeprefix("MD5:").lower()


def _stream_from_metadata(path: Path, clip: Clip) -> VideoStream | None:
    meta = clip.metadata or {}
    keyframes = _keyframe_times(clip)
    track = mp4_video_track(path)
    if keyframes is None or track is None or not meta.get("r_frame_rate"):
        return None
    h, v = track.get("pasp", (1, 1))
    try:
        fps = Fraction(str(meta["r_frame_rate"]))
    except (ValueError, ZeroDivisionError):
        return None
    return VideoStream(
        codec=str(meta.get("video_codec") or ""),
        profile=str(meta.get("video_profile") or ""),
        pix_fmt=str(meta.get("pix_fmt") or ""),
        width=int(meta.get("width") or 0),
        height=int(meta.get("height") or 0),
        fps=fps,
        sar="1:1" if h == v else f"{h}:{v}",
        rotation=int(meta.get("rotation") or 0),
        extradata_hash=_parameters_hash(track["avcc"]),
        frame_count=int(track["samples"]),
        keyframes=frozenset(round(t * fps) for t in keyframes),
    )


def video_stream(path: Path, clip: Clip) -> VideoStream | None:
    """One source's video stream: from the ingest metadata and the MP4 index when they tell
    everything, else the ffprobe header, with keyframes from the metadata or a packet scan."""
    quick = _stream_from_metadata(path, clip)
    if quick is not None:
        return quick
    data = run_ffprobe_json(video_stream_probe_args(settings.FFPROBE_BINARY, path))
    keyframes = _keyframe_times(clip)
    stream = None
    if keyframes is not None:
        stream = parse_video_stream(data, keyframe_times=keyframes)
    if stream is None:
        packets: list[Fraction] = []
        key_packets: list[Fraction] = []

        def keep(line: str) -> bool:
            time, _, flags = line.partition(",")
            try:
                value = Fraction(time)
            except (ValueError, ZeroDivisionError):
                return False
            packets.append(value)
            if "K" in flags:
                key_packets.append(value)
            return False  # counted here; nothing to keep

        _, truncated = run_ffprobe_lines(
            keyframes_probe_args(path), keep=keep, limit=SMART_MAX_PACKETS
        )
        if truncated or not packets:
            return None
        stream = parse_video_stream(data, keyframe_times=key_packets, packet_times=packets)
    if stream is None:
        return None
    return dataclasses.replace(stream, extradata_hash=_same_hash(stream.extradata_hash))


def _metadata_refusal(spec: ChunkSpec, clips: Mapping[str, Clip]) -> str | None:
    """What the stored metadata alone says against copying a chunk (None: look closer)."""
    if spec.effects:
        return "the picture has fades or text drawn on it"
    for piece in spec.pictures:
        if piece.source is None:
            return "the timeline has gaps"
        meta = clips[piece.source].metadata or {}
        if meta.get("video_codec") != "h264" or meta.get("pix_fmt") != "yuv420p":
            return "a source is not H.264 yuv420p"
        if (meta.get("width"), meta.get("height"), meta.get("rotation") or 0) != (
            spec.width,
            spec.height,
            0,
        ):
            return "a source would need scaling or rotating"
        if piece.fps != spec.rate:
            return "a source has another frame rate"
        times = _keyframe_times(clips[piece.source])
        if times is not None:
            start = round(piece.origin * piece.fps) + piece.offset
            if start not in {round(t * piece.fps) for t in times}:
                return "an in-point is not on a keyframe"
    return None


_OUR_PARAMETERS: dict[tuple[Any, ...], str | None] = {}


def our_parameters(job_id: Any, spec: ChunkSpec, encoding: Encoding) -> str | None:
    """The codec parameters hash of what our encoder makes at this size and rate."""
    key = (spec.width, spec.height, spec.rate, encoding)
    if key not in _OUR_PARAMETERS:
        folder = work_folder(job_id, "encoder-probe")
        output = folder / "probe.mp4"
        run_ffmpeg(
            encoder_probe_args(
                settings.FFMPEG_BINARY,
                width=spec.width,
                height=spec.height,
                rate=spec.rate,
                encoding=encoding,
                output=output,
            ),
            cwd=folder,
        )
        track = mp4_video_track(output)
        _OUR_PARAMETERS[key] = _parameters_hash(track["avcc"]) if track else None
    return _OUR_PARAMETERS[key]


def copy_decisions(
    *,
    job_id: Any,
    specs: Sequence[ChunkSpec],
    clips: Mapping[str, Clip],
    sources: Mapping[str, Mapping[str, Any]],
    encoding: Encoding,
) -> tuple[list[bool], str | None]:
    """Which chunks to copy, and why the first chunk that is not copied is not (None when all
    are). Fetches the files of the chunks that pass the metadata checks."""
    refusals: list[str | None] = [_metadata_refusal(spec, clips) for spec in specs]
    candidates = [i for i, refusal in enumerate(refusals) if refusal is None]
    if not candidates:
        return [False] * len(specs), next((r for r in refusals if r), None)
    used = list(dict.fromkeys(key for i in candidates for key in specs[i].sources))

    def probe(key: str) -> VideoStream | None:
        return video_stream(local_copy(job_id, key, sources[key]), clips[key])

    # ffprobe and downloads mostly wait on the disk or the network: side by side.
    with ThreadPoolExecutor(max_workers=4) as pool:
        streams = dict(zip(used, pool.map(probe, used), strict=True))
    parameters: dict[int, str] = {}
    for i in candidates:
        spec = specs[i]
        found = [streams.get(p.source or "") for p in spec.pictures]
        refusals[i] = copy_refusal(
            spec.pictures, found, width=spec.width, height=spec.height, rate=spec.rate
        )
        first = found[0]
        if refusals[i] is None and first is not None:
            parameters[i] = first.extradata_hash
    if len(parameters) == len(specs) and len(set(parameters.values())) == 1:
        return [True] * len(specs), None
    ours = our_parameters(job_id, specs[0], encoding) if parameters else None
    decisions = [ours is not None and parameters.get(i) == ours for i in range(len(specs))]
    for i in parameters:
        if not decisions[i]:
            refusals[i] = NOT_OURS
    refusal = next((r for i, r in enumerate(refusals) if not decisions[i] and r), None)
    logger.info("export %s: %d of %d chunks copied", job_id, sum(decisions), len(specs))
    return decisions, refusal
