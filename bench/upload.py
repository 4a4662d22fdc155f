"""Upload benchmark: a chunked upload of a big file to the real server over HTTP.

Starts `manage.py serve` (embedded mode, its own temporary VAR_DIR, a free loopback port),
registers a user through the API, uploads a generated file in 8 MiB chunks over 2-4
parallel connections, and prints the throughput next to a plain `cp` of the same bytes and
the server's peak memory (VmHWM), which stays flat whatever the file size.

    .venv/bin/python bench/upload.py                 # 1 GiB
    .venv/bin/python bench/upload.py --size 5G       # memory stays flat
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024**2
UNITS = {"K": 1024, "M": MIB, "G": 1024**3}


def parse_size(text: str) -> int:
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    if text and text[-1] in UNITS:
        return int(float(text[:-1]) * UNITS[text[-1]])
    return int(text)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_source(path: Path, size: int) -> str:
    """Write `size` random bytes (incompressible, no zero pages) in blocks; return the SHA-256."""
    digest = hashlib.sha256()
    block = 8 * MIB
    with path.open("wb") as file:
        left = size
        while left:
            data = os.urandom(min(block, left))
            digest.update(data)
            file.write(data)
            left -= len(data)
    return digest.hexdigest()


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class Server:
    def __init__(self, var_dir: Path, chunk_size: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "DATABASE_URL", "REDIS_URL", "DRAMATIQ_"))
        }
        self.env.update(
            VAR_DIR=str(var_dir),
            UPLOAD_CHUNK_SIZE=str(chunk_size),
            DEFAULT_STORAGE_LIMIT=str(64 * 1024**3),
            RATE_LIMIT_ENABLED="false",
            LOG_LEVEL="WARNING",
        )
        self.log = (var_dir / "server.log").open("wb")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        python = sys.executable
        subprocess.run(
            [python, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.process = subprocess.Popen(
            [python, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server stopped; see {self.log.name}")
            try:
                requests.get(f"{self.base}/api/auth/me", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.3)
        raise SystemExit("the server did not start within 60 s")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def register(base: str) -> str:
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    answer = requests.post(
        f"{base}/api/auth/register",
        json={"email": email, "password": "bench-Password-123!", "name": "Bench"},
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["access"])


def upload(base: str, token: str, source: Path, size: int, digest: str, parallel: int) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    project = requests.post(
        f"{base}/api/projects", json={"name": "Bench"}, headers=headers, timeout=30
    )
    project.raise_for_status()
    start = requests.post(
        f"{base}/api/projects/{project.json()['id']}/clips",
        json={"name": "bench", "filename": source.name, "size": size},
        headers=headers,
        timeout=30,
    )
    start.raise_for_status()
    session = start.json()["upload"]
    chunk_size, total = session["chunk_size"], session["total_chunks"]
    local = threading.local()
    fd = os.open(source, os.O_RDONLY)

    def send(index: int) -> None:
        if not hasattr(local, "http"):
            local.http = requests.Session()
            local.http.headers.update(headers)
        data = os.pread(fd, chunk_size, index * chunk_size)
        answer = local.http.post(
            f"{base}/api/upload/chunk",
            params={"upload_id": session["id"], "index": index},
            data=data,
            headers={
                "Content-Type": "application/octet-stream",
                "X-Chunk-SHA256": hashlib.sha256(data).hexdigest(),
            },
            timeout=120,
        )
        if answer.status_code != 200:
            raise RuntimeError(f"chunk {index}: {answer.status_code} {answer.text[:300]}")

    began = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            list(pool.map(send, range(total)))
    finally:
        os.close(fd)
    sent = time.monotonic() - began
    began = time.monotonic()
    complete = requests.post(
        f"{base}/api/upload/complete",
        json={"upload_id": session["id"], "sha256": digest},
        headers=headers,
        timeout=3600,
    )
    completed = time.monotonic() - began
    if complete.status_code != 200:
        raise RuntimeError(f"complete: {complete.status_code} {complete.text[:300]}")
    return {"chunks": total, "chunk_size": chunk_size, "sent": sent, "completed": completed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1G", help="file size, e.g. 1G, 5G, 300M")
    parser.add_argument("--chunk-size", default="8M")
    parser.add_argument("--parallel", type=int, default=3, choices=range(1, 9))
    args = parser.parse_args()
    size, chunk_size = parse_size(args.size), parse_size(args.chunk_size)

    work = Path(tempfile.mkdtemp(prefix="clipseq-bench-upload-"))
    (work / "var").mkdir()
    server = Server(work / "var", chunk_size)
    try:
        source = work / "source.bin"
        print(f"Generating {size / MIB:.0f} MiB of random bytes …", flush=True)
        digest = make_source(source, size)

        began = time.monotonic()
        subprocess.run(["cp", str(source), str(work / "copy.bin")], check=True)
        cp_seconds = time.monotonic() - began
        (work / "copy.bin").unlink()

        server.start()
        baseline = memory_kib(server.pid, "VmRSS")
        token = register(server.base)
        samples: list[int] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.2):
                samples.append(memory_kib(server.pid, "VmRSS"))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        result = upload(server.base, token, source, size, digest, args.parallel)
        stop.set()
        sampler.join()
        peak = memory_kib(server.pid, "VmHWM")
    except BaseException:
        server.stop()
        print((work / "var" / "server.log").read_text(errors="replace")[-3000:], file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
        raise
    server.stop()
    shutil.rmtree(work, ignore_errors=True)

    mib = size / MIB
    upload_rate = mib / result["sent"]
    cp_rate = mib / cp_seconds
    print(
        f"file            {mib:.0f} MiB in {result['chunks']} chunks of "
        f"{result['chunk_size'] / MIB:.0f} MiB, {args.parallel} parallel connections"
    )
    print(f"upload          {result['sent']:.1f} s  →  {upload_rate:.0f} MiB/s")
    print(f"complete        {result['completed']:.1f} s (server-side SHA-256 of the whole file)")
    print(f"cp reference    {cp_seconds:.1f} s  →  {cp_rate:.0f} MiB/s")
    print(f"ratio           upload is {upload_rate / cp_rate:.2f}× the speed of cp")
    print(
        f"server memory   peak RSS (VmHWM) {peak / 1024:.0f} MiB; at start {baseline / 1024:.0f} "
        f"MiB; highest sample while uploading {max(samples or [0]) / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
