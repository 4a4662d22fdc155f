"""Live co-editing benchmark on the production setup (`make bench-collab`).

Starts the stack the production tests use (daphne with production settings, PostgreSQL, a
private Redis, S3 on loopback, one Dramatiq worker for the clip's ingest), saves a 500-segment
timeline, then connects BENCH_CLIENTS (20) websocket clients to the project's socket. Each
client applies segment operations to its own segments (move, rename, trim, add and delete an
audio segment) over HTTP, one every 2–4 s (BENCH_PAUSE_MIN/MAX), while every client listens on
its socket. BENCH_CLIENTS, BENCH_OPS (per client) and BENCH_IN_PROCESS_OPS size the run.

Measured:
- apply time: the server's own time for each operation (the `Server-Timing: apply` header,
  timed around the service call inside daphne, lock wait included) — target p50 < 20 ms;
- delivery: from the moment a client sends an operation until each other client has its
  `timeline:op` message (so request, apply and fan-out together) — target p99 < 100 ms;
- the same mix of operations as bare service calls in a child process (same database and
  Redis, no HTTP, no daphne event loop competing for the process), one after another;
- the reference, in the same run and under the same load: a websocket echo (ping → pong)
  through the same daphne, from every client. Figures are printed as ratios to it, and the
  CPU daphne used and the machine's load average are printed beside them.

Clients and server share this machine (loopback), so the figures are a floor, not a ceiling.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.media import MediaFactory  # noqa: E402
from tests.production.stack import ApiClient, Stack  # noqa: E402

SEGMENTS = 500
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "20"))
OPS_PER_CLIENT = int(os.environ.get("BENCH_OPS", "20"))
# Seconds between one client's operations (uniform in this range): people editing, each
# about once every 3 s (20 of them make ~7 operations/s), not a load test.
PAUSE = (
    float(os.environ.get("BENCH_PAUSE_MIN", "2")),
    float(os.environ.get("BENCH_PAUSE_MAX", "4")),
)
IN_PROCESS_OPS = int(os.environ.get("BENCH_IN_PROCESS_OPS", "300"))
SLOT = 0.2  # each video segment is 0.1 s long and owns a 0.2 s slot: moves never collide
APPLY_TARGET_MS = 20
DELIVERY_TARGET_MS = 100


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def segments_for(clip_id: str) -> list[dict[str, Any]]:
    return [
        {
            "clip_id": clip_id,
            "layer": "video",
            "start_time": round(i * SLOT, 3),
            "source_start": round((i % 19) * 0.1, 3),
            "duration": 0.1,
            "name": f"shot {i}",
        }
        for i in range(SEGMENTS)
    ]


@dataclass
class Client:
    index: int
    socket: Any
    api: ApiClient
    own: list[dict[str, Any]]
    received: dict[int, float] = field(default_factory=dict)  # version → arrival
    deleted_versions: dict[str, int] = field(default_factory=dict)  # segment id → version
    echoes: list[float] = field(default_factory=list)
    pong: asyncio.Future[float] | None = None


@dataclass
class Sent:
    client: int
    started: float
    version: int | None = None
    deleted_id: str | None = None


async def read(client: Client) -> None:
    async for raw in client.socket:
        arrived = time.perf_counter()
        message = json.loads(raw)
        if message.get("type") == "pong" and client.pong is not None:
            client.pong.set_result(arrived)
        elif message.get("type") == "timeline:op":
            client.received[message["version"]] = arrived
            if message["op"] == "delete":
                client.deleted_versions[message["segment_id"]] = message["version"]


async def echo(client: Client) -> None:
    """One websocket round trip through daphne: the reference."""
    client.pong = asyncio.get_running_loop().create_future()
    started = time.perf_counter()
    await client.socket.send(json.dumps({"type": "ping"}))
    arrived = await asyncio.wait_for(client.pong, timeout=30)
    client.echoes.append(arrived - started)


async def run_client(
    client: Client,
    project_id: str,
    clip_id: str,
    pool: ThreadPoolExecutor,
    sent: list[Sent],
    applies: list[float],
) -> list[int]:
    loop = asyncio.get_running_loop()
    rng = random.Random(client.index)  # noqa: S311 - a repeatable workload, not a secret
    errors: list[int] = []
    added: list[str] = []

    def call(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return client.api.request(method, path, json=body)

    for _ in range(OPS_PER_CLIENT):
        await asyncio.sleep(rng.uniform(*PAUSE))
        await echo(client)
        segment = rng.choice(client.own)
        slot = segment["slot"]
        roll = rng.random()
        if roll < 0.45:
            method, path = "PATCH", f"/api/timeline/segments/{segment['id']}"
            body: dict[str, Any] | None = {
                "start_time": round(slot * SLOT + rng.uniform(0, 0.1), 3)
            }
        elif roll < 0.65:
            method, path = "PATCH", f"/api/timeline/segments/{segment['id']}"
            body = {"name": f"shot {slot} by {client.index}"}
        elif roll < 0.8:
            method, path = "PATCH", f"/api/timeline/segments/{segment['id']}"
            body = {"duration": round(rng.uniform(0.05, 0.1), 3)}
        elif roll < 0.9 or not added:
            method, path = "POST", f"/api/projects/{project_id}/timeline/segments"
            body = {
                "clip_id": clip_id,
                "layer": "audio",
                "start_time": round(rng.uniform(0, SEGMENTS * SLOT), 3),
                "duration": 0.5,
            }
        else:
            method, path, body = "DELETE", f"/api/timeline/segments/{added.pop()}", None
        record = Sent(client=client.index, started=time.perf_counter())
        response = await loop.run_in_executor(pool, call, method, path, body)
        if response.status_code >= 400:
            errors.append(response.status_code)
            continue
        timing = response.headers.get("Server-Timing", "")
        applies.append(float(timing.split("dur=")[1]) / 1000)
        if method == "DELETE":
            record.deleted_id = path.rsplit("/", 1)[1]
        else:
            record.version = response.json()["timeline_version"]
            if method == "POST":
                added.append(response.json()["id"])
        sent.append(record)
    return errors


async def collaborate(stack: Stack, token: str, project_id: str, clip_id: str) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{stack.web_port}/ws/projects/{project_id}/?token={token}"
    reader = ApiClient(stack)
    reader.session.headers["Authorization"] = f"Bearer {token}"
    timeline = reader.request("GET", f"/api/projects/{project_id}/timeline").json()
    start_version = timeline["version"]
    by_start = sorted(timeline["segments"], key=lambda s: s["start_time"])
    for slot, segment in enumerate(by_start):
        segment["slot"] = slot

    clients = []
    for index in range(CLIENTS):
        api = ApiClient(stack)
        api.session.headers["Authorization"] = f"Bearer {token}"
        socket = await connect(url, additional_headers={"Origin": stack.base})
        own = [s for s in by_start if s["slot"] % CLIENTS == index]
        clients.append(Client(index=index, socket=socket, api=api, own=own))
    readers = [asyncio.create_task(read(c)) for c in clients]
    await asyncio.sleep(1)  # every socket has joined the group

    idle: list[float] = []
    for _ in range(3):
        for client in clients:
            await echo(client)
            idle.append(client.echoes.pop())

    sent: list[Sent] = []
    applies: list[float] = []
    web_pid = stack.processes["web"].pid
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        started, web_cpu = time.monotonic(), cpu_seconds(web_pid)
        results = await asyncio.gather(
            *(run_client(c, project_id, clip_id, pool, sent, applies) for c in clients)
        )
        elapsed, web_cpu = time.monotonic() - started, cpu_seconds(web_pid) - web_cpu
    # Let the last messages arrive: wait until nothing new came for 2 s (at most 30 s).
    settled, count = time.monotonic(), -1
    deadline = settled + 30
    while time.monotonic() < deadline and time.monotonic() - settled < 2:
        await asyncio.sleep(0.25)
        now = sum(len(c.received) for c in clients)
        if now != count:
            settled, count = time.monotonic(), now

    delivery: list[float] = []
    missing = 0
    sender_of: dict[int, Sent] = {}
    for record in sent:
        if record.version is None and record.deleted_id is not None:
            record.version = clients[record.client].deleted_versions.get(record.deleted_id)
        if record.version is not None:
            sender_of[record.version] = record
    for version, record in sender_of.items():
        for client in clients:
            if client.index == record.client:
                continue
            arrived = client.received.get(version)
            if arrived is None:
                missing += 1
            else:
                delivery.append(arrived - record.started)
    for task in readers:
        task.cancel()
    for client in clients:
        await client.socket.close()

    final = reader.request("GET", f"/api/projects/{project_id}/timeline").json()
    return {
        "ops": len(sent),
        "errors": [code for r in results for code in r],
        "seconds": elapsed,
        "web_cpu": web_cpu,
        "applies": applies,
        "delivery": delivery,
        "missing": missing,
        "echo": [e for c in clients for e in c.echoes],
        "idle_echo": idle,
        "versions": (start_version, final["version"]),
        "unique_versions": len(sender_of),
    }


def apply_in_process(project_id: str, count: int) -> None:
    """Run in a child process with the stack's settings: time the service calls alone (no
    HTTP, no daphne event loop) on the same database and Redis; prints the timings as JSON."""
    import django

    django.setup()
    from projects.models import Project
    from timeline.models import TimelineSegment
    from timeline.services import segment_create, segment_delete, segment_update

    project = Project.objects.get(pk=project_id)
    video = list(
        TimelineSegment.objects.filter(project=project, layer="video").order_by("start_time")
    )
    rng = random.Random(0)  # noqa: S311 - a repeatable workload, not a secret
    timings: list[float] = []
    added: list[TimelineSegment] = []
    for index in range(count):
        slot = rng.randrange(len(video))
        segment = video[slot]
        roll = rng.random()
        started = time.perf_counter()
        if roll < 0.45:
            start = Decimal(str(round(slot * SLOT + rng.uniform(0, 0.1), 3)))
            segment_update(segment=segment, user=project.owner, start_time=start)
        elif roll < 0.65:
            segment_update(segment=segment, user=project.owner, name=f"in process {index}")
        elif roll < 0.8:
            duration = Decimal(str(round(rng.uniform(0.05, 0.1), 3)))
            segment_update(segment=segment, user=project.owner, duration=duration)
        elif roll < 0.9 or not added:
            added.append(
                segment_create(
                    project=project,
                    user=project.owner,
                    clip_id=segment.clip_id,
                    layer="audio",
                    start_time=Decimal(str(round(rng.uniform(0, SEGMENTS * SLOT), 3))),
                    duration=Decimal("0.5"),
                )
            )
        else:
            segment_delete(segment=added.pop(), user=project.owner)
        timings.append(time.perf_counter() - started)
    print(json.dumps(timings))


def main() -> None:
    if sys.argv[1:2] == ["--apply-in-process"]:
        apply_in_process(sys.argv[2], int(sys.argv[3]))
        return
    directory = Path(tempfile.mkdtemp(prefix="clipseq-bench-collab-"))
    stack = Stack(directory, workers=1)
    print("starting the production stack …", flush=True)
    try:
        stack.start()
        client = ApiClient(stack)
        client.register()
        project_id = client.project("Collab bench")
        video = MediaFactory(directory / "media").normal()
        clip_id = client.upload(project_id, video)
        client.wait_for(f"/api/clips/{clip_id}", "status", {"ready"}, timeout=180)
        saved = client.request(
            "POST",
            f"/api/projects/{project_id}/timeline",
            json={"version": 0, "segments": segments_for(clip_id)},
        )
        assert saved.status_code == 200, saved.text
        print(
            f"{CLIENTS} clients, {OPS_PER_CLIENT} operations each, {PAUSE[0]:g}–{PAUSE[1]:g} s "
            "apart …",
            flush=True,
        )
        result = asyncio.run(collaborate(stack, client.token, project_id, clip_id))
        print("the same operations as service calls alone …", flush=True)
        child = subprocess.run(
            [sys.executable, __file__, "--apply-in-process", project_id, str(IN_PROCESS_OPS)],
            env=stack.env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        in_process = json.loads(child.stdout.strip().splitlines()[-1])
    finally:
        stack.stop()

    applies, delivery = result["applies"], result["delivery"]
    echo, idle = result["echo"], result["idle_echo"]
    first, last = result["versions"]
    print(
        f"\n{result['ops']} operations in {result['seconds']:.1f} s "
        f"({result['ops'] / result['seconds']:.1f} ops/s), errors: {result['errors'] or 'none'}; "
        f"versions {first} → {last} ({last - first} new, {result['unique_versions']} distinct "
        f"answered); deliveries missing: {result['missing']} of "
        f"{len(delivery) + result['missing']}; daphne used {result['web_cpu']:.1f} s of CPU "
        f"({result['web_cpu'] / result['seconds']:.0%} of one core); load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    echo_p50, echo_p99 = percentile(echo, 50), percentile(echo, 99)
    rows = [
        ("reference: websocket echo, under load", echo, None),
        ("reference: websocket echo, idle", idle, None),
        ("apply (server, per operation)", applies, ("p50", APPLY_TARGET_MS)),
        ("apply (service call alone, sequential)", in_process, ("p50", APPLY_TARGET_MS)),
        ("delivery to each other client", delivery, ("p99", DELIVERY_TARGET_MS)),
    ]
    print(
        f"\n{'measure':<40} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'p50/echo':>9} {'p99/echo':>9}  target"
    )
    for name, values, target in rows:
        p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
        verdict = ""
        if target is not None:
            which, limit = target
            value = p50 if which == "p50" else p99
            verdict = f"{which} < {limit} ms: {'met' if value < limit else 'MISSED'}"
        print(
            f"{name:<40} {len(values):>6} {p50:>8.1f} {p99:>8.1f} "
            f"{p50 / (echo_p50 * 1000):>9.2f} {p99 / (echo_p99 * 1000):>9.2f}  {verdict}"
        )


if __name__ == "__main__":
    main()
