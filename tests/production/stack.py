"""The production setup, without Docker: daphne and two Dramatiq worker processes with
production settings against PostgreSQL (a fresh database on the machine's server), a private
redis-server and a private S3 server (SeaweedFS) on loopback.

Everything is private to the stack, so drills may kill workers and stop Redis without
touching what other tests use. Timings are shortened deliberately for the drills: jobs write a
heartbeat every second and are re-claimable after 4 s of silence; Dramatiq requeues a dead
worker's messages after 6 s, with a requeue pass on 10 % of broker commands.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import requests

from tests.production.services import PrivateRedis, PrivateS3, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHUNK = 5 * 1024**2  # S3's smallest multipart part


def _server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        parts = urlsplit(url)
        return parts._replace(path="/postgres").geturl()
    return "postgres://postgres@127.0.0.1:5432/postgres"


class Stack:
    def __init__(
        self, directory: Path, *, workers: int = 2, extra_env: dict[str, str] | None = None
    ):
        self.directory = directory
        self.workers_wanted = workers
        self.extra_env = extra_env or {}
        self.name = f"clipseq_stack_{secrets.token_hex(4)}"
        self.redis = PrivateRedis(directory / "redis")
        self.bucket = f"stack-{secrets.token_hex(4)}"
        self.storage = PrivateS3(
            directory / "s3", bucket=self.bucket, access_key="stack-key", secret_key="stack-secret"
        )
        self.s3_port = self.storage.port
        self.web_port = free_port()
        self.tmp_dir = directory / "processing-tmp"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    # --- lifecycle ----------------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        return urlsplit(_server_url())._replace(path=f"/{self.name}").geturl()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "DATABASE_", "REDIS_", "DRAMATIQ_", "DJANGO_", "CLAMD_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=self.database_url,
            REDIS_URL=f"{self.redis.url}/0",
            DRAMATIQ_BROKER_URL=f"{self.redis.url}/1",
            AWS_STORAGE_BUCKET_NAME=self.bucket,
            AWS_S3_ENDPOINT_URL=f"http://127.0.0.1:{self.s3_port}",
            AWS_S3_REGION_NAME="us-east-1",
            AWS_ACCESS_KEY_ID="stack-key",
            AWS_SECRET_ACCESS_KEY="stack-secret",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            DEBUG="false",
            LOG_FORMAT="json",
            PROCESSING_TMP_DIR=str(self.tmp_dir),
            UPLOAD_CHUNK_SIZE=str(CHUNK),
            PROCESSING_HEARTBEAT_SECONDS="1",
            PROCESSING_STALE_AFTER_SECONDS="4",
            DRAMATIQ_HEARTBEAT_TIMEOUT_MS="6000",
            # Half of all commands run maintenance: the restart bound must not hang on luck.
            DRAMATIQ_MAINTENANCE_CHANCE="500000",
            RATE_LIMIT_USER="100000/min",
            RATE_LIMIT_IP="100000/min",
            RATE_LIMIT_UPLOAD="100000/min",
            RATE_LIMIT_AUTH="1000/min",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.directory / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> Stack:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(exist_ok=True)
        (self.directory / "redis").mkdir(exist_ok=True)
        with psycopg.connect(_server_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.redis.start()
        self.storage.start()
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=self.env(),
            check=True,
            timeout=300,
        )
        self._spawn(
            "web",
            [
                str(BIN / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(self.web_port),
                "config.asgi:application",
            ],
        )
        for index in range(self.workers_wanted):
            self.start_worker(f"worker{index + 1}")
        wait_for_port(self.web_port, timeout=60)
        self.wait_for_workers()
        return self

    def start_worker(self, name: str) -> None:
        self._spawn(
            name,
            [sys.executable, "manage.py", "rundramatiq", "--processes", "1", "--threads", "2"],
        )

    def wait_for_workers(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        names = [n for n in self.processes if n.startswith("worker")]
        while time.monotonic() < deadline:
            if all("ready for action" in self.log(n) for n in names):
                return
            for name in names:
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited:\n{self.log(name)[-3000:]}")
            time.sleep(0.2)
        raise TimeoutError("the workers did not start:\n" + self.log(names[0])[-3000:])

    def kill(self, name: str, also: list[int] | None = None) -> None:
        """kill -9 the worker's process group and `also` (its FFmpeg), as a dying host would."""
        process = self.processes.pop(name)
        for kill in [lambda: os.killpg(process.pid, signal.SIGKILL)] + [
            (lambda pid=pid: os.kill(pid, signal.SIGKILL)) for pid in also or []
        ]:
            try:
                kill()
            except ProcessLookupError:
                pass
        process.wait(timeout=10)

    def stop(self) -> None:
        for name in list(self.processes):
            process = self.processes.pop(name)
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=15)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
        self.redis.stop()
        self.storage.stop()
        with psycopg.connect(_server_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def worker_running_ffmpeg(self) -> tuple[str, list[int]] | None:
        """Which worker runs an FFmpeg right now, and the FFmpeg pids (FFmpeg runs in its own
        session, so it is found through its parent chain, not its process group)."""
        groups = {process.pid: name for name, process in self.processes.items()}
        found: dict[str, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")[0]
                if not command.endswith(b"ffmpeg"):
                    continue
                pid = parent = int(entry.name)
                while parent > 1:
                    group = os.getpgid(parent)
                    if group in groups and groups[group].startswith("worker"):
                        found.setdefault(groups[group], []).append(pid)
                        break
                    stat = Path(f"/proc/{parent}/stat").read_text()
                    parent = int(stat.rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError):
                continue
        return next(iter(found.items()), None)

    def s3(self) -> Any:
        return self.storage.client()

    def stored_keys(self, prefix: str) -> list[str]:
        listing = self.s3().list_objects_v2(Bucket=self.bucket, Prefix=f"media/{prefix}")
        return [item["Key"] for item in listing.get("Contents", [])]


class ApiClient:
    """A client that talks to the stack as a browser behind TLS-terminating nginx would."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.session = requests.Session()
        # Production settings redirect plain HTTP; nginx would say the client used HTTPS.
        self.session.headers["X-Forwarded-Proto"] = "https"
        self.token = ""

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("allow_redirects", False)
        return self.session.request(method, f"{self.stack.base}{path}", **kwargs)

    def register(self, email: str | None = None) -> dict[str, Any]:
        email = email or f"user-{secrets.token_hex(4)}@example.com"
        response = self.request(
            "POST",
            "/api/auth/register",
            json={"email": email, "password": "stack-pass-Word-42", "name": "Stack User"},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        self.token = body["access"]
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        return body

    def project(self, name: str = "Stack project") -> str:
        response = self.request("POST", "/api/projects", json={"name": name})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def upload(self, project_id: str, path: Path) -> str:
        """A chunked upload of `path`; returns the clip id."""
        data = path.read_bytes()
        start = self.request(
            "POST",
            f"/api/projects/{project_id}/clips",
            json={"name": path.stem, "filename": path.name, "size": len(data)},
        )
        assert start.status_code == 201, start.text
        upload = start.json()["upload"]
        size = upload["chunk_size"]
        for index in range(upload["total_chunks"]):
            self.chunk(upload["id"], index, data[index * size : (index + 1) * size])
        done = self.request(
            "POST",
            "/api/upload/complete",
            json={"upload_id": upload["id"], "sha256": hashlib.sha256(data).hexdigest()},
        )
        assert done.status_code == 200, done.text
        return start.json()["clip"]["id"]

    def chunk(self, upload_id: str, index: int, data: bytes) -> requests.Response:
        response = self.request(
            "POST",
            f"/api/upload/chunk?upload_id={upload_id}&index={index}",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert response.status_code == 200, response.text
        return response

    def wait_for(self, path: str, field: str, values: set[str], timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            body = self.request("GET", path).json()
            if body.get(field) in values:
                return body
            time.sleep(0.25)
        raise TimeoutError(
            f"{path} still has {field}={body.get(field)!r} after {timeout} s: {body}"
        )


class EventListener:
    """A websocket client collecting events in the background."""

    def __init__(self, stack: Stack, path: str, token: str) -> None:
        from websockets.sync.client import connect

        self.events: list[dict[str, Any]] = []
        self.socket = connect(
            f"ws://127.0.0.1:{stack.web_port}{path}?token={token}",
            additional_headers={"Origin": stack.base},
            open_timeout=10,
        )
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for message in self.socket:
                self.events.append(json.loads(message))
        except Exception:  # the socket closed
            return

    def wait_for(self, predicate: Any, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in list(self.events):
                if predicate(event):
                    return event
            time.sleep(0.05)
        raise TimeoutError(f"no matching event in {timeout} s; got {self.events[-5:]}")

    def close(self) -> None:
        self.socket.close()


@contextmanager
def running_stack(directory: Path, **kwargs: Any) -> Any:
    stack = Stack(directory, **kwargs)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(directory / "redis", ignore_errors=True)
        shutil.rmtree(directory / "s3" / "data", ignore_errors=True)  # its log stays
