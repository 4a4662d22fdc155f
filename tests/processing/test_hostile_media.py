"""Files built to attack FFmpeg are refused at probe: a playlist disguised as MP4 (no request
reaches the canary, no output holds the secret), a pixel bomb and a tiny file claiming hours."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.db import transaction

import processing.media
from clips.ingest.pipeline import clip_ingest_start
from clips.models import Clip
from processing.ffmpeg import commands
from processing.ffmpeg.runner import FFmpegError, ffprobe_args, run_ffmpeg, run_ffprobe_json
from processing.media import media_validate
from processing.models import ProcessingJob
from tests.media import MediaFactory
from tests.processing.conftest import clip_settled, wait_for

SECRET = b"TOP-SECRET-6f1d2c-do-not-leak"


class Canary:
    def __init__(self) -> None:
        self.requests: list[str] = []
        canary = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                canary.requests.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"\0" * 188)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/segment.ts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canary() -> Iterator[Canary]:
    server = Canary()
    yield server
    server.close()


@pytest.fixture
def trick(media: MediaFactory, canary: Canary, tmp_path: Path) -> tuple[Path, Path]:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(SECRET * 100)
    return media.hls_trick(secret=secret, canary_url=canary.url), secret


def stored_files_contain(needle: bytes) -> list[str]:
    found = []

    def walk(prefix: str) -> None:
        directories, files = default_storage.listdir(prefix)
        for name in files:
            key = f"{prefix}/{name}" if prefix else name
            with default_storage.open(key, "rb") as handle:
                if needle in handle.read():
                    found.append(key)
        for directory in directories:
            walk(f"{prefix}/{directory}" if prefix else directory)

    walk("")
    return found


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_clamd")
def test_it_rejects_a_playlist_disguised_as_mp4_without_following_it(
    worker: Any,
    trick: tuple[Path, Path],
    canary: Canary,
    stored_clip: Callable[..., Clip],
) -> None:
    clip = stored_clip(trick[0], name="holiday")

    with transaction.atomic():
        clip_ingest_start(clip=clip)
    clip = wait_for(clip_settled(clip))
    wait_for(lambda: not ProcessingJob.objects.filter(clip=clip, completed_at=None).exists())

    assert clip.status == Clip.Status.FAILED
    assert clip.metadata["error_code"] == "INVALID_FILE_FORMAT"
    assert canary.requests == []
    assert stored_files_contain(SECRET) == []
    for job in ProcessingJob.objects.filter(clip=clip):
        assert SECRET.decode() not in f"{job.output_data} {job.error_message} {job.developer_error}"


@pytest.mark.parametrize(
    "builder",
    [
        lambda src, out: commands.decode_check_args(src),
        lambda src, out: commands.proxy_args(src, out / "p.mp4", width=320, height=240),
        lambda src, out: commands.poster_args(src, out / "p.jpg", at=0, width=320, height=240),
        lambda src, out: commands.waveform_args(src, out / "w.png", width=100, height=50),
        lambda src, out: commands.extract_args(
            src, out / "e.mp4", start=0, duration=1, width=320, height=240
        ),
    ],
)
def test_it_never_follows_the_playlist_even_past_the_probe(
    builder: Callable[[Path, Path], list[str]],
    trick: tuple[Path, Path],
    canary: Canary,
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    out.mkdir()

    with pytest.raises(FFmpegError):
        run_ffmpeg(builder(trick[0], out), timeout=30)
    with pytest.raises(FFmpegError):
        run_ffprobe_json(ffprobe_args(trick[0]))

    assert canary.requests == []
    for produced in out.iterdir():
        assert SECRET not in produced.read_bytes()


@pytest.fixture
def decode_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Records every FFmpeg decode media_validate starts (ffprobe reads headers only)."""
    calls: list[list[str]] = []
    real = processing.media.run_ffmpeg

    def spy(args: list[str], **kwargs: Any) -> Any:
        calls.append(args)
        return real(args, **kwargs)

    monkeypatch.setattr(processing.media, "run_ffmpeg", spy)
    return calls


def test_it_rejects_an_8192_pixel_square_before_decoding_it(
    media: MediaFactory, decode_calls: list[list[str]]
) -> None:
    with pytest.raises(processing.media.ServiceError) as error:
        media_validate(media.pixel_bomb())

    assert error.value.code == "INVALID_FILE_FORMAT"
    assert "8192x8192" in error.value.message and "larger than 8K" in error.value.message
    assert decode_calls == []


