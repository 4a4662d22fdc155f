"""Media link benchmark: the app's media view (local-disk storage, daphne) serving a big file.

Starts `manage.py serve` (embedded mode, its own temporary VAR_DIR, a free loopback port),
stores a generated file as a clip's proxy, issues a signed link for it, then prints, next to a
reference measured in the same run (reading the same file from disk in Python):

- a whole download through the link (MiB/s and the ratio to the reference);
- 1 MiB Range requests at random offsets, as a seeking video element makes (latency);
- the server's peak memory, which stays flat: the file is streamed block by block, never read
  into memory whole (under ASGI a synchronous iterator would be).

    .venv/bin/python bench/media.py               # 1 GiB
    .venv/bin/python bench/media.py --size 4G     # memory stays flat
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
from upload import MIB, ROOT, Server, make_source, memory_kib, parse_size

RANGE_REQUESTS = 200


def read_reference(path: Path) -> float:
    began = time.monotonic()
    with path.open("rb") as file:
        while file.read(MIB):
            pass
    return time.monotonic() - began


def issue_link(server: Server, key: str) -> str:
    answer = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            f"from clips.media_links import media_link; print(media_link({key!r}))",
        ],
        cwd=ROOT,
        env=server.env,
        check=True,
        capture_output=True,
        text=True,
    )
    return server.base + answer.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1G", help="file size, e.g. 1G, 4G, 300M")
    args = parser.parse_args()
    size = parse_size(args.size)

    work = Path(tempfile.mkdtemp(prefix="clipseq-bench-media-"))
    var = work / "var"
    key = f"clips/{uuid.uuid4()}/proxy.mp4"
    stored = var / "media" / key
    stored.parent.mkdir(parents=True)
    server = Server(var, 8 * MIB)
    try:
        print(f"Generating {size / MIB:.0f} MiB of random bytes …", flush=True)
        make_source(stored, size)
        read_reference(stored)  # warm the page cache for both measurements
        reference = read_reference(stored)

        server.start()
        url = issue_link(server, key)
        baseline = memory_kib(server.pid, "VmRSS")
        samples: list[int] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.1):
                samples.append(memory_kib(server.pid, "VmRSS"))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        began = time.monotonic()
        received = 0
        with requests.get(url, stream=True, timeout=600) as answer:
            answer.raise_for_status()
            for block in answer.iter_content(MIB):
                received += len(block)
        whole = time.monotonic() - began
        stop.set()
        sampler.join()
        if received != size:
            raise SystemExit(f"received {received} bytes of {size}")

        latencies = []
        http = requests.Session()
        for _ in range(RANGE_REQUESTS):
            start = random.randrange(0, max(1, size - MIB))  # noqa: S311 (not security)
            began = time.monotonic()
            answer = http.get(url, headers={"Range": f"bytes={start}-{start + MIB - 1}"})
            if answer.status_code != 206 or len(answer.content) != min(MIB, size - start):
                raise SystemExit(f"range request answered {answer.status_code}")
            latencies.append(time.monotonic() - began)
        peak = memory_kib(server.pid, "VmHWM")
    except BaseException:
        server.stop()
        print((var / "server.log").read_text(errors="replace")[-3000:], file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
        raise
    server.stop()
    shutil.rmtree(work, ignore_errors=True)

    mib = size / MIB
    rate, reference_rate = mib / whole, mib / reference
    latencies.sort()
    print(f"file            {mib:.0f} MiB, served through a signed link by daphne")
    print(f"whole download  {whole:.1f} s  →  {rate:.0f} MiB/s")
    print(f"disk reference  {reference:.2f} s  →  {reference_rate:.0f} MiB/s (Python, page cache)")
    print(f"ratio           the media view runs at {rate / reference_rate:.2f}× the reference")
    print(
        f"range requests  {RANGE_REQUESTS} × 1 MiB at random offsets: median "
        f"{statistics.median(latencies) * 1000:.1f} ms, p95 "
        f"{latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms"
    )
    print(
        f"server memory   peak RSS (VmHWM) {peak / 1024:.0f} MiB; at start {baseline / 1024:.0f} "
        f"MiB; highest sample while downloading {max(samples or [0]) / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
