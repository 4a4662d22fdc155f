"""What a segment's fields mean and which values are valid: pure functions, no database.

The services apply these to every write (whole-timeline replace, segment operations, restore,
OTIO and caption imports); the export renders exactly what is described here.

Layers
- `video`: picture and sound of a clip. Video segments never overlap each other.
- `audio`: the sound of a clip only, mixed over everything else; audio segments may overlap.
  Its clip must have sound (a still image or a clip probed without audio is refused).
- `text` (titles) and `caption` (subtitles): no clip; they show `text` from `start_time` for
  `duration` seconds and may overlap anything. `source_start` is 0 on them.
- Stacking, bottom to top: video, text segments (a later start over an earlier one, then by
  id), captions. A still image (a ready clip whose duration is null) shows its one picture
  for the whole segment, whatever its length and `source_start`.

Sound (video and audio segments)
- `volume` [1.0]: linear gain, 0 (mute) to 2.0, applied to the segment's own sound.
- `fade_in`, `fade_out` [0]: seconds from silence up to `volume` at the segment's start and
  from `volume` down to silence at its end. On `video` the picture fades from and to black
  over the same seconds. On `text` and `caption` the text fades in and out (opacity).
  Always fade_in + fade_out <= duration.
- `duck` [false], audio segments only: wherever a video segment whose clip has sound and whose
  volume is above 0 plays, this segment's sound is lowered by DUCK_DB (12 dB, x0.25), ramping
  down and up over DUCK_RAMP seconds (starting at the video segment's start and end). Decided
  from the timeline, not from the signal, so the preview and the export agree.

Picture
- `fit` [the project's `settings.fit` when the segment was created, else "blur"]: how a picture
  of another shape fills the canvas. "fit": whole picture, centred, bars in black; "fill":
  scaled to cover the canvas, centred, the overflow cropped; "blur": the whole picture over a
  blurred "fill" of itself. Ignored on audio, text and caption segments.
- `transition` [null], video segments only: `{type, duration}`, how the picture and sound go
  from the video segment that ends exactly where this one starts (the previous one) into this
  one. It is centred on the cut: it runs from start_time - duration/2 to
  start_time + duration/2, and the timeline's length does not change. Frames the previous
  segment shows after its end, and this one before its start, come from their sources beyond
  the segment's in and out points; where a source has no more frames its last (or first)
  frame is held. The sound crossfades over the same span. Each segment's own fades apply to
  its frames and sound before they are mixed by the transition. Types, with the FFmpeg `xfade`
  transition that renders each: crossfade (fade), dip_to_black (fadeblack), dip_to_white
  (fadewhite), wipe (wipeleft), slide (slideleft).
  Valid only when a video segment ends exactly at start_time, and
  0 < duration <= min(previous.duration, this.duration) (so the two transitions of one segment
  never overlap). When a later edit moves or deletes the previous segment the transition is
  removed; when it shortens either segment below the transition, the transition is shortened.

Text (`text` and `caption` segments): `{content, font, size, color, background, x, y, align}`
- `content`: the text, lines separated by "\n"; at most CONTENT_MAX_CHARS characters; a
  caption's must not be blank.
- `font`: an id of timeline/fonts.py (GET /api/fonts).
- `size`: the font size in canvas pixels of a canvas whose short side is 1080 (scale it by
  short_side / 1080 for other sizes), SIZE_MIN to SIZE_MAX.
- `color`: "#RRGGBB" or "#RRGGBBAA" (AA = opacity); `background`: the same or null (none), a
  box behind the text's lines, padded by size / 4.
- `x`, `y`: from 0 to 1 across the canvas width and height: the point the text is anchored
  to. Vertically it is the middle of the text block; horizontally it is the block's left
  edge (align "left"), its middle ("center") or its right edge ("right"). Lines within the
  block are aligned the same way.

Values a request sends are checked strictly (400 VALIDATION_ERROR naming the field). Values a
segment keeps from before (fields the request leaves out) are adapted instead when the edit
makes them impossible: fades are scaled down to fit a shorter segment, a transition is
shortened or removed, fields that do not belong to a new layer go back to their defaults.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from timeline.fonts import DEFAULT_CAPTION_FONT, DEFAULT_TEXT_FONT, FONT_IDS
from timeline.models import MEDIA_LAYERS, TEXT_LAYERS

__all__ = ["MEDIA_LAYERS", "TEXT_LAYERS"]

DUCK_DB = 12
DUCK_RAMP = Decimal("0.25")

MILLISECOND = Decimal("0.001")
VOLUME_MAX = Decimal("2")
DEFAULT_VOLUME = Decimal("1")

TRANSITION_TYPES = ("crossfade", "dip_to_black", "dip_to_white", "wipe", "slide")
TRANSITION_KEYS = ("type", "duration")

TEXT_KEYS = ("content", "font", "size", "color", "background", "x", "y", "align")
ALIGNS = ("left", "center", "right")
CONTENT_MAX_CHARS = 1000
SIZE_MIN = 8
SIZE_MAX = 1080
COLOR_RE = re.compile(r"#[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?")
# Control characters but line feed and tab: nothing a title shows, and NUL cannot be stored.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

TEXT_DEFAULTS: dict[str, dict[str, Any]] = {
    "text": {
        "content": "",
        "font": DEFAULT_TEXT_FONT,
        "size": 96,
        "color": "#FFFFFF",
        "background": None,
        "x": 0.5,
        "y": 0.5,
        "align": "center",
    },
    # Subtitles: a regular face on a dark box, near the bottom, centred.
    "caption": {
        "content": "",
        "font": DEFAULT_CAPTION_FONT,
        "size": 48,
        "color": "#FFFFFF",
        "background": "#000000B3",
        "x": 0.5,
        "y": 0.88,
        "align": "center",
    },
}


class RuleError(Exception):
    """A value a rule refuses: `field` (e.g. "text.size") and a sentence saying what to do."""

    def __init__(self, field: str, text: str, **details: Any) -> None:
        super().__init__(text)
        self.field = field
        self.text = text
        self.details = details


def _number(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise RuleError(field, f"{field} must be a number.")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise RuleError(field, f"{field} must be a number.") from None
    if not number.is_finite():
        raise RuleError(field, f"{field} must be a finite number.")
    return number


def _plain(value: Decimal) -> int | float:
    """A JSON number without a needless ".0" (96 rather than 96.0)."""
    return int(value) if value == value.to_integral_value() else float(value)


def seconds(value: Any, field: str) -> Decimal:
    """A time in seconds, rounded to milliseconds as every time of the API."""
    return _number(value, field).quantize(MILLISECOND, rounding=ROUND_HALF_UP)


def volume(value: Any) -> Decimal:
    number = _number(value, "volume").quantize(MILLISECOND, rounding=ROUND_HALF_UP)
    if not 0 <= number <= VOLUME_MAX:
        raise RuleError("volume", "volume must be from 0 (mute) to 2 (twice as loud).")
    return number


def transition(value: Any) -> dict[str, Any] | None:
    """A transition as stored: None, or {"type", "duration"} with duration in milliseconds."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise RuleError(
            "transition",
            'transition must be null or an object like {"type": "crossfade", "duration": 0.5}.',
        )
    unknown = sorted(set(value) - set(TRANSITION_KEYS))
    if unknown:
        raise RuleError(
            "transition",
            f"transition has unknown keys ({', '.join(unknown)}); it takes type and duration.",
        )
    kind = value.get("type")
    if kind not in TRANSITION_TYPES:
        raise RuleError(
            "transition.type",
            f"transition.type must be one of {', '.join(TRANSITION_TYPES)}.",
            allowed=list(TRANSITION_TYPES),
        )
    if "duration" not in value:
        raise RuleError("transition.duration", "transition.duration (seconds) is required.")
    duration = seconds(value["duration"], "transition.duration")
    if duration <= 0:
        raise RuleError("transition.duration", "transition.duration must be more than 0 seconds.")
    return {"type": kind, "duration": float(duration)}


