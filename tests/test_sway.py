"""Tests of balance.measure.sway against published force-plate values and signals with answers known by construction.
The oracle data live in ../shared/reference/cop beside the project root; tests needing them skip without it.
"""

from __future__ import annotations

import csv
import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from scipy import signal, stats

from balance.measure import sway

COP = Path(__file__).resolve().parents[2] / "shared" / "reference" / "cop"
BDS_TRIALS = [f"BDS{i:05d}" for i in range(1, 11)]
BDS_FS = 100.0
QUIJOUX_FS = 25.0


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path.name} missing: ../shared/reference/cop not found beside the project root")
    return path


@cache
def _bds_reference() -> dict[str, dict[str, float]]:
    with _need(COP / "bds" / "reference_values.tsv").open(newline="") as f:
        rows = csv.DictReader(f, delimiter="\t")
        return {r["Trial"]: {k: float(r[k]) for k in ("COParea", "COPvelo", "COPmfreq")} for r in rows}


@cache
def _bds_cop(trial: str) -> np.ndarray:
    """(N, 2) COP in cm, AP then ML, raw with the mean removed as the BDS authors did."""
    data = np.loadtxt(_need(COP / "bds" / f"{trial}.txt"), skiprows=1)
    cop = data[:, 7:9]
    return cop - cop.mean(axis=0)


@pytest.mark.parametrize("trial", BDS_TRIALS)
def test_bds_reference_values(trial: str) -> None:
    ref = _bds_reference()[trial]
    cop = _bds_cop(trial)
    assert sway.prediction_ellipse_area(cop) == pytest.approx(ref["COParea"], rel=1e-9)
    assert sway.mean_velocity(cop, BDS_FS) == pytest.approx(ref["COPvelo"], rel=1e-9)
    assert sway.mean_power_frequency(cop, BDS_FS) == pytest.approx(ref["COPmfreq"], rel=1e-9)


def test_bds_trace_metrics_agrees_with_the_parts() -> None:
    ref = _bds_reference()["BDS00007"]
    m = sway.trace_metrics("cop", _bds_cop("BDS00007"), BDS_FS, ("ap", "ml"), "cm")
    assert m.n == 6000
    assert m.duration_s == pytest.approx(60.0)
    assert m.ellipse_area_95 == pytest.approx(ref["COParea"], rel=1e-9)
    assert m.mean_velocity == pytest.approx(ref["COPvelo"], rel=1e-9)
    assert m.mean_frequency_hz == pytest.approx(ref["COPmfreq"], rel=1e-9)


def _swarii(t: np.ndarray, x: np.ndarray, fs_out: float, window: float) -> np.ndarray:
    """SWARII resampling (Audiffren et al. 2016) as in Quijoux's `stabilogram/swarii.py`: each output
    sample is the mean of the inputs within half a window, each weighted by its Voronoi cell clipped to it.
    """
    half = (window - 1e-6) / 2  # their code shrinks the window by 1e-6 so samples on its edge stay out
    out = []
    now = t[0]
    while now < t[-1]:
        idx = np.flatnonzero(np.abs(t - now) < half)
        left = np.concatenate([[max(t[0], now - half)], (t[idx[1:]] + t[idx[1:] - 1]) / 2])
        right = np.concatenate([(t[idx[:-1] + 1] + t[idx[:-1]]) / 2, [min(t[-1], now + half)]])
        w = right - left
        out.append(x[idx[0]] if len(idx) == 1 else (w[:, None] * x[idx]).sum(axis=0) / w.sum())
        now += 1 / fs_out  # accumulated, not multiplied, to land on the same instants as theirs
    return np.array(out)


