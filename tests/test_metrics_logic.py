"""balance.measure.trial on synthetic holds with a known sway: units, scale, camera view, analysis window, JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from balance.measure.body import LEG_LENGTH_PER_HEIGHT
from balance.measure.trial import (
    MIN_ANALYSED_S,
    PRE_LANDING_S,
    SETTLE_S,
    analysis_window,
    body_scale,
    camera_view,
    measure,
)
from balance.pose.estimate import PoseTrack
from balance.stance.trials import Trial

from .synthetic import Figure, between, clip_times, figure_xy, lift_profile, make_track

FIGURE = Figure()
L = FIGURE.leg_px
SWAY_PX = 15.0  # amplitude of the sideways sway, pixels (5 % of the leg)
SWAY_HZ = 0.5
# Sub-pixel landmark noise: real detections are never exactly still (a still trace has no mean frequency).
JITTER_PX = 0.2


@pytest.fixture
def t() -> np.ndarray:
    return clip_times(14.0)


def _hold(t: np.ndarray, **kw: object) -> PoseTrack:
    """Standing on the left leg, right foot 0.5 leg lengths up from 1 s to 13 s."""
    return make_track(t, lift_right=lift_profile(t, 1.0, 13.0, 0.5), **kw)  # type: ignore[arg-type]


def _trial(t: np.ndarray, lift_off_s: float = 1.0, touch_down_s: float | None = 13.0, **kw: object) -> Trial:
    """The Trial find_trials would report for a hold between these times (built directly: this file tests metrics)."""
    start = int(np.searchsorted(t, lift_off_s))
    stop = int(np.searchsorted(t, touch_down_s)) if touch_down_s is not None else len(t)
    fields = {"starts_with_clip": start == 0, "start_index": start, "stop_index": stop, "end_s": float(t[stop - 1])}
    fields.update(kw)
    return Trial("left", lift_off_s, touch_down_s, **fields)  # type: ignore[arg-type]


def _px_per_unit(height_cm: float | None) -> float:
    return L / (LEG_LENGTH_PER_HEIGHT * height_cm) if height_cm else L / 100.0


# --- sway amplitude and units -------------------------------------------------------------------------


@pytest.mark.parametrize(("height_cm", "unit"), [(None, "%leg"), (175.0, "cm")])
def test_sinusoidal_sway_gives_its_rms_in_the_unit(t: np.ndarray, height_cm: float | None, unit: str) -> None:
    sway = SWAY_PX * np.sin(2 * np.pi * SWAY_HZ * t)
    m = measure(_hold(t, sway_px=sway, jitter_px=JITTER_PX), _trial(t), height_cm)
    assert m.scale.unit == unit
    assert m.scale.leg_length_px == pytest.approx(L, rel=0.005)
    per_unit = _px_per_unit(height_cm)
    observed = {o.name: o for o in m.observed}
    for name in ("hip_centre", "shoulder_centre"):  # the whole body above the ankle sways rigidly
        o = observed[name]
        assert o.unit == unit
        assert o.axes == ("ml",)  # a front view: the picture's horizontal is side to side
        # RMS of A sin(wt) is A / sqrt(2); mean speed is 4 A f.
        assert o.rms[0] == pytest.approx(SWAY_PX / np.sqrt(2) / per_unit, rel=0.05)
        assert o.mean_velocity == pytest.approx(4 * SWAY_PX * SWAY_HZ / per_unit, rel=0.05)
        assert o.mean_frequency_hz == pytest.approx(SWAY_HZ, abs=0.15)
    # The COM moves less than the hips: the stance foot and shank stay put.
    assert 0.5 * observed["hip_centre"].rms[0] < observed["centre_of_mass"].rms[0] < observed["hip_centre"].rms[0]
    # The filtered trace is the sway itself, in phase (zero-lag filter) and with the right sign (+x is +).
    expected = SWAY_PX * np.sin(2 * np.pi * SWAY_HZ * m.grid) / per_unit
    assert np.corrcoef(m.series["hip_centre"], expected)[0, 1] > 0.99


def test_a_still_figure_has_next_to_no_sway(t: np.ndarray) -> None:
    still = measure(_hold(t, jitter_px=0.01), _trial(t))
    swaying = measure(_hold(t, sway_px=SWAY_PX * np.sin(2 * np.pi * SWAY_HZ * t), jitter_px=0.01), _trial(t))
    for a, b in zip(still.observed, swaying.observed[:3], strict=False):
        assert a.mean_velocity < 0.05, a.name  # %leg/s; the swaying figure moves at ~10 %leg/s
        assert a.rms[0] < 0.01, a.name
        assert b.mean_velocity > 100 * a.mean_velocity, a.name


def test_a_perfectly_still_figure_measures_zero_sway(t: np.ndarray) -> None:
    m = measure(_hold(t), _trial(t))
    for o in m.observed:
        assert o.mean_velocity == pytest.approx(0.0, abs=1e-9)


def test_coverage_counts_the_frames_with_landmarks(t: np.ndarray) -> None:
    holes = between(t, 6.0, 6.3)
    trial = _trial(t)
    m = measure(_hold(t, sway_px=SWAY_PX * np.sin(2 * np.pi * SWAY_HZ * t), jitter_px=JITTER_PX, dropout=holes), trial)
    window = analysis_window(_hold(t), trial)
    assert m.coverage == pytest.approx(1 - holes[window].sum() / len(t[window]))
    assert m.coverage < 1.0
    # The bridged 0.3 s gap does not change the amplitude noticeably.
    hip = next(o for o in m.observed if o.name == "hip_centre")
    assert hip.rms[0] == pytest.approx(SWAY_PX / np.sqrt(2) / _px_per_unit(None), rel=0.05)


# --- scale --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("height_cm", [None, 160.0])
def test_body_scale(t: np.ndarray, height_cm: float | None) -> None:
    scale = body_scale(_hold(t), _trial(t), height_cm)
    assert scale.leg_length_px == pytest.approx(L)
    assert scale.leg_length_world_m == pytest.approx(FIGURE.leg_m)
    assert scale.image_per_unit == pytest.approx(_px_per_unit(height_cm))
    leg_units = LEG_LENGTH_PER_HEIGHT * height_cm if height_cm else 100.0
    assert scale.world_per_unit == pytest.approx(FIGURE.leg_m / leg_units)
    assert scale.height_cm == height_cm


# --- camera view --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shoulder_per_trunk", "view"),
    [(0.7, "front"), (0.4, "oblique"), (0.1, "side")],
)
def test_camera_view_from_shoulder_width(shoulder_per_trunk: float, view: str) -> None:
    xy = figure_xy(20, figure=Figure(shoulder_per_trunk=shoulder_per_trunk))
    assert camera_view(xy) == (view, pytest.approx(shoulder_per_trunk))


@pytest.mark.parametrize(("shoulder_per_trunk", "view", "axis"), [(0.7, "front", "ml"), (0.1, "side", "ap")])
def test_measure_reports_the_view_and_axis(t: np.ndarray, shoulder_per_trunk: float, view: str, axis: str) -> None:
    figure = Figure(shoulder_per_trunk=shoulder_per_trunk)
    m = measure(_hold(t, jitter_px=JITTER_PX, figure=figure), _trial(t))
    assert (m.view, m.horizontal_axis) == (view, axis)
    assert m.view_ratio == pytest.approx(shoulder_per_trunk, rel=0.02)
    assert all(o.axes[0] == axis for o in m.observed)


# --- analysis window ----------------------------------------------------------------------------------


def test_analysis_window_skips_the_settling_and_the_landing(t: np.ndarray) -> None:
    trial = _trial(t, 2.0, 9.0)
    w = t[analysis_window(_hold(t), trial)]
    # First frame at or after lift-off + SETTLE_S; last at or before the trial's end - PRE_LANDING_S.
    assert trial.lift_off_s + SETTLE_S <= w[0] < trial.lift_off_s + SETTLE_S + 1 / 30
    assert trial.end_s - PRE_LANDING_S - 1 / 30 < w[-1] <= trial.end_s - PRE_LANDING_S
    assert np.all(np.diff(w) > 0)


def test_analysis_window_of_a_trial_from_the_clip_start_to_its_end(t: np.ndarray) -> None:
    # Nothing to settle from (the subject was already on one leg) and no landing to cut.
    trial = _trial(t, 0.0, None)
    assert trial.starts_with_clip
    w = t[analysis_window(_hold(t), trial)]
    assert w[0] == t[0]
    assert w[-1] == t[-1]


def test_analysis_window_keeps_a_short_trial_whole(t: np.ndarray) -> None:
    # 3 s minus 1.25 s of trimming leaves less than MIN_ANALYSED_S: the whole trial is analysed instead.
    trial = _trial(t, 2.0, 5.0)
    assert trial.end_s - PRE_LANDING_S - (trial.lift_off_s + SETTLE_S) < MIN_ANALYSED_S
    sl = analysis_window(_hold(t), trial)
    assert (sl.start, sl.stop) == (trial.start_index, trial.stop_index)


def test_measure_reports_the_analysed_window(t: np.ndarray) -> None:
    trial = _trial(t)
    m = measure(_hold(t, jitter_px=JITTER_PX), trial)
    w = t[analysis_window(_hold(t), trial)]
    assert (m.analysed_from_s, m.analysed_to_s) == (w[0], w[-1])
    assert m.grid[0] == w[0] and m.grid[-1] <= w[-1]
    assert m.fs == pytest.approx(30.0)


# --- JSON ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("height_cm", [None, 175.0])
def test_to_dict_is_strict_json_with_units(t: np.ndarray, height_cm: float | None) -> None:
    m = measure(_hold(t, sway_px=SWAY_PX * np.sin(2 * np.pi * SWAY_HZ * t), jitter_px=JITTER_PX), _trial(t), height_cm)
    d = m.to_dict()
    text = json.dumps(d, allow_nan=False)  # no NaN or inf anywhere, no numpy scalars
    assert json.loads(text) == d
    unit = "cm" if height_cm else "%leg"
    assert d["unit"] == unit and d["height_cm"] == height_cm
    assert d["view"] == "front" and d["horizontal_axis"] == "ml"
    assert set(d["observed"]) == {"centre_of_mass", "hip_centre", "shoulder_centre", "stance_foot"}
    for group in ("observed", "depth_estimates"):
        for name, metrics in d[group].items():
            assert metrics["units"]["rms"] == unit, name
            assert metrics["units"]["mean_velocity"] == f"{unit}/s", name
    for name, metrics in d["angles"].items():
        assert metrics["units"]["rms"] == "deg", name