def test_it_rejects_a_tiny_file_claiming_six_hours_before_decoding_it(
    media: MediaFactory, decode_calls: list[list[str]]
) -> None:
    path = media.six_hours()
    assert path.stat().st_size < 10_000

    with pytest.raises(processing.media.ServiceError) as error:
        media_validate(path)

    assert error.value.code == "INVALID_FILE_FORMAT"
    assert f"{django_settings.MEDIA_MAX_DURATION_SECONDS / 3600:g} hours" in error.value.message
    assert decode_calls == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_clamd")
@pytest.mark.parametrize(("kind", "reason"), [("pixel_bomb", "8K"), ("six_hours", "hours")])
def test_it_fails_the_clip_of_a_hostile_header_at_probe(
    worker: Any,
    media: MediaFactory,
    stored_clip: Callable[..., Clip],
    decode_calls: list[list[str]],
    kind: str,
    reason: str,
) -> None:
    clip = stored_clip(getattr(media, kind)())

    with transaction.atomic():
        clip_ingest_start(clip=clip)
    clip = wait_for(clip_settled(clip))

    assert clip.status == Clip.Status.FAILED
    assert reason in clip.error_message
    assert clip.metadata["error_code"] == "INVALID_FILE_FORMAT"
    assert decode_calls == []
    assert not ProcessingJob.objects.filter(clip=clip, job_type="thumbnail").exists()


def _sparse(dest: Path, *, size: str, seconds_apart: float) -> Path:
    """11 real frames whose timestamps claim 240 fps (two frames 1/240 s apart) but are spread
    `seconds_apart` apart: a sparse file that a constant-rate transcode would fill with copies."""
    step = round(seconds_apart * 240)
    run_ffmpeg(
        [
            "ffmpeg", "-y", "-v", "error", "-f", "lavfi",
            "-i", f"testsrc2=size={size}:rate=240", "-frames:v", "11",
            "-vf", f"setpts='if(eq(N,0),0,if(eq(N,1),1,N*{step}))'",
            "-c:v", "libx264", "-g", "1", "-crf", "10",
            "-fps_mode", "passthrough", "-video_track_timescale", "14400", str(dest),
        ]
    )  # fmt: skip
    return dest


def _frames(path: Path) -> int:
    probe = run_ffprobe_json(ffprobe_args(path, extra=["-count_packets", "-select_streams", "v:0"]))
    return int(probe["streams"][0]["nb_read_packets"])


def test_it_rejects_eleven_frames_claiming_a_minute_at_240_fps_before_decoding_it(
    tmp_path: Path, decode_calls: list[list[str]]
) -> None:
    path = _sparse(tmp_path / "sparse.mp4", size="1280x720", seconds_apart=5.45)
    probe = run_ffprobe_json(ffprobe_args(path))
    assert probe["streams"][0]["r_frame_rate"] == "240/1"
    assert 50 < float(probe["format"]["duration"]) < 70
    # Enough bytes per second to pass the duration check: only the frame count gives it away.
    assert path.stat().st_size / 60 > processing.media.MIN_BYTES_PER_SECOND

    with pytest.raises(processing.media.ServiceError) as error:
        media_validate(path)

    assert error.value.code == "INVALID_FILE_FORMAT"
    assert "holds 11 frames" in error.value.message
    assert decode_calls == []


def test_it_transcodes_a_sparse_file_to_its_real_frames_only(tmp_path: Path) -> None:
    source = _sparse(tmp_path / "sparse.mp4", size="160x120", seconds_apart=1)
    dest = tmp_path / "proxy.mp4"

    run_ffmpeg(commands.proxy_args(source, dest, width=160, height=120), timeout=120)

    assert _frames(source) == 11
    assert _frames(dest) == 11


def test_it_accepts_one_picture_over_a_long_audio_track(tmp_path: Path) -> None:
    picture, path = tmp_path / "cover.png", tmp_path / "cover.mp4"
    run_ffmpeg(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240",
                "-frames:v", "1", str(picture)])  # fmt: skip
    run_ffmpeg(["ffmpeg", "-v", "error", "-i", str(picture), "-f", "lavfi",
                "-i", "sine=duration=20", "-c:v", "libx264", "-c:a", "aac", str(path)])  # fmt: skip

    info = media_validate(path)

    assert info["frame_count"] == 1 and info["duration"] == pytest.approx(20, abs=0.1)
