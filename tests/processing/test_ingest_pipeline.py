"""The ingest pipeline end to end: a stored original becomes a ready clip with a poster, a
filmstrip, a waveform and a browser proxy, through real jobs run by a Dramatiq worker."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import transaction

from accounts.models import User
from clips.ingest.pipeline import clip_ingest_start
from clips.models import Clip
from processing.models import ProcessingJob
from tests.media import MediaFactory, ffprobe_json
from tests.processing.conftest import clip_settled, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_clamd")]


def ingest(clip: Clip) -> Clip:
    """Start the ingest and wait until the clip settled and none of its jobs is running."""
    with transaction.atomic():
        clip_ingest_start(clip=clip)
    wait_for(clip_settled(clip), what=f"clip {clip.name} to settle")
    wait_for(
        lambda: (
            not ProcessingJob.objects.filter(clip=clip, status__in=("pending", "running")).exists()
        ),
        what="the clip's jobs to finish",
    )
    clip.refresh_from_db()
    return clip


def stored_copy(key: str) -> Path:
    """A local copy of a stored file, to look at it with ffprobe."""
    target = Path(tempfile.mkdtemp()) / Path(key).name
    with default_storage.open(key, "rb") as source:
        target.write_bytes(source.read())
    return target


def video_stream(path: Path) -> dict[str, Any]:
    return next(s for s in ffprobe_json(path)["streams"] if s["codec_type"] == "video")


def test_it_takes_a_normal_clip_to_ready_with_all_derived_files(
    worker: Any, media: MediaFactory, stored_clip: Callable[..., Clip]
) -> None:
    clip = ingest(stored_clip(media.normal()))

    assert clip.status == Clip.Status.READY, clip.error_message
    assert clip.resolution == "320x240"
    assert float(clip.duration) == pytest.approx(2.0, abs=0.1)
    meta = clip.metadata
    assert meta["video_codec"] == "h264" and meta["audio_codec"] == "aac"
    assert meta["has_audio"] is True and meta["fps"] == 30
    assert meta["keyframes"][0] == 0 and len(meta["keyframes"]) >= 4  # -g 15 at 30 fps
    assert meta["loudness"]["integrated_lufs"] < 0
    assert meta["loudness"]["true_peak_dbtp"] is not None
    assert meta["filmstrip"]["tiles"] == 10
    assert meta["filmstrip"]["interval"] == pytest.approx(0.2, abs=0.01)
    assert meta["scan"] == "unscanned (no scanner configured)"

    poster = stored_copy(clip.thumbnail_path)
    assert poster.read_bytes()[:3] == b"\xff\xd8\xff"  # JPEG
    filmstrip = video_stream(stored_copy(clip.filmstrip_path))
    assert filmstrip["height"] == 160
    assert filmstrip["width"] == 10 * meta["filmstrip"]["tile_width"]
    waveform = stored_copy(clip.waveform_path)
    assert waveform.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    proxy_path = stored_copy(clip.proxy_path)
    proxy = ffprobe_json(proxy_path)
    codecs = {s["codec_type"]: s["codec_name"] for s in proxy["streams"]}
    assert codecs == {"video": "h264", "audio": "aac"}
    assert float(proxy["format"]["duration"]) == pytest.approx(2.0, abs=0.15)
    # faststart: the index (moov) comes before the media data (mdat).
    head = proxy_path.read_bytes()
    assert head.index(b"moov") < head.index(b"mdat")

    jobs = dict(ProcessingJob.objects.filter(clip=clip).values_list("job_type", "status"))
    assert jobs == {"probe": "completed", "thumbnail": "completed", "transcode": "completed"}


def test_it_rewrites_derived_files_under_the_same_keys_when_run_again(
    worker: Any, media: MediaFactory, stored_clip: Callable[..., Clip]
) -> None:
    clip = ingest(stored_clip(media.normal()))
    first = sorted(default_storage.listdir(f"clips/{clip.pk}")[1])
    Clip.objects.filter(pk=clip.pk).update(status=Clip.Status.FAILED)

    clip = ingest(clip)

    assert clip.status == Clip.Status.READY
    assert sorted(default_storage.listdir(f"clips/{clip.pk}")[1]) == first
    assert first == ["filmstrip.jpg", "original", "poster.jpg", "proxy.mp4", "waveform.png"]


def test_it_makes_no_waveform_and_a_silent_proxy_for_a_clip_without_audio(
    worker: Any, media: MediaFactory, stored_clip: Callable[..., Clip]
) -> None:
    clip = ingest(stored_clip(media.no_audio()))

    assert clip.status == Clip.Status.READY, clip.error_message
    assert clip.metadata["has_audio"] is False
    assert clip.metadata["loudness"] is None
    assert clip.waveform_path == ""
    assert clip.metadata["waveform"] == "none (the clip has no audio)"
    streams = ffprobe_json(stored_copy(clip.proxy_path))["streams"]
    assert [s["codec_type"] for s in streams] == ["video"]


def test_it_shows_a_rotated_clip_upright(
    worker: Any, media: MediaFactory, stored_clip: Callable[..., Clip]
) -> None:
    clip = ingest(stored_clip(media.rotated()))

    assert clip.status == Clip.Status.READY, clip.error_message
    assert clip.metadata["rotation"] in (90, 270)
    assert clip.resolution == "240x320"
    proxy = video_stream(stored_copy(clip.proxy_path))
    assert (proxy["width"], proxy["height"]) == (240, 320)
    # The pixels are turned, so the proxy carries no rotation of its own.
    assert not any("rotation" in side for side in proxy.get("side_data_list", []))
    poster = video_stream(stored_copy(clip.thumbnail_path))
    assert (poster["width"], poster["height"]) == (240, 320)


def test_it_accepts_a_variable_frame_rate_clip(
    worker: Any, media: MediaFactory, stored_clip: Callable[..., Clip]
) -> None:
    clip = ingest(stored_clip(media.vfr()))

    assert clip.status == Clip.Status.READY, clip.error_message
    assert clip.metadata["variable_frame_rate"] is True
    assert ffprobe_json(stored_copy(clip.proxy_path))["streams"]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("truncated", "not a video file we can read"),
        ("zero_bytes", "the file is empty"),
        ("text_as_mp4", "not a video file we can read"),
    ],
)
def test_it_fails_an_unreadable_file_and_deletes_its_bytes(
    worker: Any,
    media: MediaFactory,
    stored_clip: Callable[..., Clip],
    owner: Any,
    kind: str,
    reason: str,
) -> None:
    clip = stored_clip(getattr(media, kind)())

    clip = ingest(clip)

    assert clip.status == Clip.Status.FAILED
    assert reason in clip.error_message
    assert clip.metadata["error_code"] == "INVALID_FILE_FORMAT"
    assert clip.file_path == "" and clip.file_size is None
    # Deleted once the failed clip is committed (never before: a rollback would keep the row).
    wait_for(lambda: not default_storage.exists(f"clips/{clip.pk}/original"), timeout=30)
    assert User.objects.get(pk=owner.pk).storage_used == 0
    probe = ProcessingJob.objects.get(clip=clip, job_type="probe")
    assert probe.status == "failed" and reason in probe.error_message
    assert not ProcessingJob.objects.filter(clip=clip, job_type="transcode").exists()
