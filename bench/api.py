"""API benchmark on the production setup (`make bench-api`).

Starts the stack the production smoke test uses (daphne with production settings, PostgreSQL,
a private Redis, S3 on loopback and one Dramatiq worker), then measures:

- requests/s and p50/p99 latency of GET and replace (POST) of a 500-segment timeline, and of
  the project list (20 projects), each from several client threads;
- a reference in the same run: GET /api/auth/me, the lightest authenticated request, so each
  figure is also printed as a ratio to what this machine serves at all;
- websocket fan-out: the latency from one progress event sent through the channel layer (as a
  worker does) to its arrival at each of 200 connected clients.

The clients run on the same machine as the server, so the figures are a floor, not a ceiling.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.media import MediaFactory  # noqa: E402
from tests.production.stack import ApiClient, Stack  # noqa: E402

SEGMENTS = 500
PROJECTS = 20
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
SOCKETS = int(os.environ.get("BENCH_SOCKETS", "200"))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def load(name: str, make_call: Callable[[int], Callable[[], int]], threads: int) -> dict[str, Any]:
    """Run `threads` clients for DURATION seconds; each thread gets its own call."""
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    stop = time.monotonic() + DURATION

    def worker(index: int) -> None:
        call = make_call(index)
        mine: list[float] = []
        bad: list[int] = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            status = call()
            mine.append(time.perf_counter() - started)
            if status >= 400:
                bad.append(status)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "name": name,
        "threads": threads,
        "requests": len(latencies),
        "errors": len(errors),
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


def segments_for(clip_id: str) -> list[dict[str, Any]]:
    # 500 segments of 0.1 s side by side on the video layer: a 50 s timeline.
    return [
        {
            "clip_id": clip_id,
            "layer": "video",
            "start_time": round(i * 0.1, 3),
            "source_start": round((i % 19) * 0.1, 3),
            "duration": 0.1,
            "name": f"shot {i}",
        }
        for i in range(SEGMENTS)
    ]


async def fan_out(stack: Stack, token: str, project_id: str) -> dict[str, Any]:
    from channels_redis.core import RedisChannelLayer
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{stack.web_port}/ws/projects/{project_id}/?token={token}"
    sockets = []
    for _ in range(SOCKETS):
        sockets.append(await connect(url, additional_headers={"Origin": stack.base}))
    await asyncio.sleep(1)  # every socket has joined the group
    layer = RedisChannelLayer(hosts=[f"{stack.redis.url}/0"], prefix="clipseq")
    rounds: list[list[float]] = []
    for attempt in range(5):
        sent = time.time()
        event = {
            "type": "processing:progress",
            "job_id": f"bench-{attempt}",
            "progress": 50.0,
            "sent_at": sent,
        }

        async def receive(socket: Any, job_id: str = event["job_id"]) -> float:
            while True:
                message = json.loads(await socket.recv())
                if message.get("job_id") == job_id:
                    return time.time() - message["sent_at"]

        waiting = [asyncio.create_task(receive(s)) for s in sockets]
        await layer.group_send(f"project_{project_id}", {"type": "event.message", "event": event})
        rounds.append(await asyncio.wait_for(asyncio.gather(*waiting), timeout=30))
        await asyncio.sleep(0.5)
    for socket in sockets:
        await socket.close()
    all_latencies = [v for r in rounds for v in r]
    return {
        "sockets": SOCKETS,
        "events": len(rounds),
        "p50_ms": percentile(all_latencies, 50) * 1000,
        "p99_ms": percentile(all_latencies, 99) * 1000,
        "last_socket_ms": statistics.mean(max(r) for r in rounds) * 1000,
    }


def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="clipseq-bench-"))
    stack = Stack(directory, workers=1)
    print("starting the production stack …", flush=True)
    try:
        stack.start()
        client = ApiClient(stack)
        client.register()
        project_ids = [client.project(f"Bench {i}") for i in range(PROJECTS)]
        video = MediaFactory(directory / "media").normal()
        clip_id = client.upload(project_ids[0], video)
        client.wait_for(f"/api/clips/{clip_id}", "status", {"ready"}, timeout=180)
        segments = segments_for(clip_id)
        main_project = project_ids[0]
        saved = client.request(
            "POST",
            f"/api/projects/{main_project}/timeline",
            json={"version": 0, "segments": segments},
        )
        assert saved.status_code == 200, saved.text
        # Each replacing thread works on its own project, so versions never conflict.
        replace_projects = []
        for index in range(THREADS):
            project_id = project_ids[index + 1]
            clip = client.upload(project_id, video)
            client.wait_for(f"/api/clips/{clip}", "status", {"ready"}, timeout=180)
            replace_projects.append((project_id, segments_for(clip)))

        def session() -> ApiClient:
            api = ApiClient(stack)
            api.session.headers["Authorization"] = client.session.headers["Authorization"]
            return api

        def timeline_get(_: int) -> Callable[[], int]:
            api = session()
            return lambda: api.request("GET", f"/api/projects/{main_project}/timeline").status_code

        def me(_: int) -> Callable[[], int]:
            api = session()
            return lambda: api.request("GET", "/api/auth/me").status_code

        def project_list(_: int) -> Callable[[], int]:
            api = session()
            return lambda: api.request("GET", "/api/projects").status_code

        def timeline_replace(index: int) -> Callable[[], int]:
            api = session()
            project_id, own_segments = replace_projects[index]
            state = {"version": 0}

            def call() -> int:
                response = api.request(
                    "POST",
                    f"/api/projects/{project_id}/timeline",
                    json={"version": state["version"], "segments": own_segments},
                )
                if response.status_code == 200:
                    state["version"] = response.json()["version"]
                return response.status_code

            return call

        results = [
            # The reference: the lightest authenticated request through the same stack
            # (token check, one user row). The other rows are read as multiples of it.
            load("reference: GET /api/auth/me", me, THREADS),
            load("timeline GET (500 segments)", timeline_get, THREADS),
            load("timeline replace (500 segments)", timeline_replace, THREADS),
            load("project list (20 projects)", project_list, THREADS),
        ]
        fan = asyncio.run(fan_out(stack, client.token, main_project))
    finally:
        stack.stop()

    print(
        f"\n{'endpoint':<34} {'threads':>7} {'requests':>9} {'errors':>7} "
        f"{'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'rps / ref':>9}"
    )
    reference_rps = results[0]["rps"] or 1.0
    for r in results:
        print(
            f"{r['name']:<34} {r['threads']:>7} {r['requests']:>9} {r['errors']:>7} "
            f"{r['rps']:>8.1f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} "
            f"{r['rps'] / reference_rps:>9.3f}"
        )
    print(
        f"\nwebsocket fan-out: one progress event to {fan['sockets']} clients, "
        f"{fan['events']} events: p50 {fan['p50_ms']:.1f} ms, p99 {fan['p99_ms']:.1f} ms, "
        f"last client (mean) {fan['last_socket_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main()
