"""Operations on a ready clip through POST /api/process/clip, run by a real worker: renditions,
two-pass loudness normalisation and frame-accurate extraction into a new clip."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from accounts.models import User
from clips.models import Clip
from processing.models import ProcessingJob
from tests.media import MediaFactory, ffprobe_json
from tests.processing.conftest import clip_settled, job_finished, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_clamd")]


def start(
    api: APIClient, clip: Clip, operation: str, params: dict[str, Any] | None = None
) -> ProcessingJob:
    response = api.post(
        "/api/process/clip",
        {"clip_id": str(clip.pk), "operation": operation, "params": params or {}},
        format="json",
    )
    assert response.status_code == 202, response.content
    job = ProcessingJob.objects.get(pk=response.json()["id"])
    return wait_for(job_finished(job), what=f"{operation} to finish")


def stored_copy(key: str, tmp_path: Path) -> Path:
    target = tmp_path / Path(key).name
    with default_storage.open(key, "rb") as source:
        target.write_bytes(source.read())
    return target


def integrated_loudness(path: Path) -> float:
    out = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-hide_banner",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stderr.decode()
    summary = out[out.rindex("Summary:") :]
    return float(summary.split("I:")[1].split("LUFS")[0])


def gray_frames(path: Path, *, size: str = "80x60") -> list[bytes]:
    raw = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-vf",
            f"scale={size}",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    width, height = (int(v) for v in size.split("x"))
    frame = width * height
    return [raw[i : i + frame] for i in range(0, len(raw), frame)]


def difference(a: bytes, b: bytes) -> int:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True))


def test_it_makes_a_webm_rendition_on_request(
    worker: Any,
    api: APIClient,
    media: MediaFactory,
    ready_clip: Callable[..., Clip],
    tmp_path: Path,
) -> None:
    clip = ready_clip(media.normal())

    job = start(api, clip, "transcode", {"height": 144, "format": "webm"})

    assert job.status == "completed", job.developer_error
    assert job.output_data["key"] == f"clips/{clip.pk}/rendition_144p.webm"
    assert (job.output_data["width"], job.output_data["height"]) == (192, 144)
    probe = ffprobe_json(stored_copy(job.output_data["key"], tmp_path))
    assert {s["codec_name"] for s in probe["streams"]} == {"vp9", "opus"}
    clip.refresh_from_db()
    assert clip.metadata["renditions"]["rendition_144p.webm"]["format"] == "webm"
    assert clip.status == Clip.Status.READY


def test_it_normalises_loudness_in_two_passes_and_copies_the_video(
    worker: Any,
    api: APIClient,
    media: MediaFactory,
    ready_clip: Callable[..., Clip],
    tmp_path: Path,
    settings: Any,
) -> None:
    clip = ready_clip(media.normal(seconds=3))
    before = integrated_loudness(media.normal(seconds=3))

    job = start(api, clip, "normalize_audio")

    assert job.status == "completed", job.developer_error
    assert job.output_data["key"] == f"clips/{clip.pk}/normalized_audio.mp4"
    output = stored_copy(job.output_data["key"], tmp_path)
    after = integrated_loudness(output)
    assert abs(after - settings.LOUDNESS_TARGET_LUFS) < 1.5
    assert abs(before - settings.LOUDNESS_TARGET_LUFS) > 3  # it really changed
    source_video = next(
        s for s in ffprobe_json(media.normal(seconds=3))["streams"] if s["codec_type"] == "video"
    )
    output_video = next(s for s in ffprobe_json(output)["streams"] if s["codec_type"] == "video")
    assert output_video["codec_name"] == source_video["codec_name"]
    assert output_video["nb_frames"] == source_video["nb_frames"]
    clip.refresh_from_db()
    assert clip.metadata["normalized_audio"]["target_lufs"] == settings.LOUDNESS_TARGET_LUFS


def test_it_extracts_a_frame_accurate_part_into_a_new_ingested_clip(
    worker: Any,
    api: APIClient,
    owner: Any,
    media: MediaFactory,
    ready_clip: Callable[..., Clip],
    tmp_path: Path,
) -> None:
    source_path = media.normal()
    clip = ready_clip(source_path)
    used_before = User.objects.get(pk=owner.pk).storage_used

    # 0.7 s is between keyframes (every 0.5 s): a keyframe-snapped cut would start at 0.5 s.
    job = start(api, clip, "extract", {"start": 0.7, "duration": 1.0})

    assert job.status == "completed", job.developer_error
    new_clip = Clip.objects.get(pk=job.output_data["clip_id"])
    assert new_clip.project_id == clip.project_id and new_clip.pk != clip.pk
    new_clip = wait_for(clip_settled(new_clip), what="the extracted clip's ingest")
    assert new_clip.status == Clip.Status.READY, new_clip.error_message
    assert float(new_clip.duration) == pytest.approx(1.0, abs=0.05)
    assert User.objects.get(pk=owner.pk).storage_used == used_before + new_clip.file_size

    extracted = gray_frames(stored_copy(new_clip.file_path, tmp_path))
    source = gray_frames(source_path)
    assert len(extracted) == 30
    first = extracted[0]
    distances = {index: difference(first, frame) for index, frame in enumerate(source)}
    assert min(distances, key=distances.get) == 21  # 0.7 s x 30 fps
    assert ProcessingJob.objects.filter(clip=new_clip, job_type="probe").exists()


def test_it_fails_an_extract_that_does_not_fit_in_the_owners_storage(
    worker: Any, api: APIClient, owner: Any, media: MediaFactory, ready_clip: Callable[..., Clip]
) -> None:
    clip = ready_clip(media.normal())
    user = User.objects.get(pk=owner.pk)
    User.objects.filter(pk=owner.pk).update(storage_limit=user.storage_used + 100)

    job = start(api, clip, "extract", {"start": 0, "duration": 1.5})

    assert job.status == "failed"
    assert "does not fit in your storage" in job.error_message
    assert Clip.objects.filter(project=clip.project).count() == 1
    assert User.objects.get(pk=owner.pk).storage_used == user.storage_used
    assert User.objects.get(pk=owner.pk).storage_reserved == 0