@cache
def _quijoux() -> tuple[np.ndarray, dict[str, float]]:
    """Quijoux et al. 2021 example (ML, AP in cm at 25 Hz) after their preprocessing, and their values."""
    expected = json.loads(_need(COP / "quijoux_expected_features.json").read_text())
    plate = np.loadtxt(_need(COP / "quijoux_test.csv"), delimiter=",", skiprows=35)[4000:7000]
    fz, mx, my = plate[:, 5], plate[:, 6], plate[:, 7]
    cop = 100 * np.column_stack([my / fz, mx / fz])
    cop -= cop.mean(axis=0)
    t = np.arange(len(cop)) / 100.0
    # Their artefact purge drops the first and last samples and those before 0.1 s; it would also drop
    # jumps over 2 cm, and none occur here, so nothing else is dropped.
    assert np.abs(np.diff(cop, axis=0)).sum(axis=1).max() < 2
    keep = (np.arange(len(t)) > 0) & (np.arange(len(t)) < len(t) - 1) & (t >= 0.1)
    resampled = _swarii(t[keep], cop[keep], QUIJOUX_FS, window=0.08)
    b, a = signal.butter(4, 10 / (QUIJOUX_FS / 2), btype="lowpass")
    return signal.filtfilt(b, a, resampled, axis=0), expected


# Quijoux features left out because their definitions differ from ours:
# - confidence_ellipse_area: 2 pi F(0.95; 2, n-2) (n-1)/(n-2) sqrt(det M) with M the second moments about
#   zero, not about the mean (the filtered trace is no longer centred), and short of the prediction ellipse
#   by (n+1)/n (their pre-2022 formula); LFS and fractal_dimension inherit it.
# - mean_frequency: Prieto's time-domain mean velocity / (4 sqrt 2 mean distance), not spectral.
# - total_power, energy_content_*, power_frequency_*, etc.: periodogram bins, not Welch.
# - range_ML_AND_AP: the largest distance between any two points, not a per-axis range.
# - rms_*: about zero, not about the mean; tested through rms^2 + mean^2 instead.
@pytest.mark.parametrize(("key", "axis"), [("ML", 0), ("AP", 1), ("ML_AND_AP", None)])
def test_quijoux_mean_velocity(key: str, axis: int | None) -> None:
    cop, expected = _quijoux()
    trace = cop if axis is None else cop[:, axis]
    assert sway.mean_velocity(trace, QUIJOUX_FS) == pytest.approx(expected[f"mean_velocity_{key}"], rel=1e-9)
    # Their mean velocity is sway length * fs / N, so it pins our path length too.
    velocity = expected[f"mean_velocity_{key}"]
    assert sway.path_length(trace) == pytest.approx(velocity * len(cop) / QUIJOUX_FS, rel=1e-9)


def test_quijoux_range() -> None:
    cop, expected = _quijoux()
    ml, ap = sway.axis_range(cop)
    assert ml == pytest.approx(expected["range_ML"], rel=1e-9)
    assert ap == pytest.approx(expected["range_AP"], rel=1e-9)


def test_quijoux_rms_about_zero_is_ours_plus_the_offset() -> None:
    cop, expected = _quijoux()
    mean = cop.mean(axis=0)
    rms_ml, rms_ap = sway.rms(cop)
    assert math.hypot(rms_ml, mean[0]) == pytest.approx(expected["rms_ML"], rel=1e-9)
    assert math.hypot(rms_ap, mean[1]) == pytest.approx(expected["rms_AP"], rel=1e-9)
    radius = math.sqrt(sway.resultant_rms(cop) ** 2 + float(mean @ mean))
    assert radius == pytest.approx(expected["rms_Radius"], rel=1e-9)


def _circle(n: int, radius: float, periods: int = 1) -> np.ndarray:
    phase = 2 * np.pi * periods * np.arange(n) / n
    return radius * np.column_stack([np.cos(phase), np.sin(phase)])


def _tone(f0: float, fs: float, n: int, amplitude: float = 1.0) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * f0 * np.arange(n) / fs)


def test_straight_line_path_length_and_velocity() -> None:
    # 3-4-5 steps: 10 steps of length 0.5.
    line = np.column_stack([0.3 * np.arange(11), 0.4 * np.arange(11)])
    assert sway.path_length(line) == pytest.approx(5.0, rel=1e-12)
    assert sway.path_length(line[:, 0]) == pytest.approx(3.0, rel=1e-12)
    # N / fs, not (N - 1) / fs: 10 steps over 11 samples at 10 Hz give 5.0 / 1.1.
    assert sway.mean_velocity(line, 10.0) == pytest.approx(5.0 / 1.1, rel=1e-12)


