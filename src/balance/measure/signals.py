"""Clean landmark time series: reject one-frame jumps, bridge short gaps, resample, zero-lag low-pass.

Pure functions of arrays; each works column-wise on (N,) or (N, k) signals.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import butter, sosfiltfilt

# Quiet-stance sway keeps nearly all its power below 2-3 Hz (Prieto et al. 1996, IEEE TBME 43:956;
# Santos & Duarte 2016's single-subject spectra); above that a camera sees mostly landmark jitter.
# 5 Hz keeps the corrective 1-3 Hz "wobble" intact and removes jitter; fourth-order Butterworth run
# forwards and backwards (zero lag), as in Winter, Biomechanics and Motor Control of Human Movement (2009) §3.4.
LOWPASS_HZ = 5.0
LOWPASS_ORDER = 4
# MediaPipe's foot landmarks jump 20-50 px for single frames; a Hampel filter over +-3 frames with a
# 3-MAD threshold (Pearson et al. 2016, EURASIP J. Adv. Signal Process. 2016:87) replaces them by the
# local median and leaves real motion, which lasts longer than 3 frames, alone.
HAMPEL_HALF_WINDOW = 3
HAMPEL_N_SIGMAS = 3.0
# Gaps longer than this (landmark not visible) are not bridged; the caller reports the coverage.
MAX_GAP_S = 0.5


def _columns(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1)


def hampel(x: np.ndarray, half_window: int = HAMPEL_HALF_WINDOW, n_sigmas: float = HAMPEL_N_SIGMAS) -> np.ndarray:
    """Replace samples further than n_sigmas robust SDs from their window's median by that median.

    The robust SD is the median absolute deviation of each window about its own median (Pearson et al.
    2016), so a smooth fast sway, whose samples spread evenly around the median, is left intact.
    """
    cols = _columns(np.asarray(x, dtype=np.float64))
    padded = np.pad(cols, ((half_window, half_window), (0, 0)), mode="edge")
    windows = sliding_window_view(padded, 2 * half_window + 1, axis=0)  # (N, k, w)
    med = np.median(windows, axis=-1)
    # 1.4826 turns the median absolute deviation into a Gaussian SD estimate.
    mad = 1.4826 * np.median(np.abs(windows - med[..., None]), axis=-1)
    out = np.where(np.abs(cols - med) > n_sigmas * mad, med, cols)
    return out.reshape(np.shape(x))


def fill_gaps(t: np.ndarray, x: np.ndarray, valid: np.ndarray, max_gap_s: float = MAX_GAP_S) -> np.ndarray:
    """Linearly bridge invalid samples in gaps up to max_gap_s; longer gaps and the ends stay NaN."""
    cols = _columns(np.asarray(x, dtype=np.float64)).copy()
    valid = np.asarray(valid, dtype=bool) & np.all(np.isfinite(cols), axis=1)
    cols[~valid] = np.nan
    good = np.flatnonzero(valid)
    if len(good) < 2:
        return cols.reshape(np.shape(x))
    for a, b in zip(good[:-1], good[1:], strict=True):
        if b - a > 1 and t[b] - t[a] <= max_gap_s:
            w = ((t[a + 1 : b] - t[a]) / (t[b] - t[a]))[:, None]
            cols[a + 1 : b] = (1 - w) * cols[a] + w * cols[b]
    return cols.reshape(np.shape(x))


def resample(t: np.ndarray, x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation of x(t) onto a uniform grid of rate fs from t[0] to t[-1].

    Video timestamps jitter and skip (variable frame rate phones, dropped frames); the spectral and
    velocity formulas assume uniform sampling, so every trace is put on one grid first.
    """
    grid = t[0] + np.arange(int(np.floor((t[-1] - t[0]) * fs + 1e-9)) + 1) / fs
    cols = _columns(np.asarray(x, dtype=np.float64))
    out = np.column_stack([np.interp(grid, t, c) for c in cols.T])
    return grid, out.reshape((len(grid),) + np.shape(x)[1:])


def lowpass(x: np.ndarray, fs: float, cutoff_hz: float = LOWPASS_HZ, order: int = LOWPASS_ORDER) -> np.ndarray:
    """Zero-lag Butterworth low-pass (forward-backward, so the effective order is doubled)."""
    if cutoff_hz >= fs / 2:
        return np.asarray(x, dtype=np.float64).copy()
    sos = butter(order, cutoff_hz, btype="low", fs=fs, output="sos")
    n = len(x)
    # sosfiltfilt's default padding needs a few dozen samples; short traces get what they have.
    padlen = min(3 * (2 * len(sos) + 1), n - 1)
    return sosfiltfilt(sos, np.asarray(x, dtype=np.float64), axis=0, padlen=padlen)


def clean(t: np.ndarray, x: np.ndarray, valid: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray, float]:
    """The whole chain for one trace: Hampel, gap bridging, uniform resampling, low-pass.

    Returns (grid, filtered trace, coverage) where coverage is the share of frames that were valid.
    Samples in unbridged gaps are interpolated across for filtering; coverage says how many there were.
    """
    coverage = float(np.mean(valid)) if len(valid) else 0.0
    filled = fill_gaps(t, hampel(x), valid)
    cols = _columns(filled)
    ok = np.all(np.isfinite(cols), axis=1)
    if ok.sum() < 2:
        raise ValueError("fewer than two valid samples in the trace")
    grid, uniform = resample(t[ok], filled[ok], fs)
    return grid, lowpass(uniform, fs), coverage
