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
    w, h = width, height
    return (
        f"scale=w='min({w},2*trunc({h}*iw*sar/ih/2))':h='min({h},2*trunc({w}*ih/(iw*sar)/2))',"
        f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p"
    )


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
) -> str:
    """One segment's frames. The input keeps its own timestamps (`-copyts`); shifting them by
    `shift_us` puts the piece's first frame just after `start_seconds`, and `fps` starting there
    picks, for every output frame, the source frame on screen at its time: the same rule
    in every chunk, whatever the seek point was. `tpad` repeats the last frame should the file
    end a frame early."""
    return (
        f"[{input_index}:v]settb=AVTB,setpts=PTS-{shift_us},"
        f"fps=fps={rate_text(rate)}:start_time={float(start_seconds):.9f},"
        f"{fit_chain(width, height)},"
        f"tpad=stop_mode=clone:stop=2,trim=end_frame={frames},setpts=PTS-STARTPTS[{label}]"
    )


def black_chain(*, label: str, frames: int, width: int, height: int, rate: Fraction) -> str:
    return (
        f"color=c=black:s={width}x{height}:r={rate_text(rate)},setsar=1,format=yuv420p,"
        f"trim=end_frame={frames}[{label}]"
    )


def sound_chain(*, input_index: int, label: str, drop: int, samples: int, delay: int = 0) -> str:
    """Samples `drop` … `drop + samples` of the input's sound at 48 kHz stereo; `delay` places
    them that many samples into the chunk (for sound mixed on top)."""
    place = f",adelay=delays={delay}S:all=1" if delay else ""
    return (
        f"[{input_index}:a]asetpts=PTS-STARTPTS,{AUDIO_FORMAT},"
        f"atrim=start_sample={drop},asetpts=PTS-STARTPTS,"
        f"apad,atrim=end_sample={samples}{place}[{label}]"
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
