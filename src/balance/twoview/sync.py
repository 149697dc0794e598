"""The time offset between two views of one movement, from the movement itself.

Up is up in every camera: the hips and shoulders rise and fall together in both pictures, and the free foot's
lift and landing are the same events whichever way the camera looks. Each signal is scaled by the clip's leg
length (the views are at different distances), put on one time grid at the faster clip's rate, and the two
clips' signals are cross-correlated (Pearson r over the samples both cover, at every lag that keeps enough of
them overlapping). The lag of the highest mean r, refined by a parabola through the peak and its neighbours,
is the offset; each signal's own refined peak near it gives the spread that is its uncertainty.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from balance.measure.body import hip_centre, leg_length, shoulder_centre
from balance.measure.signals import fill_gaps
from balance.pose import landmarks as lm
from balance.pose.estimate import PoseTrack

# The views must overlap for at least this share of the shorter clip (and MIN_OVERLAP_S) at the offset found:
# two phones started by hand a few seconds apart overlap for most of a 30-60 s hold.
MIN_OVERLAP_SHARE = 0.5
MIN_OVERLAP_S = 0.5
# The same movement seen by two cameras 65 degrees apart correlates at r 0.95 (Pose2Sim cam03 and cam04,
# benchmarks/two_view.py); another person's one-leg clip (tfjs pose_1 against either) reaches 0.62-0.63 at its
# best lag, since a short clip leaves many lags to choose from.
MIN_SYNC_R = 0.8
# A signal must move (SD over the clip, leg lengths) to carry timing: 0.5 % of a leg is ~4 mm, MediaPipe's
# frame-to-frame jitter on a still person.
MIN_SIGNAL_SD = 0.005
# The parabola's vertex is trusted to a quarter of a sample of the grid: below that the answer depends on how
# the landmarks were low-passed more than on the timing.
MIN_SD_SAMPLES = 0.25
SIGNALS = ("hips_height", "shoulders_height", "free_foot_height")


@dataclass(frozen=True)
class Sync:
    """How the side clip's clock maps onto the front clip's: t_front = t_side + offset_s."""

    offset_s: float
    offset_sd_s: float
    peak_r: float  # mean Pearson r of the shared signals at the offset
    grid_hz: float  # rate of the common grid the correlation ran on
    per_signal_s: dict[str, float]  # each signal's own refined offset
    overlap_s: float  # how long both clips run at this offset

    def to_dict(self) -> dict[str, Any]:
        return {
            "offset_s": round(self.offset_s, 4),
            "offset_sd_s": round(self.offset_sd_s, 4),
            "peak_r": round(self.peak_r, 3),
            "grid_hz": round(self.grid_hz, 3),
            "per_signal_s": {k: round(v, 4) for k, v in self.per_signal_s.items()},
            "overlap_s": round(self.overlap_s, 3),
            "method": (
                "cross-correlation of the hips', shoulders' and free foot's vertical motion (leg lengths) on a "
                "common grid, parabolic refinement of the peak; offset_sd_s is the spread of the signals' own "
                f"peaks (SD), at least {MIN_SD_SAMPLES} of a grid sample"
            ),
            "convention": "t_front = t_side + offset_s",
            "units": {"offset_s": "s", "offset_sd_s": "s", "peak_r": "Pearson r", "overlap_s": "s"},
        }


def shared_signals(track: PoseTrack) -> dict[str, np.ndarray]:
    """Per frame, the heights every view shares, leg lengths above the lower foot, NaN where not seen.

    From MediaPipe's world landmarks (metres, y down), not the picture: in the picture a foot or a body moving
    towards a raised camera moves down, so image heights mix the depth each camera sees in differently (on the
    Pose2Sim views the front and rear cameras' image heights correlate at r -0.8 to +0.8, their world heights at
    up to 0.97; benchmarks/two_view.py).
    """
    w = track.world
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames with no person stay NaN
        scale = float(np.nanmedian(np.stack([leg_length(w, s) for s in lm.SIDES])))
        feet = np.stack([np.max(w[:, list(lm.FOOT[s]), 1], axis=1) for s in lm.SIDES])
        # The lower foot carries the weight and the higher one is free, whichever label each carries, so a view
        # whose left and right labels are swapped gives the same signals.
        low, high = np.nanmax(feet, axis=0), np.nanmin(feet, axis=0)
    return {
        "hips_height": (low - hip_centre(w)[:, 1]) / scale,
        "shoulders_height": (low - shoulder_centre(w)[:, 1]) / scale,
        "free_foot_height": (low - high) / scale,
    }


def _on_grid(track: PoseTrack, fs: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    t = track.t - track.t[0]
    grid = np.arange(int(math.floor(t[-1] * fs + 1e-9)) + 1) / fs
    out = {}
    for name, x in shared_signals(track).items():
        valid = np.isfinite(x)
        filled = fill_gaps(t, x, valid)
        ok = np.isfinite(filled)
        y = np.full(len(grid), np.nan)
        if ok.sum() >= 2:
            y = np.interp(grid, t[ok], filled[ok])
            # Grid points inside an unbridged gap stay unknown.
            idx = np.clip(np.searchsorted(t, grid), 1, len(t) - 1)
            near = np.where(np.abs(t[idx] - grid) < np.abs(t[idx - 1] - grid), idx, idx - 1)
            y[~ok[near]] = np.nan
        out[name] = y
    return grid, out


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return math.nan
    x, y = a[ok] - a[ok].mean(), b[ok] - b[ok].mean()
    den = math.sqrt(float(np.sum(x * x) * np.sum(y * y)))
    return float(np.sum(x * y) / den) if den > 0 else math.nan


def _curve(front: np.ndarray, side: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """r at each lag k (in samples): front[i] against side[i - k], i.e. t_front = t_side + k / fs."""
    out = np.full(len(lags), np.nan)
    n_f, n_s = len(front), len(side)
    for j, k in enumerate(lags):
        i0, i1 = max(0, k), min(n_f, n_s + k)
        if i1 - i0 >= 3:
            out[j] = _corr(front[i0:i1], side[i0 - k : i1 - k])
    return out


def _vertex(curve: np.ndarray, j: int) -> float:
    """Sub-sample position of the peak at index j: the vertex of the parabola through j - 1, j, j + 1."""
    if j <= 0 or j >= len(curve) - 1 or not np.all(np.isfinite(curve[j - 1 : j + 2])):
        return float(j)
    a, b, c = curve[j - 1], curve[j], curve[j + 1]
    den = a - 2 * b + c
    return float(j) if den >= 0 else float(j + 0.5 * (a - c) / den)


class NoSyncError(ValueError):
    """The two clips' shared signals do not match at any offset (different movements, or no overlap)."""

    def __init__(self, message: str, peak_r: float) -> None:
        super().__init__(message)
        self.peak_r = peak_r


