"""Loudness of an export: the target a user may ask for, and two-pass normalisation (EBU R128)
of the whole timeline's sound.

Pass 1 measures the joined sound of all chunks with `ebur128` (integrated loudness, its
gating threshold, loudness range, true peak). Pass 2 is what loudnorm's `linear=true` mode
does with those values: one constant gain, target − measured, when it keeps the true peak
under the ceiling. We apply that gain with `volume` (loudnorm would also resample to 192 kHz
for nothing). When the gain would push peaks over the ceiling, loudnorm's dynamic mode misses
the target by several LU on short or peaky audio; a true-peak limiter after the same gain keeps
both promises for real material. Both passes see the timeline as one stream, so chunk
boundaries change nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from common.errors import ServiceError
from projects.models import Project

LOUDNESS_TARGETS = (-14.0, -16.0)
# Whole-timeline loudness is only measured above this; quieter means silence, left alone.
SILENCE_LUFS = -70.0
# AAC and Opus overshoot true peak a little when encoding; aim below the promised ceiling.
CODEC_TRUE_PEAK_HEADROOM = 0.5


def loudness_target(project: Project, requested: float | None) -> float:
    """The target of an export request: asked for, else the project's setting, else the
    server's default; a ServiceError for anything else."""
    if requested is not None:
        target = float(requested)
    else:
        stored = (project.settings or {}).get("loudness_target")
        target = float(stored) if stored is not None else settings.LOUDNESS_TARGET_LUFS
    if target not in (*LOUDNESS_TARGETS, settings.LOUDNESS_TARGET_LUFS):
        raise ServiceError(
            f"The loudness target must be one of {', '.join(f'{t:g}' for t in LOUDNESS_TARGETS)}"
            " LUFS.",
            {"field": "loudness_target", "allowed": list(LOUDNESS_TARGETS)},
        )
    return target


@dataclass(frozen=True)
class Loudness:
    """The target, then pass 1's measurement, and what pass 2 does with it."""

    target_i: float
    true_peak: float
    measured: dict[str, float] | None = None

    @property
    def skip(self) -> bool:
        """Silence (or near silence) is left alone: no gain could make it reach the target."""
        return self.measured is not None and not (
            self.measured["input_i"] > SILENCE_LUFS and math.isfinite(self.measured["input_tp"])
        )

    @property
    def ceiling(self) -> float:
        return self.true_peak - CODEC_TRUE_PEAK_HEADROOM

    @property
    def gain(self) -> float:
        assert self.measured is not None
        return self.target_i - self.measured["input_i"]

    @property
    def linear(self) -> bool:
        return self.measured is not None and self.measured["input_tp"] + self.gain <= self.ceiling

    @property
    def gain_db(self) -> float | None:
        """Pass 2's gain, None when the sound is left alone."""
        return None if self.measured is None or self.skip else self.gain

    @property
    def limit(self) -> float | None:
        """The limiter's ceiling (linear amplitude) when one gain would push peaks over it.
        Sparse peaks carry little energy, so the integrated loudness stays on target."""
        if self.gain_db is None or self.linear:
            return None
        return 10 ** (self.ceiling / 20)

    @property
    def mode(self) -> str:
        return "none" if self.gain_db is None else "linear" if self.linear else "dynamic"

    def report(self) -> dict[str, Any]:
        """What an export's output_data says about its loudness."""
        return {
            "target_lufs": self.target_i,
            "true_peak_ceiling_dbtp": self.true_peak,
            "measured_lufs": (self.measured or {}).get("input_i"),
            "normalized": self.gain_db is not None,
            "mode": self.mode,
        }
