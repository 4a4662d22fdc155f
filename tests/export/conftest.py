"""Fixtures for export specs: sources made by FFmpeg (testsrc2 shows its frame number and moves
every frame, so frames can be told apart), ready clips built from them without the ingest
pipeline, and judges of the output that use ffprobe and FFmpeg filters only."""

from __future__ import annotations

import json
import math
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from django.core.files import File
from django.core.files.storage import default_storage

from clips.ingest.steps import keyframe_times
from clips.models import Clip
from clips.storage import clip_original_key
from processing.media import media_validate
from processing.models import ProcessingJob
from projects.models import Project
from tests.processing.conftest import job_finished, wait_for, worker  # noqa: F401
from tests.projects.factories import make_project
from timeline.services import timeline_replace


def ffmpeg(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        capture_output=True,
        timeout=timeout,
    )


class Sources:
    """Source files, each generated once per test session."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def video(
        self,
        *,
        size: str = "320x180",
        rate: int = 30,
        seconds: float = 4,
        tone: float | None = 440,
        volume_db: float = -30,
        gop: int = 15,
        audio_expr: str | None = None,
        extra: tuple[str, ...] = (),
        tag: str = "",
    ) -> Path:
        name = f"v-{size}-{rate}-{seconds:g}-{tone}-{volume_db:g}-{gop}-{tag}.mp4"
        path = self.directory / name
        if path.exists():
            return path
        inputs = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}"]
        codecs = [
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-bf", "0",
        ]  # fmt: skip
        if audio_expr is not None:
            inputs += ["-f", "lavfi", "-i", f"aevalsrc={audio_expr}:s=44100"]
            codecs += ["-c:a", "aac", "-b:a", "128k", "-ac", "1"]
        elif tone is not None:
            inputs += [
                "-f", "lavfi", "-i",
                f"sine=frequency={tone:g}:sample_rate=44100,volume={volume_db:g}dB",
            ]  # fmt: skip
            codecs += ["-c:a", "aac", "-b:a", "128k", "-ac", "1"]
        ffmpeg(*inputs, "-t", f"{seconds:g}", *extra, *codecs, str(path))
        return path


@pytest.fixture(scope="session")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Sources:
    return Sources(tmp_path_factory.mktemp("export-sources"))


@pytest.fixture(autouse=True)
def _fast_encoder(settings: Any) -> None:
    # Encoder speed never changes what is judged (frames, sizes, loudness), only test time.
    settings.EXPORT_X264_PRESET = "ultrafast"


@pytest.fixture
def project(owner: Any) -> Project:
    return make_project(owner, name="Export me")


def add_clip(project: Project, path: Path, name: str | None = None) -> Clip:
    """A ready clip of `path`, stored and probed the way the ingest pipeline leaves it."""
    info = media_validate(path)
    times, truncated = keyframe_times(path)  # as the ingest probe stores them
    info.update(keyframes=times, keyframes_truncated=truncated)
    clip = Clip.objects.create(
        project=project,
        owner=project.owner,
        name=name or path.stem,
        original_filename=path.name,
        file_size=path.stat().st_size,
        status=Clip.Status.READY,
        duration=Decimal(str(round(info["duration"], 3))),
        resolution=f"{info['display_width']}x{info['display_height']}",
        metadata=info,
    )
    key = clip_original_key(clip.pk)
    with open(path, "rb") as handle:
        clip.file_path = default_storage.save(key, File(handle, name=key))
    clip.save(update_fields=["file_path"])
    return clip


@pytest.fixture
def clip_of(project: Project) -> Callable[..., Clip]:
    def make(path: Path, name: str | None = None) -> Clip:
        return add_clip(project, path, name)

    return make


# Segment fields passed through as they are (timeline/rules.py).
EXTRA_FIELDS = ("fit", "transition", "duck", "text")
DECIMAL_EXTRAS = ("volume", "fade_in", "fade_out")


def lay_out(project: Project, segments: list[dict[str, Any]]) -> None:
    """Replace the project's timeline. Each segment: (clip, start, source_start, duration
    [, layer [, name]]) and any of EXTRA_FIELDS and DECIMAL_EXTRAS; text and caption
    segments have no clip."""
    project.refresh_from_db()
    timeline_replace(
        project=project,
        user=project.owner,
        version=project.timeline_version,
        segments=[
            {
                "clip_id": s["clip"].pk if s.get("clip") else None,
                "name": s.get("name", ""),
                "layer": s.get("layer", "video"),
                "start_time": Decimal(str(s["start"])),
                "source_start": Decimal(str(s.get("source_start", 0))),
                "duration": Decimal(str(s["duration"])),
                **{k: s[k] for k in EXTRA_FIELDS if k in s},
                **{k: Decimal(str(s[k])) for k in DECIMAL_EXTRAS if k in s},
            }
            for s in segments
        ],
    )


@contextmanager
def export_workers(threads: int = 2) -> Iterator[dramatiq.Broker]:
    """Dramatiq worker threads in this process (the stub broker embedded, Redis in CI): an
    export's plan, chunk and mux steps are messages, run as workers would run them."""
    broker = dramatiq.get_broker()
    broker.flush_all()
    threads_running = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
    threads_running.start()
    try:
        yield broker
    finally:
        threads_running.stop(timeout=60_000)
        broker.flush_all()


def export(project: Project, **params: Any) -> ProcessingJob:
    """Start an export through the service and let worker threads run it to the end."""
    from exports.services import export_start

    with export_workers():
        job = export_start(user=project.owner, project=project, **params)
        wait_for(job_finished(job), timeout=300, what="the export")
    job.refresh_from_db()
    assert job.status == ProcessingJob.Status.COMPLETED, (
        job.error_message,
        job.developer_error[-6000:],
    )
    return job


