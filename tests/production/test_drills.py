"""Reliability drills against the production setup (tests/production/stack.py). Each one
injects a fault that happens in real life and asserts that nothing is lost.

Recovery settings in the stack: job heartbeats every 1 s, re-claimable after 4 s of silence;
Dramatiq requeues a dead worker's messages after 6 s (heartbeat_timeout) at the next
maintenance pass (10 % of broker commands). Production defaults (10 s / 60 s / 75 s, 2 %)
give the same sequence in about 80 s.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from tests.production.stack import CHUNK, ApiClient, Stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ready_clip(stack: Stack, stack_media: Any) -> dict[str, Any]:
    """A user with a project and one ready 2 s clip, shared by the drills."""
    client = ApiClient(stack)
    client.register()
    project_id = client.project("Drills")
    clip_id = client.upload(project_id, stack_media.two_chunks)
    clip = client.wait_for(f"/api/clips/{clip_id}", "status", {"ready", "failed"}, timeout=120)
    assert clip["status"] == "ready", clip
    return {"client": client, "project_id": project_id, "clip_id": clip_id}


def _timeline(client: ApiClient, project_id: str, clip_id: str, repeats: int) -> dict[str, Any]:
    version = client.request("GET", f"/api/projects/{project_id}/timeline").json()["version"]
    segments = [
        {
            "clip_id": clip_id,
            "layer": "video",
            "start_time": 2 * i,
            "source_start": 0,
            "duration": 2,
        }
        for i in range(repeats)
    ]
    response = client.request(
        "POST",
        f"/api/projects/{project_id}/timeline",
        json={"version": version, "segments": segments},
    )
    assert response.status_code == 200, response.text
    return response.json()


def _sql(stack: Stack, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def _process_group_signal(stack: Stack, name: str, sig: signal.Signals) -> None:
    os.killpg(stack.processes[name].pid, sig)


def _chunk_ffmpeg(stack: Stack, job_id: str) -> tuple[str, list[int]] | None:
    """The worker running FFmpeg for one of the export's chunks, and those FFmpeg pids."""
    found = stack.worker_running_ffmpeg()
    if found is None:
        return None
    name, pids = found
    chunk_pids = []
    for pid in pids:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if f"export-{job_id}/chunk-".encode() in command:
            chunk_pids.append(pid)
    return (name, chunk_pids) if chunk_pids else None


def test_a_worker_killed_mid_export_loses_only_the_chunk_it_was_rendering(
    stack: Stack, ready_clip: dict[str, Any]
) -> None:
    client, project_id = ready_clip["client"], ready_clip["project_id"]
    version = client.request("GET", f"/api/projects/{project_id}/timeline").json()["version"]
    segments = [
        {
            "clip_id": ready_clip["clip_id"],
            "layer": "video",
            "start_time": i,
            "source_start": round(i / 24, 3),
            "duration": 1,
        }
        for i in range(24)
    ]
    saved = client.request(
        "POST",
        f"/api/projects/{project_id}/timeline",
        json={"version": version, "segments": segments},
    )
    assert saved.status_code == 200, saved.text
    job_id = client.request(
        "POST", f"/api/projects/{project_id}/export", json={"preset": "720p"}
    ).json()["id"]

    deadline = time.monotonic() + 90
    victim = None
    while victim is None and time.monotonic() < deadline:
        status = client.request("GET", f"/api/process/status/{job_id}").json()["status"]
        assert status in ("pending", "running"), "the export finished before the drill could kill"
        victim = _chunk_ffmpeg(stack, job_id)
        time.sleep(0.05)
    assert victim, "no worker rendered a chunk of the export"
    name, ffmpeg_pids = victim
    stack.kill(name, also=ffmpeg_pids)
    killed_at = time.monotonic()
    at_kill = dict(
        _sql(
            stack,
            "SELECT DISTINCT c.key, c.status FROM export_chunks c "
            "JOIN export_parts p ON p.chunk_id = c.key WHERE p.run_id = %s",
            job_id,
        )
    )

    job = client.wait_for(
        f"/api/process/status/{job_id}", "status", {"completed", "failed"}, timeout=150
    )
    recovery = time.monotonic() - killed_at
    stack.start_worker(f"{name}-replacement")  # leave two workers for the other drills
    stack.wait_for_workers()

    assert job["status"] == "completed", job
    assert job["output_data"]["frames"] == 24 * 30
    assert _sql(stack, "SELECT attempts FROM processing_jobs WHERE id = %s", job_id) == [(1,)]
    assert _sql(stack, "SELECT mux_attempts FROM export_runs WHERE job_id = %s", job_id) == [(1,)]
    chunks = dict(
        _sql(
            stack,
            "SELECT DISTINCT c.key, c.attempts FROM export_chunks c "
            "JOIN export_parts p ON p.chunk_id = c.key WHERE p.run_id = %s",
            job_id,
        )
    )
    again = {key for key, attempts in chunks.items() if attempts > 1}
    # Only chunks in the making when the worker died were made again; nothing done was redone.
    assert again and all(at_kill[key] == "rendering" for key in again)
    assert len(chunks) >= 4
    # Exactly one file for the export, and the chunk cache holds each chunk once.
    stored = stack.stored_keys(f"exports/{project_id}/")
    assert [key for key in stored if "/chunks/" not in key] == [
        f"media/exports/{project_id}/{job_id}.mp4"
    ]
    assert sorted(k.rsplit("/", 1)[1].split(".")[0] for k in stored if "/chunks/" in k) == sorted(
        [key for key in chunks for _ in range(2)]
    )
    assert list(stack.tmp_dir.iterdir()) == []
    print(
        f"\nkill -9 drill: {len(again)} of {len(chunks)} chunks rendered again, export "
        f"completed {recovery:.1f} s after the kill"
    )