def test_sine_rms_is_amplitude_over_root_two_about_the_mean() -> None:
    # 1 Hz at 100 Hz samples the crests, so the range is exactly 2 A too.
    x = 7.0 + _tone(1.0, 100.0, 1000, amplitude=3.0)
    (r,) = sway.rms(x)
    assert r == pytest.approx(3.0 / math.sqrt(2), rel=1e-12)
    assert sway.axis_range(x)[0] == pytest.approx(6.0, rel=1e-9)


def test_circle_rms_and_resultant_rms() -> None:
    xy = _circle(400, 2.0) + [5.0, -1.0]
    assert sway.rms(xy) == pytest.approx((2.0 / math.sqrt(2), 2.0 / math.sqrt(2)), rel=1e-12)
    assert sway.resultant_rms(xy) == pytest.approx(2.0, rel=1e-12)
    assert sway.axis_range(xy) == pytest.approx((4.0, 4.0), rel=1e-12)


@pytest.mark.parametrize("n", [10, 100, 1000])
def test_circle_ellipse_area_matches_f_theory(n: int) -> None:
    # A full circle's sample covariance is r^2/2 * n/(n-1) * I, so the formula collapses to this.
    r = 1.5
    expected = math.pi * stats.f.ppf(0.95, 2, n - 2) * r**2 * (n + 1) / (n - 2)
    assert sway.prediction_ellipse_area(_circle(n, r)) == pytest.approx(expected, rel=1e-12)


def test_large_n_ellipse_tends_to_chi_square() -> None:
    # 2 F(0.95; 2, n-2) -> chi2(0.95; 2) = -2 ln 0.05, so the area -> pi r^2 (-ln 0.05).
    r = 1.5
    area = sway.prediction_ellipse_area(_circle(200_000, r))
    assert area == pytest.approx(math.pi * r**2 * -math.log(0.05), rel=1e-4)
    # The common 1.96 SD semi-axes ellipse is about a third smaller: the prediction area is not that.
    assert area > 1.4 * math.pi * (1.96 * r / math.sqrt(2)) ** 2


def test_ellipse_grows_with_level_and_is_zero_for_a_line() -> None:
    xy = _circle(200, 1.0)
    assert sway.prediction_ellipse_area(xy, 0.5) < sway.prediction_ellipse_area(xy, 0.95)
    line = np.column_stack([np.arange(50.0), 2 * np.arange(50.0)])
    assert sway.prediction_ellipse_area(line) == pytest.approx(0.0, abs=1e-9)


def test_welch_spectrum_grid_and_parseval() -> None:
    x = _tone(1.0, 100.0, 6000, amplitude=2.0)
    freqs, psd = sway.welch_spectrum(x, 100.0)
    assert len(freqs) == 6000 // 4 + 1
    assert freqs[1] == pytest.approx(100.0 / 3000)
    assert freqs[-1] == pytest.approx(50.0)
    assert freqs[np.argmax(psd)] == pytest.approx(1.0)
    # Summed over bins times the bin width, the density recovers the tone's power A^2 / 2.
    assert np.sum(psd) * freqs[1] == pytest.approx(2.0, rel=1e-9)


def test_sine_mean_frequency() -> None:
    # 1 Hz lies on a bin of the 100/3000 Hz grid, so Hann leakage is symmetric and the mean exact.
    assert sway.mean_power_frequency(_tone(1.0, 100.0, 6000), 100.0) == pytest.approx(1.0, rel=1e-9)


def test_mean_frequency_is_power_weighted_over_axes() -> None:
    # Powers 1/2 and 4/2, so (1 * 1 Hz + 4 * 3 Hz) / 5.
    xy = np.column_stack([_tone(1.0, 100.0, 6000, 1.0), _tone(3.0, 100.0, 6000, 2.0)])
    assert sway.mean_power_frequency(xy, 100.0) == pytest.approx(13 / 5, rel=1e-9)
    # A motionless axis adds no weight rather than undefined frequency.
    still = np.column_stack([_tone(3.0, 100.0, 6000), np.zeros(6000)])
    assert sway.mean_power_frequency(still, 100.0) == pytest.approx(3.0, rel=1e-9)


