"""Run one FFmpeg or ffprobe command: progress, timeout, cancellation, niceness, memory cap.

Commands come as argument lists from the builders in this package; nothing goes through a
shell. FFmpeg writes `-progress pipe:1` key=value blocks on stdout, which become a 0–1
fraction of the expected output duration. stderr goes to a file so a chatty FFmpeg can never
block on a full pipe; its tail becomes the developer-facing error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

from processing.ffmpeg.safety import safe_input_args

STDERR_TAIL_BYTES = 8000
CANCEL_POLL_SECONDS = 0.25
KILL_GRACE_SECONDS = 1.0


# An absolute path, bare or as FFmpeg's `file:` URL, up to a space, a quote or the colon FFmpeg
# prints after it. Not a URL's path (`//host/x`) nor a fraction (`30000/1001`).
_ABSOLUTE_PATH = re.compile(r"(?<![\w/.~-])(?:file:)?(?:/[^\s/'\":,]+)+/?")


def strip_paths(text: str) -> str:
    """Replace every absolute path in FFmpeg/ffprobe output with its last part.

    Error output reaches API answers (a probe's reason for refusing a file) and job errors:
    the server's folders (the temp dir, the media root) are nobody's business there, while the
    file's own name still tells which input it was about."""
    return _ABSOLUTE_PATH.sub(lambda match: match.group(0).rstrip("/").rsplit("/", 1)[-1], text)


class FFmpegError(Exception):
    """FFmpeg failed, timed out or was cancelled; `stderr` holds the tail of its error output,
    without the server's paths (`strip_paths`), as it may be shown to users."""

    def __init__(self, message: str, *, stderr: str = "", returncode: int | None = None) -> None:
        super().__init__(strip_paths(message))
        self.stderr = strip_paths(stderr)
        self.returncode = returncode


class FFmpegCancelled(FFmpegError):
    pass


class FFmpegTimeout(FFmpegError):
    pass


@dataclass(frozen=True)
class FFmpegResult:
    returncode: int
    stderr: str
    elapsed: float
    cpu_seconds: float
    # Frames written to the first video output, from FFmpeg's last progress report.
    frames: int | None = None


def _limits_prefix() -> list[str]:
    """Lower priority and cap address space, through util-linux rather than preexec_fn
    (which is unsafe in the threaded worker processes)."""
    prefix: list[str] = []
    memory = settings.FFMPEG_MEMORY_LIMIT_BYTES
    if memory and shutil.which("prlimit"):
        prefix += ["prlimit", f"--as={memory}", "--"]
    if shutil.which("nice"):
        prefix += ["nice", "-n", str(settings.FFMPEG_NICENESS)]
    return prefix


def _spawn(args: list[str], *, stderr: Any, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start an ffmpeg or ffprobe argument list: niced and memory-capped, no stdin, stdout piped,
    in a session of its own so that stopping it reaches every process it started."""
    return subprocess.Popen(
        [*_limits_prefix(), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        cwd=cwd,
        start_new_session=True,
    )


def parse_progress_time(key: str, value: str) -> float | None:
    """Seconds of output written, from one `-progress` line (`out_time_us=…`)."""
    if key in ("out_time_us", "out_time_ms"):
        # FFmpeg reports microseconds under both names (out_time_ms is a historical misnomer).
        try:
            micros = int(value)
        except ValueError:
            return None
        return max(0.0, micros / 1_000_000)
    return None


def run_ffmpeg(
    args: list[str],
    *,
    expected_duration: float | None = None,
    on_progress: Callable[[float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    timeout: float | None = None,
    cwd: Path | None = None,
) -> FFmpegResult:
    """Run an ffmpeg argument list (from a builder) to completion or raise FFmpegError.

    `on_progress` receives a fraction 0–1 of `expected_duration`. `should_cancel` is polled
    about four times a second; when it turns true FFmpeg is terminated (killed after a
    second) and FFmpegCancelled raised, so a cancel takes effect well within two seconds.
    """
    timeout = timeout if timeout is not None else settings.FFMPEG_TIMEOUT_SECONDS
    with tempfile.TemporaryFile(dir=cwd) as stderr_file:
        started = time.monotonic()
        usage_before = os.times()
        process = _spawn(args, stderr=stderr_file, cwd=cwd)
        last_time = [0.0]
        last_frame: list[int | None] = [None]

        def read_progress() -> None:
            assert process.stdout is not None
            try:
                for raw in process.stdout:
                    key, _, value = raw.decode(errors="replace").strip().partition("=")
                    if key == "frame" and value.isdigit():
                        last_frame[0] = int(value)
                    seconds = parse_progress_time(key, value)
                    if seconds is not None:
                        last_time[0] = seconds
                        if on_progress and expected_duration:
                            on_progress(min(1.0, seconds / expected_duration))
            finally:
                # on_progress writes the job row from this thread: close the connection it
                # opened, or every FFmpeg run would leave one behind.
                connections.close_all()

        reader = threading.Thread(target=read_progress, daemon=True)
        reader.start()
        cancelled = timed_out = False
        while process.poll() is None:
            if should_cancel is not None and should_cancel():
                cancelled = True
                _stop(process)
                break
            if time.monotonic() - started > timeout:
                timed_out = True
                _stop(process)
                break
            if reader.is_alive():
                # The reader ends when FFmpeg closes its output, at exit. A timed wait on the
                # process would poll waitpid dozens of times a second, for the whole run.
                reader.join(CANCEL_POLL_SECONDS)
                continue
            try:
                process.wait(CANCEL_POLL_SECONDS)
            except subprocess.TimeoutExpired:
                pass
        process.wait()
        reader.join(timeout=2)
        usage_after = os.times()
        stderr_file.seek(0, os.SEEK_END)
        size = stderr_file.tell()
        stderr_file.seek(max(0, size - STDERR_TAIL_BYTES))
        stderr = stderr_file.read().decode(errors="replace").strip()

    elapsed = time.monotonic() - started
    cpu = (usage_after.children_user - usage_before.children_user) + (
        usage_after.children_system - usage_before.children_system
    )
    if cancelled:
        raise FFmpegCancelled("FFmpeg was stopped because the job was cancelled.", stderr=stderr)
    if timed_out:
        raise FFmpegTimeout(
            f"FFmpeg took longer than {timeout:.0f} s and was stopped.", stderr=stderr
        )
    if process.returncode != 0:
        raise FFmpegError(
            f"FFmpeg exited with code {process.returncode}.",
            stderr=stderr,
            returncode=process.returncode,
        )
    if on_progress:
        on_progress(1.0)
    return FFmpegResult(
        returncode=process.returncode,
        stderr=stderr,
        elapsed=elapsed,
        cpu_seconds=cpu,
        frames=last_frame[0],
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def ffprobe_args(path: Path | str, *, extra: list[str] | None = None) -> list[str]:
    """ffprobe of one local file as JSON: format, streams, with the safe input flags."""
    return [
        settings.FFPROBE_BINARY,
        "-hide_banner",
        "-loglevel",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        *(extra or []),
        *safe_input_args(path),
    ]


def run_ffprobe_json(args: list[str], *, timeout: float = 120) -> dict[str, Any]:
    """Run an ffprobe argument list and parse its JSON output."""
    process = _spawn(args, stderr=subprocess.PIPE)
    try:
        stdout, stderr_bytes = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _stop(process)
        process.communicate()
        raise FFmpegTimeout(f"ffprobe took longer than {timeout:.0f} s.") from exc
    stderr = stderr_bytes.decode(errors="replace")[-STDERR_TAIL_BYTES:].strip()
    if process.returncode != 0:
        raise FFmpegError(
            f"ffprobe exited with code {process.returncode}.",
            stderr=stderr,
            returncode=process.returncode,
        )
    try:
        data = json.loads(stdout or b"{}")
    except json.JSONDecodeError as exc:
        raise FFmpegError("ffprobe printed something that is not JSON.", stderr=stderr) from exc
    return data if isinstance(data, dict) else {}


def run_ffprobe_lines(
    args: list[str],
    *,
    keep: Callable[[str], bool] | None = None,
    limit: int = 10_000,
    timeout: float = 300,
) -> tuple[list[str], bool]:
    """Run an ffprobe argument list printing one record per line (e.g. `-of csv`) and collect
    the lines `keep` accepts, at most `limit` of them, reading as they come so a long file's
    packet list never sits in memory. Returns (lines, truncated)."""
    with tempfile.TemporaryFile() as stderr_file:
        process = _spawn(args, stderr=stderr_file)
        timed_out = threading.Event()

        def on_timeout() -> None:
            timed_out.set()
            _stop(process)

        timer = threading.Timer(timeout, on_timeout)
        timer.start()
        lines: list[str] = []
        truncated = False
        try:
            assert process.stdout is not None
            for raw in process.stdout:
                line = raw.decode(errors="replace").strip()
                if not line or (keep is not None and not keep(line)):
                    continue
                if len(lines) >= limit:
                    truncated = True
                    _stop(process)
                    break
                lines.append(line)
            process.wait()
        finally:
            timer.cancel()
        stderr_file.seek(0)
        stderr = stderr_file.read()[-STDERR_TAIL_BYTES:].decode(errors="replace").strip()
    if truncated:
        return lines, True
    if timed_out.is_set():
        raise FFmpegTimeout(f"ffprobe took longer than {timeout:.0f} s.", stderr=stderr)
    if process.returncode != 0:
        raise FFmpegError(
            f"ffprobe exited with code {process.returncode}.",
            stderr=stderr,
            returncode=process.returncode,
        )
    return lines, False
