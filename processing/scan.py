"""A small clamd client: INSTREAM over clamd's unix socket or TCP, streamed in chunks.

Three answers matter: clean, infected, or too large for clamd's StreamMaxLength. Anything else
(connection refused, a timeout, a clamd error) means "unknown": the caller must retry later and
never treat the file as clean.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

CHUNK_SIZE = 64 * 1024
REPLY_MAX_BYTES = 4096


class ScannerUnavailable(Exception):
    """clamd could not give a verdict (unreachable, timed out or failed)."""


class ScanCancelled(Exception):
    pass


@dataclass(frozen=True)
class ScanResult:
    verdict: str  # "clean" | "infected" | "too_large"
    signature: str = ""
    reply: str = ""

    @property
    def infected(self) -> bool:
        return self.verdict == "infected"


def clamd_configured() -> bool:
    return bool(settings.CLAMD_SOCKET or settings.CLAMD_HOST)


def _connect() -> socket.socket:
    timeout = settings.CLAMD_TIMEOUT_SECONDS
    try:
        if settings.CLAMD_SOCKET:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(settings.CLAMD_SOCKET)
            except OSError:
                sock.close()
                raise
            return sock
        return socket.create_connection((settings.CLAMD_HOST, settings.CLAMD_PORT), timeout)
    except OSError as exc:
        raise ScannerUnavailable(f"cannot connect to clamd: {exc}") from exc


def _read_reply(sock: socket.socket) -> str:
    # Commands prefixed with "z" are answered with a NUL-terminated line.
    data = b""
    while not data.endswith(b"\0") and len(data) < REPLY_MAX_BYTES:
        block = sock.recv(REPLY_MAX_BYTES)
        if not block:
            break
        data += block
    return data.rstrip(b"\0").decode(errors="replace").strip()


def clamd_ping() -> bool:
    try:
        with _connect() as sock:
            sock.sendall(b"zPING\0")
            return _read_reply(sock) == "PONG"
    except (ScannerUnavailable, OSError):
        return False


def parse_reply(reply: str) -> ScanResult:
    """Turn clamd's INSTREAM answer into a verdict, or raise ScannerUnavailable (pure)."""
    if reply.endswith("OK") and reply.startswith("stream:"):
        return ScanResult("clean", reply=reply)
    if reply.endswith(" FOUND"):
        signature = reply.removeprefix("stream:").removesuffix(" FOUND").strip()
        return ScanResult("infected", signature=signature or "unknown", reply=reply)
    if "size limit exceeded" in reply:
        return ScanResult("too_large", reply=reply)
    raise ScannerUnavailable(f"clamd answered: {reply or '(nothing)'}")


def scan_stream(
    blocks: Iterable[bytes], *, should_cancel: Callable[[], bool] | None = None
) -> ScanResult:
    """Send `blocks` to clamd with INSTREAM and return its verdict."""
    with _connect() as sock:
        try:
            sock.sendall(b"zINSTREAM\0")
            for block in blocks:
                if should_cancel is not None and should_cancel():
                    raise ScanCancelled()
                for start in range(0, len(block), CHUNK_SIZE):
                    piece = block[start : start + CHUNK_SIZE]
                    sock.sendall(struct.pack("!L", len(piece)) + piece)
            sock.sendall(struct.pack("!L", 0))
        except (BrokenPipeError, ConnectionResetError):
            # clamd stops reading once a stream passes StreamMaxLength; its answer says so.
            pass
        except OSError as exc:
            raise ScannerUnavailable(f"clamd stopped answering: {exc}") from exc
        try:
            reply = _read_reply(sock)
        except OSError as exc:
            raise ScannerUnavailable(f"clamd gave no answer: {exc}") from exc
    return parse_reply(reply)


def scan_file(path: Path, *, should_cancel: Callable[[], bool] | None = None) -> ScanResult:
    def blocks() -> Iterable[bytes]:
        with open(path, "rb") as handle:
            while block := handle.read(1024**2):
                yield block

    return scan_stream(blocks(), should_cancel=should_cancel)