def test_band_power_fraction_of_tones() -> None:
    x = _tone(1.0, 100.0, 6000)
    assert sway.band_power_fraction(x, 100.0, 0.5, 2.0) == pytest.approx(1.0, rel=1e-9)
    assert sway.band_power_fraction(x, 100.0, 2.0, math.inf) == pytest.approx(0.0, abs=1e-9)
    two = x + _tone(5.0, 100.0, 6000)
    low = sway.band_power_fraction(two, 100.0, 0.0, 3.0)
    assert low == pytest.approx(0.5, rel=1e-9)
    assert low + sway.band_power_fraction(two, 100.0, 3.0, math.inf) == pytest.approx(1.0, rel=1e-12)


def test_trace_metrics_one_axis_and_json() -> None:
    x = _tone(0.5, 30.0, 300, amplitude=0.2)
    m = sway.trace_metrics("hip", x, 30.0, ("ml",), "%leg")
    assert m.ellipse_area_95 is None
    assert m.duration_s == pytest.approx(10.0)
    assert m.rms == pytest.approx((0.2 / math.sqrt(2),), rel=1e-12)
    d = json.loads(json.dumps(m.to_dict()))
    assert d["axes"] == ["ml"]
    assert d["ellipse_area_95"] is None
    assert d["units"]["mean_velocity"] == "%leg/s"
    assert d["units"]["ellipse_area_95"] == "%leg^2"
    assert d["units"]["mean_frequency_hz"] == "Hz"


def test_trace_metrics_two_axes_fields_all_named_in_conventions() -> None:
    m = sway.trace_metrics("centre_of_mass", _circle(300, 1.0, periods=4), 30.0, ("ml", "ap"), "cm")
    assert m.ellipse_area_95 is not None and m.ellipse_area_95 > 0
    # 0.4 Hz lies on the 0.2 Hz Welch grid of 300 samples at 30 Hz.
    assert m.mean_frequency_hz == pytest.approx(0.4, rel=1e-9)
    d = m.to_dict()
    assert isinstance(d["rms"], list) and len(d["rms"]) == 2
    metric_fields = {"path_length", "mean_velocity", "rms", "rms_resultant", "range", "ellipse_area_95"}
    assert metric_fields | {"mean_frequency_hz"} <= set(sway.CONVENTIONS)
    assert set(d["units"]) >= metric_fields


@pytest.mark.parametrize(
    "bad",
    [
        np.array([0.0, 1.0]),
        np.array([0.0, np.nan, 1.0, 2.0]),
        np.array([[0.0, 1.0], [np.inf, 1.0], [2.0, 3.0]]),
        np.zeros((10, 3)),
        np.zeros((10, 2, 1)),
    ],
)
def test_bad_traces_raise(bad: np.ndarray) -> None:
    for f in (sway.path_length, sway.rms, sway.resultant_rms, sway.axis_range):
        with pytest.raises(ValueError):
            f(bad)
    with pytest.raises(ValueError):
        sway.trace_metrics("x", bad, 30.0, ("ml", "ap"), "cm")


def test_argument_errors() -> None:
    xy = _circle(100, 1.0)
    with pytest.raises(ValueError, match="2 axes"):
        sway.prediction_ellipse_area(xy[:, 0])
    with pytest.raises(ValueError, match="level"):
        sway.prediction_ellipse_area(xy, 1.0)
    with pytest.raises(ValueError, match="fs"):
        sway.mean_velocity(xy, 0.0)
    with pytest.raises(ValueError, match="fs"):
        sway.mean_power_frequency(xy, math.nan)
    with pytest.raises(ValueError, match="one axis"):
        sway.welch_spectrum(xy, 30.0)
    with pytest.raises(ValueError, match="lo"):
        sway.band_power_fraction(xy[:, 0], 30.0, 2.0, 1.0)
    with pytest.raises(ValueError, match="axis names"):
        sway.trace_metrics("x", xy, 30.0, ("ml",), "cm")
    with pytest.raises(ValueError, match="does not move"):
        sway.mean_power_frequency(np.ones((50, 2)), 30.0)
    with pytest.raises(ValueError, match="4 samples"):
        sway.mean_power_frequency(np.arange(3.0), 30.0)