def output_path(job: ProcessingJob) -> Path:
    """A local copy of the stored export (the storage may be S3 in CI)."""
    key = job.output_data["storage_key"]
    local = Path(tempfile.mkdtemp(prefix="export-out-")) / Path(key).name
    with default_storage.open(key, "rb") as stored, open(local, "wb") as copy:
        shutil.copyfileobj(stored, copy)
    return local


# --- Judges: ffprobe and FFmpeg filters -------------------------------------------------------


def probe(path: Path, *extra: str) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         *extra, str(path)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return json.loads(out.stdout)


def stream(info: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(s for s in info["streams"] if s["codec_type"] == kind)


def counted_frames(path: Path) -> int:
    """Frames actually decoded from the video stream (ffprobe -count_frames)."""
    info = probe(path, "-count_frames", "-select_streams", "v:0")
    return int(info["streams"][0]["nb_read_frames"])


def loudness(path: Path, *, start: float | None = None, length: float | None = None):
    """(integrated LUFS, true peak dBTP) measured by FFmpeg's ebur128 filter."""
    window = [*(["-ss", f"{start}"] if start is not None else []),
              *(["-t", f"{length}"] if length is not None else [])]  # fmt: skip
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", *window, "-i", str(path), "-map", "0:a:0",
         "-af", "ebur128=peak=true", "-f", "null", "-"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    summary = out.stderr.decode(errors="replace").rsplit("Summary:", 1)[-1]
    integrated = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))
    peak = float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return integrated, peak


def max_volume(path: Path, *, start: float, length: float) -> float:
    """The loudest sample (dBFS) between start and start+length, by volumedetect."""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-ss", f"{start}", "-t", f"{length}",
         "-i", str(path), "-map", "0:a:0", "-af", "volumedetect", "-f", "null", "-"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    match = re.search(r"max_volume: (-?[\d.]+|-inf) dB", out.stderr.decode(errors="replace"))
    return float(match.group(1)) if match else -math.inf


def frame_pixels(path: Path, index: int, *, size: str, crop: str | None = None) -> bytes:
    """Frame number `index` (counted from 0 in decoding order of presentation) as RGB bytes."""
    chain = f"select=eq(n\\,{index})" + (f",crop={crop}" if crop else "") + f",scale={size}"
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path),
         "-vf", chain, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert out.stdout, f"no frame {index} in {path.name}"
    return out.stdout


def psnr(a: bytes, b: bytes) -> float:
    assert len(a) == len(b)
    mse = sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) / len(a)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def best_matching_source_frame(
    output: Path,
    out_index: int,
    source: Path,
    around: int,
    *,
    size: str = "160x90",
    crop: str | None = None,
) -> tuple[int, dict[int, float]]:
    """Which source frame near `around` the output frame shows: the one with the best PSNR."""
    seen = frame_pixels(output, out_index, size=size, crop=crop)
    scores = {
        n: psnr(seen, frame_pixels(source, n, size=size))
        for n in range(max(0, around - 2), around + 3)
    }
    return max(scores, key=lambda n: scores[n]), scores


def mean_luma(path: Path, index: int, *, crop: str | None = None) -> float:
    """Average brightness (0–255) of frame `index`, optionally of a crop `w:h:x:y`."""
    pixels = frame_pixels(path, index, size="64x36", crop=crop)
    return sum(pixels) / len(pixels)


def psnr_per_frame(output: Path, source: Path, *, first: int, frames: int) -> list[float]:
    """PSNR of every output frame against source frames first … first+frames-1 in order: an
    output that repeats or drops a frame anywhere drops far below a faithful one there."""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(output),
         "-i", str(source), "-lavfi",
         f"[1:v]trim=start_frame={first}:end_frame={first + frames},setpts=PTS-STARTPTS[s];"
         "[0:v]setpts=PTS-STARTPTS[o];[o][s]psnr=stats_file=-",
         "-f", "null", "-"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    lines = [line for line in out.stdout.decode().splitlines() if "psnr_avg:" in line]
    return [float(line.split("psnr_avg:")[1].split()[0]) for line in lines]


def sound_samples(path: Path) -> list[float]:
    """The output's sound as 48 kHz mono floats."""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path),
         "-map", "0:a:0", "-ac", "1", "-ar", "48000", "-f", "f32le", "-"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return list(struct.unpack(f"<{len(out.stdout) // 4}f", out.stdout))


def sine_misfit(samples: list[float], *, frequency: float, start: int, length: int) -> float:
    """How far samples start … start+length are from one steady sine of `frequency` (RMS of
    what the best-fitting sine leaves, over its amplitude). A sample missing or repeated, a
    click or a gap in the window shows as a few percent; AAC's own noise stays far below."""
    window = samples[start : start + length]
    omega = 2 * math.pi * frequency / 48000
    basis = [(math.sin(omega * (start + i)), math.cos(omega * (start + i))) for i in range(length)]
    ss = sum(s * s for s, _ in basis)
    cc = sum(c * c for _, c in basis)
    sc = sum(s * c for s, c in basis)
    ys = sum(y * s for y, (s, _) in zip(window, basis, strict=True))
    yc = sum(y * c for y, (_, c) in zip(window, basis, strict=True))
    det = ss * cc - sc * sc
    a, b = (ys * cc - yc * sc) / det, (yc * ss - ys * sc) / det
    residual = [y - a * s - b * c for y, (s, c) in zip(window, basis, strict=True)]
    amplitude = math.hypot(a, b)
    return math.sqrt(sum(r * r for r in residual) / length) / amplitude
