"""The pose models by name and the analysis's defaults, apart from the model code so that a front end can
show them (`--help`) without loading MediaPipe."""

from __future__ import annotations

import math

MODEL_NAMES = ("lite", "full", "heavy")
DEFAULT_MODEL = "full"
# Sway lives below ~3 Hz and the signals are low-passed at 5 Hz (measure/signals.py): 15 frames a second samples
# it three times faster than the filter's cut-off. A 30 fps clip analysed at 15 fps (one frame in 2) halves the
# pose model's work, the bulk of a run, with the same judgements on the labelled real clips and the injected sway
# recovered as at 30 fps (amplitude within 2 %, velocity within 3 %; benchmarks/README.md, "The analysis rate").
DEFAULT_MAX_FPS = 15.0
# The least rate an analysis may use: a sampled signal carries frequencies below half its rate (Nyquist), and a
# Butterworth cut-off at 5/6 of Nyquist still has room to roll off: 2.4 times the 5 Hz low-pass.
MIN_ANALYSIS_FPS = 12.0
# Frame rates in headers are rounded (23.976 for 24000/1001): a rate within 1 % of the minimum passes.
RATE_TOLERANCE = 0.01
_RATE_EPS = 1e-6


def analysed_fps(max_fps: float | None, clip_fps: float) -> float:
    """The rate a clip is analysed at: the reader keeps every k-th frame, k the least that stays under max_fps."""
    if not max_fps or not math.isfinite(max_fps) or max_fps < 0 or clip_fps <= max_fps:
        return clip_fps  # no limit, or one the analysis's options refuse
    return clip_fps / math.ceil(clip_fps / max_fps - _RATE_EPS)


def rate_limit(max_fps: float | None, clip_fps: float) -> float | None:
    """The limit a clip's frames are thinned by: `max_fps`, except the default on a clip that it would thin below
    MIN_ANALYSIS_FPS (a 20 fps clip, one frame in 2: 10 a second), which is analysed at its own rate instead (a
    limit the user gives is checked, and refused, by the analysis's options)."""
    rate = analysed_fps(max_fps, clip_fps)
    too_thin = rate < clip_fps and rate < MIN_ANALYSIS_FPS * (1 - RATE_TOLERANCE)
    return None if max_fps == DEFAULT_MAX_FPS and too_thin else max_fps
