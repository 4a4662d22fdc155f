"""Test media made by FFmpeg at test time (never downloaded), shared by every test area.

`MediaFactory(directory)` writes each kind of file once per directory and returns its path:

    media = MediaFactory(tmp_path_factory.mktemp("media"))
    media.normal()        # 2 s 320x240 H.264/AAC MP4 with a 440 Hz tone
    media.no_audio()      # the same without an audio stream
    media.rotated()       # stored 320x240 with a 90° display matrix: shown as 240x320
    media.vfr()           # variable frame rate (30 fps, then 10 fps)
    media.long(seconds=20) # a longer clip, e.g. to cancel a running job
    media.truncated()     # the first 40 % of a normal MP4 (index missing)
    media.zero_bytes()    # an empty file named .mp4
    media.text_as_mp4()   # a text file named .mp4
    media.eicar()         # the EICAR antivirus test string
    media.hls_trick(secret=path, canary_url=url)  # an m3u8 playlist named .mp4
    media.pixel_bomb()    # one 8192x8192 frame (above 8K)
    media.six_hours()     # a tiny file whose video claims six hours

The `tests/media.py` module is also the one place the EICAR string is spelled out.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIZE = "320x240"


def ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        timeout=120,
    )


def ffprobe_json(path: Path) -> dict:
    import json

    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return json.loads(out.stdout)


class MediaFactory:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        return self.directory / name

    def _video(
        self,
        name: str,
        *,
        seconds: float = 2,
        size: str = SIZE,
        audio: bool = True,
        rate: int = 30,
        extra: tuple[str, ...] = (),
    ) -> Path:
        path = self._path(name)
        if path.exists():
            return path
        inputs = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}"]
        codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "15"]
        if audio:
            inputs += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
            codecs += ["-c:a", "aac", "-b:a", "96k", "-shortest"]
        ffmpeg(*inputs, "-t", f"{seconds:g}", *extra, *codecs, str(path))
        return path

    def normal(self, seconds: float = 2) -> Path:
        return self._video(f"normal-{seconds:g}s.mp4", seconds=seconds)

    def no_audio(self) -> Path:
        return self._video("no-audio.mp4", audio=False)

    def long(self, seconds: float = 20) -> Path:
        return self._video(f"long-{seconds:g}s.mp4", seconds=seconds)

    def rotated(self) -> Path:
        """Stored landscape, displayed portrait: FFmpeg 5.1 turns the `rotate` tag into a
        display matrix when muxing MP4 (newer FFmpeg also has -display_rotation)."""
        path = self._path("rotated.mp4")
        if not path.exists():
            ffmpeg(
                "-i", str(self.normal()), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(path)
            )
        return path

    def vfr(self) -> Path:
        return self._video(
            "vfr.mp4",
            seconds=2,
            extra=(
                "-vf",
                "setpts='if(lt(N,30),N/30,1+(N-30)/10)/TB'",
                "-fps_mode",
                "passthrough",
            ),
        )

    def truncated(self) -> Path:
        path = self._path("truncated.mp4")
        if not path.exists():
            data = self.normal().read_bytes()
            path.write_bytes(data[: int(len(data) * 0.4)])
        return path

    def zero_bytes(self) -> Path:
        path = self._path("empty.mp4")
        path.write_bytes(b"")
        return path

    def text_as_mp4(self) -> Path:
        path = self._path("notes.mp4")
        path.write_text("These are my holiday notes, not a video.\n" * 20)
        return path

    def eicar(self) -> Path:
        path = self._path("eicar.mp4")
        path.write_text(EICAR)
        return path

    def hls_trick(self, *, secret: Path, canary_url: str) -> Path:
        """An HLS playlist disguised as MP4, pointing at a local file and at a URL: an FFmpeg
        that follows it would read the secret or call the canary."""
        path = self._path("trick.mp4")
        path.write_text(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
            f"#EXTINF:10.0,\n{canary_url}\n"
            f"#EXTINF:10.0,\nfile://{secret}\n"
            f"#EXTINF:10.0,\n{secret}\n"
            "#EXT-X-ENDLIST\n"
        )
        return path

    def pixel_bomb(self) -> Path:
        path = self._path("bomb-8192.mp4")
        if not path.exists():
            ffmpeg(
                "-f",
                "lavfi",
                "-i",
                "color=c=black:size=8192x8192:rate=1",
                "-frames:v",
                "1",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                str(path),
            )
        return path

    def six_hours(self) -> Path:
        """Two frames six hours apart: a file of about a kilobyte that says it lasts 6 h."""
        path = self._path("six-hours.mp4")
        if not path.exists():
            ffmpeg(
                "-f",
                "lavfi",
                "-i",
                "color=c=black:size=64x64:rate=1/10800",
                "-frames:v",
                "2",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                str(path),
            )
        return path