def test_a_dropped_upload_resumes_to_an_identical_file(
    stack: Stack, stack_media: Any, ready_clip: dict[str, Any], tmp_path: Path
) -> None:
    client, project_id = ready_clip["client"], ready_clip["project_id"]
    data = stack_media.two_chunks.read_bytes()
    start = client.request(
        "POST",
        f"/api/projects/{project_id}/clips",
        json={"name": "dropped", "filename": "dropped.mp4", "size": len(data)},
    ).json()
    upload_id = start["upload"]["id"]
    client.chunk(upload_id, 0, data[:CHUNK])

    # The connection dies halfway through chunk 1: headers and half the body, then nothing.
    second = data[CHUNK:]
    with socket.create_connection(("127.0.0.1", stack.web_port)) as sock:
        sock.sendall(
            (
                f"POST /api/upload/chunk?upload_id={upload_id}&index=1 HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{stack.web_port}\r\nX-Forwarded-Proto: https\r\n"
                f"Authorization: Bearer {client.token}\r\n"
                "Content-Type: application/octet-stream\r\n"
                f"Content-Length: {len(second)}\r\n\r\n"
            ).encode()
            + second[: len(second) // 2]
        )
    time.sleep(0.5)

    status = client.request("GET", f"/api/upload/status/{upload_id}").json()
    assert status["missing_chunks"] == [1]
    assert status["received_bytes"] == CHUNK
    client.chunk(upload_id, 1, second)
    done = client.request(
        "POST",
        "/api/upload/complete",
        json={"upload_id": upload_id, "sha256": hashlib.sha256(data).hexdigest()},
    )
    assert done.status_code == 200, done.text

    redirect = client.request("GET", f"/api/clips/{start['clip']['id']}/download")
    stored = requests.get(redirect.headers["Location"], timeout=60).content
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(data).hexdigest()


def test_redis_down_for_a_few_seconds_answers_503_then_recovers(
    stack: Stack, ready_clip: dict[str, Any]
) -> None:
    client, project_id = ready_clip["client"], ready_clip["project_id"]
    _timeline(client, project_id, ready_clip["clip_id"], repeats=1)
    workers = [name for name in stack.processes if name.startswith("worker")]
    for name in workers:  # the export must wait in the queue through the outage
        _process_group_signal(stack, name, signal.SIGSTOP)
    try:
        job_id = client.request(
            "POST", f"/api/projects/{project_id}/export", json={"preset": "720p"}
        ).json()["id"]

        stack.redis.stop()
        started = time.monotonic()
        down = client.request("GET", "/api/projects")
        answered_in = time.monotonic() - started
        health = client.request("GET", "/healthz")
        time.sleep(3)
        stack.redis.start()

        recovered_in = None
        started = time.monotonic()
        while time.monotonic() - started < 20:
            if client.request("GET", "/api/projects").status_code == 200:
                recovered_in = time.monotonic() - started
                break
            time.sleep(0.2)
    finally:
        for name in workers:
            _process_group_signal(stack, name, signal.SIGCONT)

    assert down.status_code == 503
    assert down.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert down.headers["Retry-After"]
    assert answered_in < 5
    assert health.status_code == 503
    assert health.json()["checks"]["cache"]["status"] == "error"
    assert health.json()["checks"]["database"]["status"] == "ok"
    assert recovered_in is not None and recovered_in < 10
    job = client.wait_for(
        f"/api/process/status/{job_id}", "status", {"completed", "failed"}, timeout=120
    )
    assert job["status"] == "completed", job


def test_a_full_temp_folder_fails_the_job_clearly_and_keeps_storage_consistent(
    stack: Stack, ready_clip: dict[str, Any], tmp_path: Path
) -> None:
    client, project_id = ready_clip["client"], ready_clip["project_id"]
    _timeline(client, project_id, ready_clip["clip_id"], repeats=2)
    tiny = tmp_path / "tiny-tmp"
    tiny.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(tiny)], check=True)
    workers = [name for name in stack.processes if name.startswith("worker")]
    for name in workers:
        _process_group_signal(stack, name, signal.SIGSTOP)
    stack.extra_env["PROCESSING_TMP_DIR"] = str(tiny)
    try:
        stack.start_worker("worker-small-disk")
        stack.wait_for_workers()
        me_before = client.request("GET", "/api/auth/me").json()
        exports_before = stack.stored_keys(f"exports/{project_id}/")
        job_id = client.request(
            "POST", f"/api/projects/{project_id}/export", json={"preset": "720p"}
        ).json()["id"]
        job = client.wait_for(
            f"/api/process/status/{job_id}", "status", {"completed", "failed"}, timeout=90
        )
    finally:
        stack.extra_env.pop("PROCESSING_TMP_DIR")
        if "worker-small-disk" in stack.processes:
            stack.kill("worker-small-disk")
        for name in workers:
            _process_group_signal(stack, name, signal.SIGCONT)
        leftovers = list(tiny.iterdir())
        subprocess.run(["umount", str(tiny)], check=True)

    assert job["status"] == "failed"
    # Refused up front by the space estimate (or, had it been too optimistic, by the full disk).
    message = job["error_message"]
    assert "temporary disk space" in message
    assert "only 1.0 MB is free" in message or "ran out of temporary disk space" in message
    me_after = client.request("GET", "/api/auth/me").json()
    assert me_after["storage_used"] == me_before["storage_used"]
    assert stack.stored_keys(f"exports/{project_id}/") == exports_before
    assert leftovers == []
    project = client.request("GET", f"/api/projects/{project_id}").json()
    assert project["status"] != "exporting"


