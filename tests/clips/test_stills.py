"""Still images (PNG, JPEG, WebP) uploaded through the clips API become clips without a length:
probed, given a poster and a preview picture, ready with duration null and no sound. What a
file is comes from its bytes, never its name; a decompression bomb is refused before any
decoder sees it. Images are made at test time by FFmpeg (and the bomb by zlib)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from clips.models import Clip
from processing.models import ProcessingJob
from projects.models import Project
from tests.clips.conftest import upload_all
from tests.media import MediaFactory, ffmpeg, ffprobe_json
from tests.processing.conftest import (  # noqa: F401 (fixtures used by name)
    clamd,
    clamd_socket,
    clip_settled,
    no_clamd,
    wait_for,
    worker,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stills")


def _image(directory: Path, name: str, *args: str) -> Path:
    path = directory / name
    if not path.exists():
        ffmpeg(*args, str(path))
    return path


def logo_png(directory: Path) -> Path:
    """A 640x360 PNG with transparency (a logo)."""
    return _image(
        directory,
        "logo.png",
        "-f", "lavfi", "-i", "testsrc2=size=640x360", "-frames:v", "1",
        "-vf", "format=rgba,colorchannelmixer=aa=0.5", "-f", "image2", "-c:v", "png",
    )  # fmt: skip


def photo_jpeg(directory: Path) -> Path:
    return _image(
        directory,
        "photo.jpg",
        "-f", "lavfi", "-i", "testsrc2=size=800x600", "-frames:v", "1", "-f", "image2",
    )  # fmt: skip


def card_webp(directory: Path) -> Path:
    return _image(
        directory,
        "card.webp",
        "-f", "lavfi", "-i", "testsrc2=size=480x270", "-frames:v", "1", "-f", "webp",
    )  # fmt: skip


def animated_png(directory: Path) -> Path:
    return _image(
        directory,
        "spinner.apng",
        "-f", "lavfi", "-i", "testsrc2=size=64x36:rate=10", "-t", "1", "-plays", "0",
        "-f", "apng",
    )  # fmt: skip


def animated_webp(directory: Path) -> Path:
    return _image(
        directory,
        "sticker.webp",
        "-f", "lavfi", "-i", "testsrc2=size=64x36:rate=10", "-t", "1", "-loop", "0",
        "-f", "webp",
    )  # fmt: skip


def with_exif_orientation(source: Path, dest: Path, orientation: int) -> Path:
    """`source` (a JPEG) with an EXIF segment saying how to turn it (6: a quarter turn
    clockwise, as a phone held upright writes it)."""
    entry = struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1) + entry + bytes(4)
    app1 = b"Exif\x00\x00" + tiff
    data = source.read_bytes()
    dest.write_bytes(data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:])
    return dest


def png_bomb(path: Path, side: int = 30000) -> Path:
    """A real 30000x30000 one-bit PNG of zeros: about 110 KB on disk, 900 megapixels
    (several GB as RGBA) once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    row = b"\0" * (1 + (side + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(
        PNG_MAGIC + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path


def upload(api: APIClient, project: Project, path: Path, *, filename: str | None = None) -> Any:
    file = SimpleUploadedFile(filename or path.name, path.read_bytes())
    return api.post(f"/api/projects/{project.pk}/clips", {"file": file}, format="multipart")


def ready(api: APIClient, response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.content
    clip = Clip.objects.get(pk=response.json()["id"])
    wait_for(clip_settled(clip), what="the still to be processed")
    body = api.get(f"/api/clips/{clip.pk}").json()
    assert body["status"] == "ready", body["error_message"]
    return body


def fetched(api: APIClient, url: str) -> bytes:
    if url.startswith("http"):  # a presigned S3 link
        answer = requests.get(url, timeout=10)
        assert answer.status_code == 200, url
        return answer.content
    response = api.get(url)
    assert response.status_code == 200, url
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.usefixtures("worker", "no_clamd")
def test_it_turns_an_uploaded_png_into_a_ready_still(
    api: APIClient, project: Project, images: Path
) -> None:
    body = ready(api, upload(api, project, logo_png(images)))

    assert body["duration"] is None
    assert body["resolution"] == "640x360"
    assert body["metadata"]["still"] is True
    assert body["metadata"]["has_audio"] is False
    assert body["metadata"]["container"] == "png_pipe"
    assert body["thumbnail_url"] and body["proxy_url"]
    assert body["filmstrip_url"] is None and body["waveform_url"] is None
    # The preview picture keeps the logo's transparency: a PNG, within the proxy size.
    assert fetched(api, body["proxy_url"]).startswith(PNG_MAGIC)
    assert body["metadata"]["proxy"]["format"] == "png"
    assert fetched(api, body["thumbnail_url"]).startswith(JPEG_MAGIC)
    jobs = ProcessingJob.objects.filter(clip_id=body["id"])
    assert {job.job_type for job in jobs} == {"probe", "thumbnail", "transcode"}
    assert all(job.status == "completed" for job in jobs)


@pytest.mark.usefixtures("worker", "no_clamd")
@pytest.mark.parametrize(
    ("make", "size", "container"),
    [(photo_jpeg, "800x600", "jpeg_pipe"), (card_webp, "480x270", "webp_pipe")],
)
def test_it_turns_jpeg_and_webp_into_ready_stills(
    api: APIClient,
    project: Project,
    images: Path,
    make: Any,
    size: str,
    container: str,
) -> None:
    body = ready(api, upload(api, project, make(images)))

    assert body["duration"] is None
    assert body["resolution"] == size
    assert body["metadata"]["container"] == container
    assert body["metadata"]["has_audio"] is False
    proxy = fetched(api, body["proxy_url"])
    assert proxy.startswith(JPEG_MAGIC)
    assert body["metadata"]["proxy"]["width"] <= 1280
    assert body["metadata"]["proxy"]["height"] <= 720


@pytest.mark.usefixtures("worker", "no_clamd")
def test_a_still_goes_on_the_video_lane_for_any_length_but_not_on_the_audio_lane(
    api: APIClient, project: Project, images: Path
) -> None:
    still = ready(api, upload(api, project, photo_jpeg(images)))
    segment = {"clip_id": still["id"], "layer": "video", "start_time": 0, "source_start": 0}

    placed = api.post(
        f"/api/projects/{project.pk}/timeline",
        {"version": 0, "segments": [{**segment, "duration": 600}]},
        format="json",
    )
    refused = api.post(
        f"/api/projects/{project.pk}/timeline/segments",
        {**segment, "layer": "audio", "duration": 5},
        format="json",
    )

    assert placed.status_code == 200, placed.content
    assert placed.json()["duration"] == 600
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["field"] == "layer"
    assert "no sound" in refused.json()["error"]["message"]


def test_it_refuses_a_decompression_bomb_before_decoding_it(
    api: APIClient, owner: Any, project: Project, tmp_path: Path
) -> None:
    bomb = png_bomb(tmp_path / "poster.png")

    response = upload(api, project, bomb)

    assert response.status_code == 415, response.content
    error = response.json()["error"]
    assert error["code"] == "INVALID_FILE_FORMAT"
    assert "30000x30000" in error["message"] and "8K" in error["message"]
    assert error["details"]["width"] == 30000
    assert not Clip.objects.exists()
    owner.refresh_from_db()
    assert (owner.storage_used, owner.storage_reserved) == (0, 0)


def test_it_refuses_an_animated_webp_with_a_way_out(
    api: APIClient, project: Project, images: Path
) -> None:
    response = upload(api, project, animated_webp(images))

    assert response.status_code == 415
    error = response.json()["error"]
    assert error["code"] == "INVALID_FILE_FORMAT"
    assert "animated WebP" in error["message"] and "MP4" in error["message"]
    assert not Clip.objects.exists()


@pytest.mark.usefixtures("worker", "no_clamd")
def test_an_animated_png_becomes_a_still_of_its_first_frame(
    api: APIClient, project: Project, images: Path
) -> None:
    body = ready(api, upload(api, project, animated_png(images)))

    assert body["duration"] is None
    assert body["metadata"]["animated"] is True
    assert body["metadata"]["frame_count"] == 10
    assert body["resolution"] == "64x36"


@pytest.mark.usefixtures("worker", "no_clamd")
def test_what_a_file_is_comes_from_its_bytes_not_its_name(
    api: APIClient, project: Project, images: Path, tmp_path: Path
) -> None:
    media = MediaFactory(tmp_path)
    image_as_video = ready(api, upload(api, project, logo_png(images), filename="intro.mp4"))
    video_as_image = ready(api, upload(api, project, media.normal(), filename="logo.png"))

    assert image_as_video["duration"] is None
    assert image_as_video["metadata"]["still"] is True
    assert video_as_image["duration"] == pytest.approx(2.0, abs=0.1)
    assert video_as_image["metadata"]["still"] is False
    assert video_as_image["metadata"]["has_audio"] is True


@pytest.mark.usefixtures("worker", "clamd")
def test_a_still_has_no_length_to_extract_or_renditions_to_make(
    api: APIClient, project: Project, images: Path
) -> None:
    # With a scanner configured, an image is scanned like any other upload.
    still = ready(api, upload(api, project, card_webp(images)))
    assert Clip.objects.get(pk=still["id"]).metadata["scan"] == "clean"
    assert ProcessingJob.objects.filter(clip_id=still["id"], job_type="scan").exists()

    extract = api.post(
        "/api/process/clip",
        {"clip_id": still["id"], "operation": "extract", "params": {"start": 0, "duration": 1}},
        format="json",
    )
    rendition = api.post(
        "/api/process/clip",
        {"clip_id": still["id"], "operation": "transcode", "params": {"height": 240}},
        format="json",
    )

    for response in (extract, rendition):
        assert response.status_code == 400, response.content
        assert "still image" in response.json()["error"]["message"]


@pytest.mark.usefixtures("worker", "no_clamd")
def test_a_bomb_sent_in_chunks_is_refused_by_the_probe_and_its_bytes_given_back(
    api: APIClient, owner: Any, project: Project, tmp_path: Path, start_upload: Any
) -> None:
    data = png_bomb(tmp_path / "poster.png").read_bytes()
    started = start_upload(data, name="Poster", filename="poster.png")
    upload_all(api, started["upload"], data)

    completed = api.post(
        "/api/upload/complete", {"upload_id": started["upload"]["id"]}, format="json"
    )

    assert completed.status_code == 200, completed.content
    clip = wait_for(clip_settled(Clip.objects.get(pk=started["clip"]["id"])))
    assert clip.status == Clip.Status.FAILED
    assert clip.metadata["error_code"] == "INVALID_FILE_FORMAT"
    assert "30000x30000" in clip.error_message
    assert clip.file_path == "" and clip.file_size is None
    owner.refresh_from_db()
    assert (owner.storage_used, owner.storage_reserved) == (0, 0)
    body = api.get(f"/api/clips/{clip.pk}").json()
    assert body["status"] == "failed" and body["duration"] is None


@pytest.mark.usefixtures("worker", "no_clamd")
def test_a_photo_is_shown_the_way_its_exif_orientation_says(
    api: APIClient, project: Project, images: Path, tmp_path: Path
) -> None:
    photo = with_exif_orientation(photo_jpeg(images), tmp_path / "portrait.jpg", 6)

    body = ready(api, upload(api, project, photo))

    assert body["resolution"] == "600x800"
    assert body["metadata"]["rotation"] == 270
    proxy = body["metadata"]["proxy"]
    assert (proxy["width"], proxy["height"]) == (600, 800)
    picture = tmp_path / "proxy.jpg"
    picture.write_bytes(fetched(api, body["proxy_url"]))
    stream = ffprobe_json(picture)["streams"][0]
    assert (stream["width"], stream["height"]) == (600, 800)  # upright, not squashed
