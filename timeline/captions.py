"""Subtitles in and out: SubRip (.srt) and WebVTT (.vtt). Pure functions, no database.

A small strict reader rather than a dependency: it must say on which line a file goes wrong
(the editor shows it), accept what real files carry (a byte order mark, CRLF or CR line ends,
SRT without cue numbers, WebVTT identifiers, cue settings, NOTE/STYLE/REGION blocks, markup),
and nothing more lenient than that.

Reading keeps the words of each cue: markup (<i>, <b>, <font …>, <c.x>, <v Name>, inline
timestamps, SSA {\\an8} codes) is dropped and WebVTT character references are decoded. A
WebVTT cue's `align`, and its `position` and `line` when given in percent, become the caption's
text.align, text.x and text.y. Cues without words are skipped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# Times are DecimalField(max_digits=10, decimal_places=3) on segments.
MAX_SECONDS = Decimal("9999999.999")

_SRT_TIME = r"(\d+):([0-5]\d):([0-5]\d)[,.](\d{1,3})"
_SRT_TIMING = re.compile(rf"{_SRT_TIME}\s*-->\s*{_SRT_TIME}(?:\s+.*)?")
_VTT_TIME = r"(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_VTT_TIMING = re.compile(rf"{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}((?:[ \t]+.*)?)")
_VTT_HEADER = re.compile(r"WEBVTT(?:[ \t].*)?")
_TAG = re.compile(r"<[^>\n]*>")
_SSA = re.compile(r"\{\\[^}\n]*\}")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")
_VTT_ALIGN = {"start": "left", "left": "left", "center": "center", "middle": "center",
              "end": "right", "right": "right"}  # fmt: skip


class CaptionsError(Exception):
    """A file we cannot read: `line` (1-based, or None) and a sentence for the user."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.message = f"Line {line}: {message}" if line is not None else message
        self.line = line


@dataclass(frozen=True)
class Cue:
    start: Decimal
    end: Decimal
    content: str
    # text keys (align, x, y) the file sets for this cue.
    style: dict[str, Any] = field(default_factory=dict)
    # Where its time line is in the file (1-based; 0 when it did not come from a file).
    line: int = 0


def _decode(data: bytes) -> str:
    # utf-8-sig drops a UTF-8 byte order mark; UTF-16 files always start with theirs.
    encoding = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CaptionsError(
            "this is not UTF-8 text. Save the subtitles as UTF-8 and import them again.",
            line=line,
        ) from None
    return text.lstrip("\ufeff")


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _seconds(hours: str | None, minutes: str, secs: str, fraction: str) -> Decimal:
    return (
        int(hours or 0) * 3600 + int(minutes) * 60 + int(secs) + Decimal(f"0.{fraction}")
    ).quantize(Decimal("0.001"))


def _clean(lines: Iterable[str], *, vtt: bool) -> str:
    words = []
    for line in lines:
        line = _SSA.sub("", _TAG.sub("", line))
        if vtt:
            line = html.unescape(line)
        words.append(line.strip())
    return "\n".join(words).strip("\n")


def _cue(start: Decimal, end: Decimal, content: str, line: int, **style: Any) -> Cue:
    if end <= start:
        raise CaptionsError(
            f"the cue ends ({end} s) before it starts ({start} s). Correct its times.", line=line
        )
    if end > MAX_SECONDS:
        raise CaptionsError("the cue ends later than a timeline can last.", line=line)
    return Cue(start, end, content, style, line)


def _blocks(lines: list[str], first: int = 0) -> Iterable[tuple[int, list[str]]]:
    """Runs of non-blank lines: (index of the first, the lines)."""
    index = first
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        start = index
        while index < len(lines) and lines[index].strip():
            index += 1
        yield start, lines[start:index]


def parse_srt(text: str) -> list[Cue]:
    cues: list[Cue] = []
    for start, block in _blocks(_lines(text)):
        timing_at = 0
        # The cue number is optional in the wild: a first line of digits alone is one.
        if block[0].strip().isdigit() and len(block) > 1:
            timing_at = 1
        match = _SRT_TIMING.fullmatch(block[timing_at].strip())
        if match is None:
            raise CaptionsError(
                "expected a time line like '00:00:01,000 --> 00:00:03,500', found "
                f"'{block[timing_at].strip()[:60]}'.",
                line=start + timing_at + 1,
            )
        h1, m1, s1, f1, h2, m2, s2, f2 = match.groups()
        content = _clean(block[timing_at + 1 :], vtt=False)
        cue = _cue(
            _seconds(h1, m1, s1, f1), _seconds(h2, m2, s2, f2), content, start + timing_at + 1
        )
        if content:
            cues.append(cue)
    return cues