def test_two_clients_saving_the_same_timeline_get_one_conflict_and_lose_nothing(
    stack: Stack, ready_clip: dict[str, Any]
) -> None:
    client, project_id, clip_id = (
        ready_clip["client"],
        ready_clip["project_id"],
        ready_clip["clip_id"],
    )
    base = _timeline(client, project_id, clip_id, repeats=1)
    second = ApiClient(stack)
    second.session.headers["Authorization"] = client.session.headers["Authorization"]
    edits = {
        "a": {
            "clip_id": clip_id,
            "layer": "video",
            "start_time": 2,
            "source_start": 0,
            "duration": 1,
            "name": "from A",
        },
        "b": {
            "clip_id": clip_id,
            "layer": "audio",
            "start_time": 0,
            "source_start": 1,
            "duration": 1,
            "name": "from B",
        },
    }
    barrier = threading.Barrier(2)
    results: dict[str, requests.Response] = {}

    def save(who: str, api: ApiClient) -> None:
        body = {"version": base["version"], "segments": [*base["segments"], edits[who]]}
        barrier.wait()
        results[who] = api.request("POST", f"/api/projects/{project_id}/timeline", json=body)

    threads = [
        threading.Thread(target=save, args=(w, c)) for w, c in (("a", client), ("b", second))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [200, 409]
    loser = next(w for w, r in results.items() if r.status_code == 409)
    assert results[loser].json()["error"]["code"] == "CONFLICT"
    # The loser reloads and saves again on top of the winner's version: nothing is lost.
    current = client.request("GET", f"/api/projects/{project_id}/timeline").json()
    retried = client.request(
        "POST",
        f"/api/projects/{project_id}/timeline",
        json={"version": current["version"], "segments": [*current["segments"], edits[loser]]},
    )
    assert retried.status_code == 200, retried.text
    names = {s["name"] for s in retried.json()["segments"]}
    assert {"from A", "from B"} <= names
    assert retried.json()["version"] == base["version"] + 2


def test_ten_parallel_uploads_never_exceed_a_nearly_full_quota(
    stack: Stack, stack_media: Any
) -> None:
    client = ApiClient(stack)
    user = client.register()["user"]
    project_id = client.project("Quota")
    data = stack_media.two_chunks.read_bytes()
    # Room for exactly three more files.
    _sql(
        stack,
        "UPDATE users SET storage_used = %s, storage_limit = %s WHERE id = %s",
        1000,
        1000 + 3 * len(data) + len(data) // 2,
        user["id"],
    )
    barrier = threading.Barrier(10)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def one_upload(index: int) -> None:
        api = ApiClient(stack)
        api.session.headers["Authorization"] = client.session.headers["Authorization"]
        barrier.wait()
        start = api.request(
            "POST",
            f"/api/projects/{project_id}/clips",
            json={"name": f"parallel {index}", "filename": f"p{index}.mp4", "size": len(data)},
        )
        outcome: Any = start.status_code
        if start.status_code == 201:
            upload_id = start.json()["upload"]["id"]
            api.chunk(upload_id, 0, data[:CHUNK])
            api.chunk(upload_id, 1, data[CHUNK:])
            done = api.request("POST", "/api/upload/complete", json={"upload_id": upload_id})
            outcome = ("completed", done.status_code)
        else:
            outcome = (start.status_code, start.json()["error"]["code"])
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one_upload, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes, key=str).count(("completed", 200)) == 3
    assert outcomes.count((413, "STORAGE_QUOTA_EXCEEDED")) == 7
    ((used, reserved, limit),) = _sql(
        stack,
        "SELECT storage_used, storage_reserved, storage_limit FROM users WHERE id = %s",
        user["id"],
    )
    assert used == 1000 + 3 * len(data)
    assert reserved == 0
    assert used <= limit
    assert Decimal(used) <= Decimal(limit)
