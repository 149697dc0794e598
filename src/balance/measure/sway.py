"""Sway metrics of one uniformly sampled trace (a body point's horizontal position over a stance).
Path length, velocity, RMS, range, prediction-ellipse area and spectral frequency, each to a named convention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import signal, stats

FloatArray = NDArray[np.float64]

CONVENTIONS: dict[str, str] = {
    "path_length": "sum of the Euclidean distances between consecutive samples over all axes given.",
    "mean_velocity": "path length / (N / fs), the Santos & Duarte 2016 (PeerJ 4:e2648) BDS convention; "
    "some libraries divide by (N - 1) / fs instead.",
    "rms": "root mean square about the mean, per axis, population form (divide by N); Prieto et al. 1996.",
    "rms_resultant": "sqrt(mean over samples of the squared distance from the mean point), population form; "
    "Prieto et al. 1996.",
    "range": "max - min per axis.",
    "ellipse_area_95": "area of the 95 % prediction ellipse, pi * F(0.95; 2, N-2) * 2(N-1)(N+1) / (N(N-2)) * "
    "sqrt(det S) with S the sample covariance (N - 1), as in Santos & Duarte 2016 and Schubert & Kirchner "
    "2014 (Gait Posture 40:87); not the chi-square confidence ellipse.",
    "mean_frequency_hz": "spectral mean power frequency: Welch PSD (Hann, nperseg = N/2, noverlap = N/4, "
    "nfft = N/2, constant detrend), per axis integral(f P) / integral(P) by trapezoid over 0 to fs/2, axes "
    "combined weighted by their total power (sum of P times the bin width), as in Santos & Duarte 2016; "
    "not Prieto's time-domain mean frequency.",
    "band_power_fraction": "share of the Welch PSD (same settings as mean_frequency_hz) summed over bins "
    "with lo <= f < hi, out of the sum over all bins.",
}


def _trace(xy: np.ndarray) -> FloatArray:
    """The trace as an (N, k) float array, k in {1, 2}, or a ValueError saying what is wrong with it."""
    a = np.asarray(xy, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, np.newaxis]
    if a.ndim != 2 or a.shape[1] not in (1, 2):
        raise ValueError(f"trace must have shape (N,), (N, 1) or (N, 2); got {np.shape(xy)}")
    if a.shape[0] < 3:
        raise ValueError(f"trace needs at least 3 samples; got {a.shape[0]}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"trace has {int(np.sum(~np.isfinite(a)))} non-finite values (NaN or inf)")
    return a


def _check_fs(fs: float) -> None:
    if not (math.isfinite(fs) and fs > 0):
        raise ValueError(f"sampling rate fs must be a finite positive number of Hz; got {fs}")


def path_length(xy: np.ndarray) -> float:
    """Total distance travelled by the trace, in its length unit."""
    a = _trace(xy)
    return float(np.sum(np.linalg.norm(np.diff(a, axis=0), axis=1)))


def mean_velocity(xy: np.ndarray, fs: float) -> float:
    """Path length / (N / fs), per unit time; N / fs is the BDS duration (Santos & Duarte 2016)."""
    _check_fs(fs)
    a = _trace(xy)
    return path_length(a) / (a.shape[0] / fs)


def rms(xy: np.ndarray) -> tuple[float, ...]:
    """Root mean square about the mean of each axis (Prieto et al. 1996), population form."""
    a = _trace(xy)
    return tuple(float(v) for v in np.sqrt(np.mean((a - a.mean(axis=0)) ** 2, axis=0)))


def resultant_rms(xy: np.ndarray) -> float:
    """RMS distance from the mean point over all axes (Prieto et al. 1996), population form."""
    a = _trace(xy)
    return float(np.sqrt(np.mean(np.sum((a - a.mean(axis=0)) ** 2, axis=1))))


def axis_range(xy: np.ndarray) -> tuple[float, ...]:
    """Max - min of each axis."""
    a = _trace(xy)
    return tuple(float(v) for v in np.ptp(a, axis=0))


def prediction_ellipse_area(xy: np.ndarray, level: float = 0.95) -> float:
    """Area of the ellipse expected to hold a new sample with probability `level`, in unit^2.

    Prediction, not confidence, ellipse with the F quantile (Schubert & Kirchner 2014, Gait Posture 40:87):
    pi * F(level; 2, n-2) * 2(n-1)(n+1) / (n(n-2)) * sqrt(det S), S the covariance with n - 1 in the
    denominator; this is the BDS `COParea` (Santos & Duarte 2016).
    """
    a = _trace(xy)
    if a.shape[1] != 2:
        raise ValueError(f"prediction ellipse needs a trace with 2 axes; got {a.shape[1]}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1; got {level}")
    n = a.shape[0]
    cov = np.cov(a, rowvar=False, ddof=1)
    # Rounding can push the determinant of a collinear trace a hair below zero; its true area is 0.
    det = max(float(np.linalg.det(cov)), 0.0)
    quantile = float(stats.f.ppf(level, 2, n - 2))
    return math.pi * quantile * 2 * (n - 1) * (n + 1) / (n * (n - 2)) * math.sqrt(det)


def welch_spectrum(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """One-sided Welch PSD (unit^2/Hz) of a single axis with the BDS settings (Santos & Duarte 2016).

    Hann window, nperseg = N/2, noverlap = N/4, nfft = N/2, constant detrend: two-to-three segments trade
    variance for a bin width of 2 fs / N, fine enough for sway whose power lies below ~1 Hz.
    """
    _check_fs(fs)
    a = _trace(x)
    if a.shape[1] != 1:
        raise ValueError(f"welch_spectrum takes one axis; got {a.shape[1]}")
    n = a.shape[0]
    if n < 4:
        raise ValueError(f"a spectrum needs at least 4 samples (segments of 2); got {n}")
    freqs, psd = signal.welch(
        a[:, 0],
        fs=fs,
        window="hann",
        nperseg=n // 2,
        noverlap=n // 4,
        nfft=n // 2,
        detrend="constant",
        scaling="density",
    )
    return freqs, psd


def mean_power_frequency(xy: np.ndarray, fs: float) -> float:
    """Spectral mean frequency in Hz, the BDS `COPmfreq` recipe (Santos & Duarte 2016).

    Per axis, integral(f P) / integral(P) by trapezoid; axes are then averaged weighted by their total
    power taken as the plain sum of P times the bin width. That sum (not the trapezoid) is what reproduces the
    published BDS values: with trapezoid weights they are off by up to 5e-3 relative.
    """
    _check_fs(fs)
    a = _trace(xy)
    weighted = 0.0
    total = 0.0
    for k in range(a.shape[1]):
        freqs, psd = welch_spectrum(a[:, k], fs)
        area = float(np.trapezoid(psd, freqs))
        if area <= 0:
            # A motionless axis has no mean frequency but carries no weight either.
            continue
        # Total power is sum(P) * bin width; the width is the same for every axis and cancels.
        power = float(np.sum(psd))
        weighted += power * float(np.trapezoid(freqs * psd, freqs)) / area
        total += power
    if total <= 0:
        raise ValueError("trace does not move, so it has no mean frequency")
    return weighted / total


def band_power_fraction(x: np.ndarray, fs: float, lo: float, hi: float) -> float:
    """Share of one axis's Welch power in lo <= f < hi Hz (hi may be inf), e.g. slow drift vs fast wobble.

    Bins are summed, not integrated, so the fractions of adjacent bands add up to exactly 1.
    """
    if not (0 <= lo < hi):
        raise ValueError(f"band needs 0 <= lo < hi; got lo={lo}, hi={hi}")
    freqs, psd = welch_spectrum(x, fs)
    total = float(np.sum(psd))
    if total <= 0:
        raise ValueError("trace does not move, so it has no power to split into bands")
    return float(np.sum(psd[(freqs >= lo) & (freqs < hi)])) / total


@dataclass(frozen=True)
class TraceMetrics:
    """All sway metrics of one trace, with the unit needed to read them."""

    name: str
    axes: tuple[str, ...]
    unit: str
    n: int
    fs: float
    duration_s: float
    path_length: float
    mean_velocity: float
    rms: tuple[float, ...]
    rms_resultant: float
    range: tuple[float, ...]
    ellipse_area_95: float | None
    mean_frequency_hz: float | None  # None when the trace does not move (no spectrum to weigh)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain floats and lists, with a `units` entry naming the unit of each metric."""
        u = self.unit
        return {
            "name": self.name,
            "axes": list(self.axes),
            "unit": u,
            "n": self.n,
            "fs": self.fs,
            "duration_s": self.duration_s,
            "path_length": self.path_length,
            "mean_velocity": self.mean_velocity,
            "rms": list(self.rms),
            "rms_resultant": self.rms_resultant,
            "range": list(self.range),
            "ellipse_area_95": self.ellipse_area_95,
            "mean_frequency_hz": self.mean_frequency_hz,
            "units": {
                "duration_s": "s",
                "path_length": u,
                "mean_velocity": f"{u}/s",
                "rms": u,
                "rms_resultant": u,
                "range": u,
                "ellipse_area_95": f"{u}^2",
                "mean_frequency_hz": "Hz",
            },
        }


def _moves(a: FloatArray) -> bool:
    """False for a trace that is constant to rounding (a perfectly still point has no mean frequency)."""
    return bool(np.ptp(a, axis=0).max() > 1e-9 * max(1.0, float(np.abs(a).max())))


def trace_metrics(name: str, xy: np.ndarray, fs: float, axes: tuple[str, ...], unit: str) -> TraceMetrics:
    """Every metric of one trace; `axes` names its columns in order, e.g. ("ml", "ap")."""
    _check_fs(fs)
    a = _trace(xy)
    n, k = a.shape
    if len(axes) != k:
        raise ValueError(f"trace has {k} axes but {len(axes)} axis names were given: {axes}")
    return TraceMetrics(
        name=name,
        axes=tuple(axes),
        unit=unit,
        n=n,
        fs=float(fs),
        duration_s=n / fs,
        path_length=path_length(a),
        mean_velocity=mean_velocity(a, fs),
        rms=rms(a),
        rms_resultant=resultant_rms(a),
        range=axis_range(a),
        ellipse_area_95=prediction_ellipse_area(a) if k == 2 else None,
        mean_frequency_hz=mean_power_frequency(a, fs) if _moves(a) else None,
    )
