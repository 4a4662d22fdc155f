"""FFmpeg's and ffprobe's error output reaches API answers and job errors without the server's
folders: every absolute path becomes the file's own name (processing.ffmpeg.runner.strip_paths)."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from processing.ffmpeg.runner import (
    FFmpegError,
    ffprobe_args,
    run_ffmpeg,
    run_ffprobe_json,
    strip_paths,
)
from projects.models import Project


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "file:/var/tmp/clipseq/tmpa1b2.mp4: Invalid data found when processing input",
            "tmpa1b2.mp4: Invalid data found when processing input",
        ),
        (
            "Error opening input file /srv/media/clips/x/original.",
            "Error opening input file original.",
        ),
        ("Could not open '/srv/app/var/tmp/job-1/out.mp4'", "Could not open 'out.mp4'"),
        # Not paths: fractions, stream maps, URLs.
        ("30000/1001 fps, h264 / aac", "30000/1001 fps, h264 / aac"),
        ("see https://ffmpeg.org/faq.html", "see https://ffmpeg.org/faq.html"),
    ],
)
def test_it_keeps_only_the_file_name_of_absolute_paths(text: str, expected: str) -> None:
    assert strip_paths(text) == expected


def garbage(directory: Path) -> Path:
    path = directory / "not-a-video.mp4"
    path.write_bytes(b"this is no video at all" * 100)
    return path


def test_a_failed_probe_names_the_file_but_not_its_folder(tmp_path: Path) -> None:
    path = garbage(tmp_path)

    with pytest.raises(FFmpegError) as caught:
        run_ffprobe_json(ffprobe_args(path))

    assert "not-a-video.mp4" in caught.value.stderr
    assert str(tmp_path) not in caught.value.stderr
    assert "/" not in caught.value.stderr.replace(" / ", "")


def test_a_failed_ffmpeg_run_names_the_file_but_not_its_folder(tmp_path: Path) -> None:
    path = garbage(tmp_path)
    output = tmp_path / "out.mp4"

    with pytest.raises(FFmpegError) as caught:
        run_ffmpeg(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", f"file:{path}", str(output)])

    assert "not-a-video.mp4" in caught.value.stderr
    assert str(tmp_path) not in f"{caught.value}\n{caught.value.stderr}"


@pytest.mark.django_db
def test_a_refused_upload_answers_without_server_paths(settings: Any, api: Any, owner: Any) -> None:
    project = Project.objects.create(owner=owner, name="Uploads")
    upload = io.BytesIO(b"this is no video at all" * 100)
    upload.name = "holiday.mp4"

    response = api.post(f"/api/projects/{project.pk}/clips", {"file": upload}, format="multipart")

    assert response.status_code == 415
    body = response.json()
    assert body["error"]["code"] == "INVALID_FILE_FORMAT"
    assert body["error"]["details"]["probe_error"]  # the reason is still there
    text = json.dumps(body)
    for folder in (settings.PROCESSING_TMP_DIR, tempfile.gettempdir(), settings.BASE_DIR):
        assert str(folder) not in text