def _vtt_style(settings: str) -> dict[str, Any]:
    style: dict[str, Any] = {}
    for setting in settings.split():
        name, _, value = setting.partition(":")
        if name == "align" and value in _VTT_ALIGN:
            style["align"] = _VTT_ALIGN[value]
        elif name in ("position", "line"):
            percent = _PERCENT.match(value)
            if percent is not None:
                style["x" if name == "position" else "y"] = min(
                    1.0, float(Decimal(percent.group(1)) / 100)
                )
    return style


def parse_vtt(text: str) -> list[Cue]:
    lines = _lines(text)
    if not _VTT_HEADER.fullmatch(lines[0]):
        raise CaptionsError("a WebVTT file must start with the line 'WEBVTT'.", line=1)
    # The header runs to the first blank line.
    header_end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    cues: list[Cue] = []
    for start, block in _blocks(lines, header_end):
        head = block[0].strip()
        if head.split(maxsplit=1)[0] in ("NOTE", "STYLE", "REGION") and "-->" not in head:
            continue
        timing_at = 0 if "-->" in head else 1
        if timing_at >= len(block):
            raise CaptionsError(f"the cue '{head[:60]}' has no time line after it.", line=start + 1)
        match = _VTT_TIMING.fullmatch(block[timing_at].strip())
        if match is None:
            raise CaptionsError(
                "expected a time line like '00:01.000 --> 00:03.500', found "
                f"'{block[timing_at].strip()[:60]}'.",
                line=start + timing_at + 1,
            )
        h1, m1, s1, f1, h2, m2, s2, f2, settings = match.groups()
        content = _clean(block[timing_at + 1 :], vtt=True)
        cue = _cue(
            _seconds(h1, m1, s1, f1),
            _seconds(h2, m2, s2, f2),
            content,
            start + timing_at + 1,
            **_vtt_style(settings),
        )
        if content:
            cues.append(cue)
    return cues


def parse_captions(data: bytes, *, filename: str = "") -> list[Cue]:
    """The cues of an SRT or WebVTT file (told apart by the WEBVTT header or a .vtt name)."""
    text = _decode(data)
    if not text.strip():
        raise CaptionsError("the file is empty.")
    if text.startswith("WEBVTT") or filename.lower().endswith(".vtt"):
        return parse_vtt(text)
    return parse_srt(text)


# --- Writing ---------------------------------------------------------------------------------


def _clock(seconds: Decimal, separator: str) -> str:
    millis = int((seconds * 1000).to_integral_value())
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _lines_of(content: str) -> str:
    # A blank line ends a cue in both formats: keep the caption's lines, drop empty ones.
    return "\n".join(line for line in content.split("\n") if line.strip())


def format_srt(cues: Iterable[Cue]) -> str:
    parts = [
        f"{number}\n{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}\n{_lines_of(cue.content)}\n"
        for number, cue in enumerate(cues, start=1)
    ]
    return "\n".join(parts)


def _percent(value: float) -> str:
    return f"{Decimal(str(value)) * 100:f}".rstrip("0").rstrip(".") + "%"


def format_vtt(cues: Iterable[Cue], *, defaults: dict[str, Any]) -> str:
    """WebVTT; a cue's align, x and y become cue settings where they differ from `defaults`."""
    parts = ["WEBVTT\n"]
    for cue in cues:
        settings = []
        if cue.style.get("align", defaults["align"]) != defaults["align"]:
            settings.append(f"align:{cue.style['align']}")
        if cue.style.get("x", defaults["x"]) != defaults["x"]:
            settings.append(f"position:{_percent(cue.style['x'])}")
        if cue.style.get("y", defaults["y"]) != defaults["y"]:
            settings.append(f"line:{_percent(cue.style['y'])}")
        timing = f"{_clock(cue.start, '.')} --> {_clock(cue.end, '.')}"
        if settings:
            timing += " " + " ".join(settings)
        escaped = html.escape(_lines_of(cue.content), quote=False)
        parts.append(f"{timing}\n{escaped}\n")
    return "\n".join(parts)