def synchronise(front: PoseTrack, side: PoseTrack) -> Sync:
    """The offset that best lines up the side clip's shared signals with the front clip's (NoSyncError if none)."""
    fs = max(front.fps, side.fps)
    _, f_sig = _on_grid(front, fs)
    _, s_sig = _on_grid(side, fs)
    names = [n for n in SIGNALS if np.nanstd(f_sig[n]) > MIN_SIGNAL_SD and np.nanstd(s_sig[n]) > MIN_SIGNAL_SD]
    if not names:
        raise NoSyncError("neither clip shows the body moving up or down: nothing to line the clips up by", 0.0)
    n_f, n_s = len(f_sig[names[0]]), len(s_sig[names[0]])
    need = max(MIN_OVERLAP_S * fs, MIN_OVERLAP_SHARE * min(n_f, n_s))
    # Every lag that keeps `need` samples of both clips overlapping.
    lags = np.arange(-(n_s - math.ceil(need)), n_f - math.ceil(need) + 1)
    curves = {n: _curve(f_sig[n], s_sig[n], lags) for n in names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(np.stack(list(curves.values())), axis=0)
    if not np.isfinite(mean).any():
        raise NoSyncError("the clips never show the person at the same time", 0.0)
    j = int(np.nanargmax(mean))
    peak = float(mean[j])
    if peak < MIN_SYNC_R:
        raise NoSyncError(f"their movements match at best at r = {peak:.2f}, {MIN_SYNC_R:g} needed", peak)
    best = lags[0] + _vertex(mean, j)
    # t = 0 of each grid is that track's first analysed frame.
    start = float(front.t[0]) - float(side.t[0])
    per = {}
    window = max(1, round(0.25 * fs))  # each signal's own peak within a quarter second of the joint one
    for n, c in curves.items():
        lo, hi = max(0, j - window), min(len(c), j + window + 1)
        if np.isfinite(c[lo:hi]).any():
            k = lo + int(np.nanargmax(c[lo:hi]))
            per[n] = (lags[0] + _vertex(c, k)) / fs + start
    spread = float(np.std(list(per.values()), ddof=1)) if len(per) > 1 else 0.0
    k0 = round(best)
    overlap = (min(n_f, n_s + k0) - max(0, k0)) / fs
    return Sync(best / fs + start, max(spread, MIN_SD_SAMPLES / fs), peak, fs, per, overlap)
