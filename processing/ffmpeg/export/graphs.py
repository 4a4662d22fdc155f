"""Filter-graph text of an export: picture pieces on the output frame grid, sound pieces on the
sample grid, gaps, the sound mix and the loudness gain. Pure functions of numbers and labels.

Every count is exact: a picture piece ends with `trim=end_frame`, a sound piece with
`atrim=end_sample` (sample counters, not timestamps), so pieces laid end to end never drift.
"""

from __future__ import annotations

from fractions import Fraction

SAMPLE_RATE = 48000
AUDIO_FORMAT = f"aresample={SAMPLE_RATE}:async=1,aformat=sample_fmts=fltp:channel_layouts=stereo"


def number(value: Fraction | float) -> str:
    """A number FFmpeg parses: whole numbers as such, others with microsecond precision."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.6f}"


def rate_text(rate: Fraction) -> str:
    return f"{rate.numerator}/{rate.denominator}"


def fit_chain(width: int, height: int) -> str:
    """Fit inside the frame keeping the display aspect ratio (sample aspect ratio included),
    then centre on black: portrait and 4:3 sources get bars, never stretching. FFmpeg has
    already applied the rotation (autorotate) before this chain sees the frames."""
    return f"{_fit_scale(width, height)},{_pad(width, height)}"


def _fit_scale(w: int, h: int) -> str:
    return f"scale=w='min({w},2*trunc({h}*iw*sar/ih/2))':h='min({h},2*trunc({w}*ih/(iw*sar)/2))'"


def _pad(w: int, h: int) -> str:
    return f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p"


def _fill_scale(w: int, h: int) -> str:
    """Scaled to cover w x h (display aspect kept), the overflow cropped, centred."""
    return (
        f"scale=w='max({w},2*ceil({h}*iw*sar/ih/2))':h='max({h},2*ceil({w}*ih/(iw*sar)/2))',"
        f"crop={w}:{h},setsar=1"
    )


# The blurred backdrop is made at a quarter of the size: a wide blur for a fraction of the work.
BLUR_SHRINK = 4
BLUR_RADIUS = 10


def framing_chain(*, fit: str, width: int, height: int, label: str) -> str:
    """Chain text from a picture to `width` x `height` yuv420p by `fit` (timeline/rules.py):
    "fit" bars, "fill" crop, "blur" the fitted picture over a blurred fill of itself. The
    text goes inside a chain that already has an input; it may split into sub-chains, so it
    uses `label` for its own pads."""
    if fit == "fill":
        return f"{_fill_scale(width, height)},format=yuv420p"
    if fit != "blur":
        return fit_chain(width, height)
    small_w = max(2, width // BLUR_SHRINK // 2 * 2)
    small_h = max(2, height // BLUR_SHRINK // 2 * 2)
    return (
        f"split=2[{label}f][{label}b];"
        f"[{label}b]{_fill_scale(small_w, small_h)},format=yuv420p,"
        f"boxblur=luma_radius={BLUR_RADIUS}:luma_power=2:chroma_radius={BLUR_RADIUS // 2}:"
        f"chroma_power=2,scale={width}:{height},setsar=1[{label}g];"
        f"[{label}f]{_fit_scale(width, height)},setsar=1[{label}p];"
        f"[{label}g][{label}p]overlay=x=(W-w)/2:y=(H-h)/2:eof_action=endall,format=yuv420p"
    )


def fades_chain(
    *, rate: Fraction, offset: int, fade_in: Fraction, fade_out: Fraction, fade_out_at: Fraction
) -> str:
    """Fades from and to black on frames counted from the segment's first: timestamps are set
    to the segment frame number (`offset` is the first one here), so every chunk of a segment
    fades the same frames the same way. Empty without fades. Input and output have a time
    start at 0."""
    if not fade_in and not fade_out:
        return ""
    shift = max(0, -offset)  # no negative times (a transition's incoming side)
    chain = f"settb=1/{rate_text(rate)},setpts=N+{offset + shift},"
    lead = Fraction(shift) / rate
    if fade_in:
        chain += f"fade=t=in:st={number(lead)}:d={number(fade_in)},"
    if fade_out:
        chain += f"fade=t=out:st={number(fade_out_at + lead)}:d={number(fade_out)},"
    return chain + "setpts=PTS-STARTPTS,"


def picture_chain(
    *,
    input_index: int,
    label: str,
    frames: int,
    shift_us: int,
    start_seconds: Fraction,
    width: int,
    height: int,
    rate: Fraction,
    fit: str = "fit",
    hold: int = 2,
    fades: str = "",
) -> str:
    """One segment's frames. The input keeps its own timestamps (`-copyts`); shifting them by
    `shift_us` puts the piece's first frame just after `start_seconds`, and `fps` starting there
    picks, for every output frame, the source frame on screen at its time: the same rule
    in every chunk, whatever the seek point was. `tpad` repeats the last frame should the file
    end early (`hold` frames at most: a transition holds a source's last frame)."""
    return (
        f"[{input_index}:v]settb=AVTB,setpts=PTS-{shift_us},"
        f"fps=fps={rate_text(rate)}:start_time={float(start_seconds):.9f},"
        f"{framing_chain(fit=fit, width=width, height=height, label=label)},"
        f"tpad=stop_mode=clone:stop={hold},trim=end_frame={frames},setpts=PTS-STARTPTS"
        f"{',' + fades.rstrip(',') if fades else ''}[{label}]"
    )


# Where a line's baseline sits below the middle of its line, in font sizes: capitals
# (about 0.7 of the size tall) are centred on the line.
BASELINE_BELOW_MIDDLE = Fraction(35, 100)
LINE_PITCH = Fraction(125, 100)


def _ffmpeg_color(color: str) -> str:
    return "0x" + color.lstrip("#")


def text_chain(
    *,
    lines: list[str | None],
    font_file: str,
    size: Fraction,
    color: str,
    background: str | None,
    x: Fraction,
    y: Fraction,
    align: str,
    start: int,
    end: int,
    fade_in: Fraction,
    fade_out: Fraction,
    rate: Fraction,
    width: int,
    height: int,
) -> str:
    """drawtext filters (joined by commas) drawing one text block, a line each: `lines` are
    the names of files holding each line (None for an empty line), next to the graph. The
    block is centred vertically on `y`; lines are anchored at `x` by `align`. Shown on the
    chunk's frames `start` … `end - 1` (counted from the chunk's first), fading by opacity."""
    count = len(lines)
    pitch = size * LINE_PITCH
    left = x * width
    anchor = {"left": "", "center": "-text_w/2", "right": "-text_w"}[align]
    alpha_terms = ["1"]
    if fade_in:
        alpha_terms.append(f"(n-({start}))/{float(fade_in * rate):.6f}")
    if fade_out:
        alpha_terms.append(f"({end}-n)/{float(fade_out * rate):.6f}")
    alpha = "1"
    for term in alpha_terms[1:]:
        alpha = f"min({alpha},{term})"
    alpha = f"clip({alpha},0,1)"
    box = (
        f":box=1:boxcolor={_ffmpeg_color(background)}:boxborderw={max(1, round(size / 4))}"
        if background
        else ""
    )
    filters = []
    for index, name in enumerate(lines):
        if name is None:
            continue
        middle = y * height + (index - Fraction(count - 1, 2)) * pitch
        baseline = middle + size * BASELINE_BELOW_MIDDLE
        filters.append(
            f"drawtext=fontfile={font_file}:textfile={name}:expansion=none:"
            f"fontsize={float(size):.2f}:fontcolor={_ffmpeg_color(color)}{box}:"
            f"x='{float(left):.2f}{anchor}':y='{float(baseline):.2f}-ascent':"
            f"alpha='{alpha}':enable='between(n,{max(0, start)},{end - 1})'"
        )
    return ",".join(filters)


def still_chain(
    *,
    input_index: int,
    label: str,
    frames: int,
    width: int,
    height: int,
    rate: Fraction,
    fit: str = "fit",
    fades: str = "",
) -> str:
    """A still image's one picture framed once, then repeated for `frames` output frames on
    the output frame grid."""
    return (
        f"[{input_index}:v]trim=end_frame=1,"
        f"{framing_chain(fit=fit, width=width, height=height, label=label)},"
        f"loop=loop={max(0, frames - 1)}:size=1:start=0,"
        # `fps` changes no frame here: it tells the encoder the stream's rate (an image
        # input's own 25 fps would otherwise decide how many frames it keeps).
        f"settb=1/{rate_text(rate)},setpts=N,fps=fps={rate_text(rate)},trim=end_frame={frames}"
        f"{',' + fades.rstrip(',') if fades else ''}[{label}]"
    )


def blend_chain(
    *, first: str, second: str, label: str, transition: str, frames: int, rate: Fraction
) -> str:
    """A transition window: `frames` frames going from all `first` to all `second` by the
    FFmpeg xfade `transition` (both inputs are the window's frames, from 0)."""
    seconds = Fraction(frames) / rate
    return (
        f"[{first}][{second}]xfade=transition={transition}:duration={float(seconds):.6f}:offset=0,"
        f"tpad=stop_mode=clone:stop=2,trim=end_frame={frames},setpts=PTS-STARTPTS[{label}]"
    )


def black_chain(*, label: str, frames: int, width: int, height: int, rate: Fraction) -> str:
    return (
        f"color=c=black:s={width}x{height}:r={rate_text(rate)},setsar=1,format=yuv420p,"
        f"trim=end_frame={frames}[{label}]"
    )


def sound_effects(
    *,
    skip: int,
    volume: Fraction = Fraction(1),
    fade_in: int = 0,
    fade_out: int = 0,
    fade_out_at: int = 0,
    ducks: tuple[tuple[int, int], ...] = (),
    duck_gain: float = 1.0,
    duck_ramp: int = 0,
    cross: tuple[int, ...] = (),
) -> str:
    """A segment's gain, fades and ducking on samples counted from the segment's first (the
    piece starts at its sample `skip`), so each chunk of a segment treats the same samples the
    same way. Ducking lowers the sound to `duck_gain` inside each [start, end) of `ducks`,
    ramping over `duck_ramp` samples from the start and from the end. Empty when there is
    nothing to do."""
    if volume == 1 and not fade_in and not fade_out and not ducks and not cross:
        return ""
    # FFmpeg takes no negative positions: count from before the earliest one if need be (the
    # incoming side of a transition starts before its segment).
    shift = max(0, -skip, -(cross[1] if cross else 0))
    chain = f"asetpts=(N+{skip + shift})/SR/TB,"
    if volume != 1:
        chain += f"volume={float(volume):.6f}:precision=double,"
    if fade_in:
        chain += f"afade=t=in:ss={shift}:ns={fade_in}:curve=tri,"
    if fade_out:
        chain += f"afade=t=out:ss={fade_out_at + shift}:ns={fade_out}:curve=tri,"
    if cross:
        # A transition: the outgoing sound fades out, the incoming in, over its window.
        direction, at, length = cross
        kind = "in" if direction > 0 else "out"
        chain += f"afade=t={kind}:ss={at + shift}:ns={length}:curve=tri,"
    if ducks:
        ramp = max(1, duck_ramp) / SAMPLE_RATE
        depth = "+".join(
            f"clip((t-{(a + shift) / SAMPLE_RATE:.6f})/{ramp:.6f},0,1)"
            f"-clip((t-{(b + shift) / SAMPLE_RATE:.6f})/{ramp:.6f},0,1)"
            for a, b in ducks
        )
        gain = f"(1-{1 - duck_gain:.6f}*min(1,{depth}))"
        chain += f"aeval=exprs='val(0)*{gain}|val(1)*{gain}':c=same,"
    return chain + "asetpts=N/SR/TB,"


def sound_chain(
    *, input_index: int, label: str, drop: int, samples: int, delay: int = 0, effects: str = ""
) -> str:
    """Samples `drop` … `drop + samples` of the input's sound at 48 kHz stereo; `delay` places
    them that many samples into the chunk (for sound mixed on top); `effects` is
    `sound_effects` text."""
    place = f",adelay=delays={delay}S:all=1" if delay else ""
    return (
        f"[{input_index}:a]asetpts=PTS-STARTPTS,{AUDIO_FORMAT},"
        f"atrim=start_sample={drop},asetpts=PTS-STARTPTS,"
        f"apad,atrim=end_sample={samples}{',' + effects.rstrip(',') if effects else ''}"
        f"{place}[{label}]"
    )


def silence_chain(*, label: str, samples: int) -> str:
    return (
        f"anullsrc=r={SAMPLE_RATE}:cl=stereo,atrim=end_sample={samples},"
        f"asetpts=PTS-STARTPTS[{label}]"
    )


def concat_chain(labels: list[str], *, video: bool, out: str) -> str:
    joined = "".join(f"[{label}]" for label in labels)
    kind = "v=1:a=0" if video else "v=0:a=1"
    return f"{joined}concat=n={len(labels)}:{kind}[{out}]"


def mix_chain(labels: list[str], *, out: str) -> str:
    """The first input with the others added on top, sample for sample (no normalising)."""
    joined = "".join(f"[{label}]" for label in labels)
    return (
        f"{joined}amix=inputs={len(labels)}:duration=first:dropout_transition=0:normalize=0[{out}]"
    )


def sound_end(*, label: str, samples: int) -> str:
    """The one format every sound output ends on, exactly `samples` long. It also lets FFmpeg
    rebuild the graph when a decoder changes its channel layout mid-stream (AAC mono in MP4
    does)."""
    return f"{AUDIO_FORMAT},apad,atrim=end_sample={samples}[{label}]"


def gain_chain(*, gain_db: float | None, limit: float | None) -> str:
    """Loudness pass 2 on the timeline's sound: one constant gain, and a true-peak limiter at
    four times the sample rate (where true peaks are measured) when the gain alone would push
    peaks over the ceiling. Empty when the sound is left alone (silence)."""
    if gain_db is None:
        return ""
    chain = f"volume={gain_db:.2f}dB:precision=double,"
    if limit is not None:
        chain += (
            f"aresample={4 * SAMPLE_RATE},"
            f"alimiter=limit={limit:.4f}:attack=1:release=50:level=false:latency=true,"
        )
    return chain
