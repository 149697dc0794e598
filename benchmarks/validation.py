"""Compare the sway the pipeline measures with a sway injected into a clip (the synthetic validation clips).

Used by benchmarks/accuracy.py and the validation tests; the truth format is sample_videos/synthetic/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from balance.measure.body import centre_of_mass, hip_centre, shoulder_centre
from balance.measure.signals import resample
from balance.measure.sway import mean_velocity
from balance.pipeline import Analysis

POINTS = {"centre_of_mass": centre_of_mass, "hip_centre": hip_centre, "shoulder_centre": shoulder_centre}


@dataclass(frozen=True)
class Agreement:
    amplitude_ratio: float  # SD measured / SD injected
    rms_error: float  # relative
    velocity_error: float  # relative, mean velocity
    r: float  # correlation at zero lag
    r_best: float
    lag_frames: int


def injected_trace(truth: dict, point: str, grid_t: np.ndarray, fs: float) -> np.ndarray:
    """Sideways position (px) of a body point relative to the pivot, from the injected angle series."""
    p0 = POINTS[point](np.array(truth["landmarks_theta0_px"])[None])[0] - np.array(truth["pivot_px"])
    theta = np.radians(truth["theta_deg"])
    x = np.cos(theta) * p0[0] - np.sin(theta) * p0[1]
    _, on_grid = resample(np.arange(len(theta)) / truth["fps"], x, fs)
    return on_grid[: len(grid_t)]


def agreement(measured: np.ndarray, injected: np.ndarray, fs: float) -> Agreement:
    m, t = measured - measured.mean(), injected - injected.mean()
    lags = range(-6, 7)
    rs = [float(np.corrcoef(np.roll(t, k)[10:-10], m[10:-10])[0, 1]) for k in lags]
    best = int(np.argmax(rs))
    rms_t = float(np.sqrt(np.mean(t**2)))
    return Agreement(
        amplitude_ratio=float(m.std() / t.std()),
        rms_error=float(np.sqrt(np.mean(m**2)) / rms_t - 1),
        velocity_error=mean_velocity(m, fs) / mean_velocity(t, fs) - 1,
        r=float(np.corrcoef(m, t)[0, 1]),
        r_best=rs[best],
        lag_frames=list(lags)[best],
    )


def compare(analysis: Analysis, truth: dict) -> dict[str, Agreement]:
    sway = analysis.trials[0]
    out = {}
    for point in POINTS:
        measured = sway.series[point]
        injected = injected_trace(truth, point, sway.grid, sway.fs) / sway.scale.image_per_unit
        n = min(len(measured), len(injected))
        out[point] = agreement(measured[:n], injected[:n], sway.fs)
    return out
