"""The production smoke test: the whole flow over HTTP and a websocket against daphne, two
Dramatiq workers, PostgreSQL, Redis and S3 — register, chunked upload, processing to ready,
timeline, export with progress events, download from the S3 URL, ffprobe the result."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.media import ffprobe_json
from tests.production.stack import ApiClient, EventListener, Stack

pytestmark = pytest.mark.slow


def test_the_whole_flow_works_in_the_production_setup(
    stack: Stack, stack_media: Any, tmp_path: Path
) -> None:
    client = ApiClient(stack)
    client.register()
    project_id = client.project()
    health = client.request("GET", "/healthz").json()
    assert health["status"] == "ok", health

    clip_id = client.upload(project_id, stack_media.two_chunks)
    clip = client.wait_for(f"/api/clips/{clip_id}", "status", {"ready", "failed"}, timeout=120)
    assert clip["status"] == "ready", clip
    assert clip["resolution"] == "320x240"
    assert abs(float(clip["duration"]) - 2.0) < 0.1

    timeline = client.request("GET", f"/api/projects/{project_id}/timeline").json()
    saved = client.request(
        "POST",
        f"/api/projects/{project_id}/timeline",
        json={
            "version": timeline["version"],
            "segments": [
                {
                    "clip_id": clip_id,
                    "layer": "video",
                    "start_time": 0,
                    "source_start": 0.5,
                    "duration": 1.5,
                },
                {
                    "clip_id": clip_id,
                    "layer": "video",
                    "start_time": 1.5,
                    "source_start": 0,
                    "duration": 1,
                },
            ],
        },
    )
    assert saved.status_code == 200, saved.text

    listener = EventListener(stack, f"/ws/projects/{project_id}/", client.token)
    try:
        started = client.request(
            "POST", f"/api/projects/{project_id}/export", json={"preset": "720p", "format": "mp4"}
        )
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        finished = listener.wait_for(
            lambda e: (
                e.get("job_id") == job_id
                and e["type"] in ("processing:completed", "processing:failed")
            ),
            timeout=180,
        )
    finally:
        listener.close()
    assert finished["type"] == "processing:completed", finished
    progress = [e for e in listener.events if e["type"] == "processing:progress"]
    assert progress, "progress events arrive over the websocket"
    assert all(e["job_id"] == job_id for e in progress)

    job = client.request("GET", f"/api/process/status/{job_id}").json()
    url = job["output_data"]["download_url"]
    assert url.startswith(f"http://127.0.0.1:{stack.s3_port}/")
    assert "X-Amz-Signature" in url and "X-Amz-Expires" in url
    download = requests.get(url, timeout=60)
    assert download.status_code == 200
    output = tmp_path / "export.mp4"
    output.write_bytes(download.content)

    probe = ffprobe_json(output)
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    audio = next(s for s in probe["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 1280, 720)
    assert audio["codec_name"] == "aac"
    assert abs(float(probe["format"]["duration"]) - 2.5) < 0.15
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(output), "-f", "null", "-"], check=True)
