"""balance.measure.signals on small synthetic traces whose cleaned form is known by construction."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.signal import butter, sosfilt

from balance.measure.signals import LOWPASS_HZ, LOWPASS_ORDER, MAX_GAP_S, clean, fill_gaps, hampel, lowpass, resample

FS = 30.0


@pytest.fixture
def noisy_baseline() -> np.ndarray:
    """120 frames at 100 px with 1 px landmark jitter."""
    return 100.0 + np.random.default_rng(7).normal(0.0, 1.0, 120)


# --- hampel -------------------------------------------------------------------------------------------


def test_hampel_replaces_a_one_frame_spike_by_the_running_median(noisy_baseline: np.ndarray) -> None:
    x = noisy_baseline.copy()
    x[60] += 40.0  # a single-frame foot-landmark jump
    out = hampel(x)
    # The 7-frame window's median (spike included, as the filter sees it) replaces the spike.
    assert out[60] == pytest.approx(np.median(x[57:64]))
    assert abs(out[60] - 100.0) < 4.0


def test_hampel_keeps_a_ten_frame_step(noisy_baseline: np.ndarray) -> None:
    x = noisy_baseline.copy()
    x[50:60] += 40.0  # real motion: lasts longer than the +-3 frame half window
    out = hampel(x)
    assert np.all(out[50:60] > 125.0), "no step sample may be pulled back to the baseline"
    assert np.mean(out[50:60]) == pytest.approx(np.mean(x[50:60]), abs=1.0)


def test_hampel_leaves_clean_signals_exactly_alone() -> None:
    step = np.r_[np.zeros(20), np.full(10, 40.0), np.zeros(20)]
    ramp = np.linspace(0.0, 50.0, 50)
    assert_array_equal(hampel(step), step)
    assert_array_equal(hampel(ramp), ramp)


def test_hampel_works_column_by_column(noisy_baseline: np.ndarray) -> None:
    spiky = noisy_baseline.copy()
    spiky[60] += 40.0
    ramp = np.linspace(0.0, 50.0, len(spiky))
    out = hampel(np.column_stack([spiky, ramp]))
    assert out.shape == (len(spiky), 2)
    assert_array_equal(out[:, 0], hampel(spiky))
    assert_array_equal(out[:, 1], ramp)  # the spike in column 0 must not touch column 1


# --- fill_gaps ----------------------------------------------------------------------------------------


@pytest.fixture
def curve() -> tuple[np.ndarray, np.ndarray]:
    """A curved trace (so a linear bridge differs from the truth) at 30 fps over 3 s."""
    t = np.arange(90) / FS
    return t, 5.0 + 2.0 * t**2


def test_fill_gaps_bridges_a_short_gap_linearly(curve: tuple[np.ndarray, np.ndarray]) -> None:
    t, x = curve
    valid = np.ones(len(t), dtype=bool)
    valid[30:39] = False  # 9 frames: from frame 29 to 39 is 0.33 s <= MAX_GAP_S
    garbage = x.copy()
    garbage[30:39] = 1e6  # what MediaPipe guessed there must not leak through
    out = fill_gaps(t, garbage, valid)
    assert_allclose(out[30:39], np.interp(t[30:39], [t[29], t[39]], [x[29], x[39]]), rtol=1e-12)
    assert_array_equal(out[valid], x[valid])


def test_fill_gaps_leaves_a_long_gap_and_the_ends_nan(curve: tuple[np.ndarray, np.ndarray]) -> None:
    t, x = curve
    valid = np.ones(len(t), dtype=bool)
    valid[30:60] = False  # 1 s of missing frames
    valid[:3] = False  # before the first valid sample there is nothing to bridge from
    assert t[60] - t[29] > MAX_GAP_S
    out = fill_gaps(t, x, valid)
    assert np.all(np.isnan(out[30:60]))
    assert np.all(np.isnan(out[:3]))
    assert_array_equal(out[valid], x[valid])


def test_fill_gaps_treats_nan_samples_as_invalid(curve: tuple[np.ndarray, np.ndarray]) -> None:
    t, x = curve
    holed = x.copy()
    holed[40] = np.nan  # flagged valid, but no value: still bridged
    out = fill_gaps(t, holed, np.ones(len(t), dtype=bool))
    assert out[40] == pytest.approx(0.5 * (x[39] + x[41]))


# --- resample -----------------------------------------------------------------------------------------


@pytest.fixture
def jittered_t() -> np.ndarray:
    """Phone-style timestamps: 30 fps nominal, each frame up to 0.3 frame early or late, and a dropped stretch."""
    n = np.r_[np.arange(0, 40), np.arange(47, 120)]
    return (n + np.random.default_rng(3).uniform(-0.3, 0.3, len(n))) / FS


def test_resample_reproduces_a_linear_signal_exactly(jittered_t: np.ndarray) -> None:
    t = jittered_t
    x = np.column_stack([3.0 * t + 2.0, -t])
    grid, out = resample(t, x, FS)
    assert grid[0] == t[0]
    assert_allclose(np.diff(grid), 1 / FS, rtol=1e-9)
    assert 0 <= t[-1] - grid[-1] < 1 / FS
    assert out.shape == (len(grid), 2)
    assert_allclose(out[:, 0], 3.0 * grid + 2.0, rtol=1e-12)
    assert_allclose(out[:, 1], -grid, atol=1e-12)


def test_resample_uses_the_real_timestamps(jittered_t: np.ndarray) -> None:
    t = jittered_t
    x = np.sin(2 * np.pi * t)
    grid, out = resample(t, x, FS)
    # Linear interpolation of a 1 Hz sine over intervals up to 1.6 frames long is within
    # (2 pi)^2 (1.6 / 30)^2 / 8 ~ 0.014 of it (away from the dropped stretch, where a straight line
    # across 0.27 s is all there is).
    framed = (grid < t[39]) | (grid > t[40])
    assert np.max(np.abs(out - np.sin(2 * np.pi * grid))[framed]) < 0.015
    # Reading the samples as if they were uniform (the mistake resample exists to avoid) is far worse.
    naive = np.sin(2 * np.pi * t)  # sample k taken as if it were at grid[k]
    assert np.max(np.abs(naive - np.sin(2 * np.pi * grid[: len(t)]))) > 0.5


# --- lowpass ------------------------------------------------------------------------------------------


@pytest.fixture
def t10() -> np.ndarray:
    return np.arange(300) / FS


def test_lowpass_passes_1hz(t10: np.ndarray) -> None:
    y = lowpass(np.sin(2 * np.pi * 1.0 * t10), FS)
    middle = slice(60, 240)  # away from the padded ends
    assert np.max(np.abs(y[middle])) == pytest.approx(1.0, rel=0.02)


def test_lowpass_attenuates_10hz(t10: np.ndarray) -> None:
    x = np.sin(2 * np.pi * 10.0 * t10)
    y = lowpass(x, FS)
    middle = slice(60, 240)
    assert np.sqrt(np.mean(y[middle] ** 2)) < 0.1 * np.sqrt(np.mean(x[middle] ** 2))


def _lag(x: np.ndarray, y: np.ndarray, max_lag: int = 10) -> int:
    """Lag (frames, + = y later) of the cross-correlation peak of y against x."""
    lags = np.arange(-max_lag, max_lag + 1)
    xc = [np.dot(x[max_lag : len(x) - max_lag], np.roll(y, -k)[max_lag : len(x) - max_lag]) for k in lags]
    return int(lags[int(np.argmax(xc))])


def test_lowpass_has_zero_phase_lag(t10: np.ndarray) -> None:
    x = np.random.default_rng(5).normal(size=len(t10))
    y = lowpass(x, FS)
    assert _lag(x, y) == 0
    # The measure can see a lag: the same filter run forwards only (causal) delays the signal.
    causal = sosfilt(butter(LOWPASS_ORDER, LOWPASS_HZ, fs=FS, output="sos"), x)
    assert _lag(x, causal) >= 1


def test_lowpass_works_on_columns_and_short_traces(t10: np.ndarray) -> None:
    two = np.column_stack([np.sin(2 * np.pi * t10), np.cos(2 * np.pi * t10)])
    y = lowpass(two, FS)
    assert y.shape == two.shape
    assert_allclose(y[:, 0], lowpass(two[:, 0], FS))
    assert lowpass(np.arange(8.0), FS).shape == (8,)  # shorter than the default padding: no error
    assert_array_equal(lowpass(two, fs=8.0), two)  # cut-off above Nyquist: nothing to remove


# --- clean --------------------------------------------------------------------------------------------


def test_clean_returns_the_share_of_valid_frames(t10: np.ndarray) -> None:
    x = 10.0 * np.sin(2 * np.pi * 0.5 * t10)
    valid = np.ones(len(t10), dtype=bool)
    valid[::4] = False  # a quarter of the frames hidden, each gap one frame
    grid, y, coverage = clean(t10, x, valid, FS)
    assert coverage == pytest.approx(0.75)
    assert_allclose(np.diff(grid), 1 / FS, rtol=1e-9)
    # One-frame gaps bridge linearly and the 0.5 Hz sway passes the filter. (On a noise-free trace the
    # Hampel step trims the sine's crests by ~2 % of the amplitude: the MAD there is near zero.)
    assert np.max(np.abs(y[30:-30] - 10.0 * np.sin(2 * np.pi * 0.5 * grid[30:-30]))) < 0.3


def test_clean_refuses_a_trace_with_fewer_than_two_valid_samples(t10: np.ndarray) -> None:
    valid = np.zeros(len(t10), dtype=bool)
    valid[5] = True
    with pytest.raises(ValueError, match="fewer than two valid samples"):
        clean(t10, np.ones(len(t10)), valid, FS)