def transition_duration(value: Mapping[str, Any]) -> Decimal:
    return Decimal(str(value["duration"]))


def transition_limit(previous: Decimal, this: Decimal) -> Decimal:
    """The longest transition between two segments of these durations."""
    return min(previous, this)


def _color(value: Any, field: str, *, nullable: bool) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not COLOR_RE.fullmatch(value):
        extra = " or null" if nullable else ""
        raise RuleError(field, f'{field} must be a colour like "#FFFFFF" or "#000000B3"{extra}.')
    return value.upper()


def _fraction(value: Any, field: str) -> float:
    number = _number(value, field)
    if not 0 <= number <= 1:
        raise RuleError(field, f"{field} must be from 0 to 1 (a fraction of the canvas).")
    return float(number.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def text_style(given: Any, *, layer: str, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The complete text of a text or caption segment: `given` keys over `base` (the stored
    text, for a partial edit) over the layer's defaults, each checked."""
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        raise RuleError("text", 'text must be an object like {"content": "Hello"}.')
    unknown = sorted(set(given) - set(TEXT_KEYS))
    if unknown:
        raise RuleError(
            "text",
            f"text has unknown keys ({', '.join(unknown)}); it takes {', '.join(TEXT_KEYS)}.",
        )
    merged = {**TEXT_DEFAULTS[layer], **(base or {}), **given}
    content = merged["content"]
    if not isinstance(content, str):
        raise RuleError("text.content", "text.content must be a string.")
    content = content.replace("\r\n", "\n").replace("\r", "\n")
    if CONTROL_RE.search(content):
        raise RuleError("text.content", "text.content holds control characters; remove them.")
    if len(content) > CONTENT_MAX_CHARS:
        raise RuleError(
            "text.content", f"text.content is longer than {CONTENT_MAX_CHARS} characters."
        )
    if layer == "caption" and not content.strip():
        raise RuleError("text.content", "A caption needs words: text.content is empty.")
    if merged["font"] not in FONT_IDS:
        raise RuleError(
            "text.font",
            f"text.font must be one of the fonts of GET /api/fonts: {', '.join(FONT_IDS)}.",
            allowed=list(FONT_IDS),
        )
    size = _number(merged["size"], "text.size").quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if not SIZE_MIN <= size <= SIZE_MAX:
        raise RuleError(
            "text.size",
            f"text.size must be from {SIZE_MIN} to {SIZE_MAX} (pixels on a 1080-pixel short side).",
        )
    if merged["align"] not in ALIGNS:
        raise RuleError("text.align", f"text.align must be one of {', '.join(ALIGNS)}.")
    return {
        "content": content,
        "font": merged["font"],
        "size": _plain(size),
        "color": _color(merged["color"], "text.color", nullable=False),
        "background": _color(merged["background"], "text.background", nullable=True),
        "x": _fraction(merged["x"], "text.x"),
        "y": _fraction(merged["y"], "text.y"),
        "align": merged["align"],
    }


def text_name(layer: str, style: Mapping[str, Any]) -> str:
    """A segment name for a text segment that has none: its first line, shortened."""
    first = next((line.strip() for line in style["content"].split("\n") if line.strip()), "")
    if not first:
        return "Caption" if layer == "caption" else "Text"
    return first if len(first) <= 60 else first[:59] + "…"


def fades_fitted(fade_in: Decimal, fade_out: Decimal, duration: Decimal) -> tuple[Decimal, Decimal]:
    """Kept fades scaled down, in proportion, to fit a segment shortened to `duration`."""
    total = fade_in + fade_out
    if total <= duration:
        return fade_in, fade_out
    new_in = (fade_in * duration / total).quantize(MILLISECOND, rounding=ROUND_DOWN)
    new_out = min((fade_out * duration / total).quantize(MILLISECOND, rounding=ROUND_DOWN),
                  duration - new_in)  # fmt: skip
    return new_in, new_out
