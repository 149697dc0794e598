"""balance.assess.decompose on synthetic figures whose joint motion is known by construction.

Each figure stands on its left leg (right foot 0.5 leg lengths up from 1 s to 13 s) and turns rigid groups of
landmarks about a joint by a known angle series: the whole body about the stance ankle (ankle strategy), the
upper body about the hip centre (trunk bend), everything but the stance leg about the stance hip (pelvis tilt).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest

from balance.assess.decompose import Decomposition, decompose, moment_arms
from balance.measure.body import hip_centre
from balance.measure.trial import Window, camera_view, trial_window
from balance.pose import landmarks as lm

from .synthetic import (
    UPPER_BODY,
    Figure,
    clip_times,
    figure_xy,
    hold_trial,
    leg,
    lift_profile,
    make_track,
    rotate,
    track_from_xy,
)

FRONT = Figure()
SIDE = Figure(shoulder_per_trunk=0.1)  # shoulders nearly overlapping: camera_view calls it a side view
STANCE = "left"
SWAY_HZ = 0.4
T = clip_times(14.0)
LIFT = lift_profile(T, 1.0, 13.0, 0.5)
ANGLE = np.radians(1.0) * np.sin(2 * np.pi * SWAY_HZ * T)  # 1 degree at 0.4 Hz
# Sub-pixel landmark noise: real detections are never exactly still.
JITTER_PX = 0.2

Motion = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _all_but(group: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(i for i in range(lm.N_LANDMARKS) if i not in group)


def rigid(xy: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Ankle strategy: everything above the stance ankle turns about it; the stance foot stays planted."""
    return rotate(xy, _all_but(lm.FOOT[STANCE]), xy[:, lm.ANKLE[STANCE]], angle)


def trunk_bend(xy: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Head, shoulders and arms bend sideways about the hip centre; legs and pelvis stay still."""
    return rotate(xy, UPPER_BODY, hip_centre(xy), angle)


def pelvis_tilt(xy: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Hip drop and hike: everything but the stance leg turns about the stance hip; the stance leg stays still."""
    return rotate(xy, _all_but(leg(STANCE)), xy[:, lm.HIP[STANCE]], angle)


def _base(figure: Figure) -> np.ndarray:
    return figure_xy(len(T), lift_right=LIFT, figure=figure)


def _window(xy: np.ndarray, figure: Figure, seed: int = 0) -> Window:
    return trial_window(track_from_xy(T, xy, jitter_px=JITTER_PX, seed=seed, figure=figure), hold_trial(T, STANCE))


def _decompose(xy: np.ndarray, figure: Figure, seed: int = 0) -> Decomposition:
    w = _window(xy, figure, seed)
    view, _ = camera_view(w.xy)
    assert view == ("side" if figure is SIDE else "front")  # the premise: the figure is seen as intended
    return decompose(w, view)


@pytest.fixture(scope="module", params=[FRONT, SIDE], ids=["front", "side"])
def figure(request: pytest.FixtureRequest) -> Figure:
    return request.param


# --- which segment the sway comes from ------------------------------------------------------------------


def test_a_body_turning_rigidly_about_the_ankle_is_all_foot(figure: Figure) -> None:
    d = _decompose(rigid(_base(figure), ANGLE), figure)
    assert d.shares["foot"] > 0.9
    assert d.dominant == "foot"
    # Only the ankle turns, so the chain accounts for the centre of mass's sway almost entirely.
    assert d.explained_r2 > 0.95
    # The foot's contribution sways at the rate the body was turned.
    assert d.mean_frequency_hz["foot"] == pytest.approx(SWAY_HZ, abs=0.1)
    assert d.sentence().startswith("Most of your wobble starts at the foot")


def test_a_trunk_bending_at_the_hip_is_trunk(figure: Figure) -> None:
    d = _decompose(trunk_bend(_base(figure), ANGLE), figure)
    assert d.dominant == "trunk"
    assert d.shares["trunk"] > 0.9
    assert d.explained_r2 > 0.95


def test_a_tilting_pelvis_is_hip_in_a_front_view() -> None:
    d = _decompose(pelvis_tilt(_base(FRONT), ANGLE), FRONT)
    assert d.dominant == "hip"
    assert max(d.shares, key=d.shares.__getitem__) == "hip"
    assert d.shares["hip"] > 0.8


@pytest.mark.parametrize("motion", [rigid, trunk_bend, pelvis_tilt])
def test_a_side_view_reports_no_hip_share(motion: Motion) -> None:
    # A side view cannot see the pelvis tilt (the hips overlap), so there is no hip segment at all.
    d = _decompose(motion(_base(SIDE), ANGLE), SIDE)
    assert set(d.shares) <= {"foot", "trunk"}
    assert set(d.signed_shares) == set(d.contributions) == {"foot", "trunk"}
    assert "hip" not in d.dominant


@pytest.mark.parametrize("motion", [rigid, trunk_bend, pelvis_tilt])
def test_shares_are_fractions_that_sum_to_one(figure: Figure, motion: Motion) -> None:
    d = _decompose(motion(_base(figure), ANGLE), figure)
    assert sum(d.shares.values()) == pytest.approx(1.0)
    assert all(0.0 <= v <= 1.0 for v in d.shares.values())
    # Only segments that move with the sway get a share; those that move against it are named instead.
    assert all(d.signed_shares[s] > 0 for s in d.shares)
    assert all(d.signed_shares[s] < 0 for s in d.compensating)


def test_two_equal_contributions_are_reported_as_shared() -> None:
    # The trunk bends in phase with the ankle by the angle that moves the centre of mass as far as the ankle
    # does (equal angle x moment arm), so each accounts for half of the sway.
    base = rigid(_base(FRONT), ANGLE)
    arms = moment_arms(_window(base, FRONT).xy, STANCE)
    d = _decompose(trunk_bend(base, ANGLE * arms["foot"] / arms["trunk"]), FRONT)
    assert d.shares["foot"] == pytest.approx(0.5, abs=0.05)
    assert d.shares["trunk"] == pytest.approx(0.5, abs=0.05)
    assert d.dominant in ("foot+trunk", "trunk+foot")
    assert d.sentence().startswith("Your wobble is shared between the")


def test_a_counter_rotating_trunk_is_compensating() -> None:
    # The leg tilts rigidly by ANGLE while the upper body turns back by the same angle about the hips: the trunk
    # moves the centre of mass against the sway the ankle makes.
    tilted = rigid(_base(FRONT), ANGLE)
    d = _decompose(trunk_bend(tilted, -ANGLE), FRONT)
    assert "trunk" in d.compensating
    assert "trunk" not in d.shares
    assert d.dominant == "foot"
    # The sentence's second part names the trunk as moving against the sway.
    _, against = d.sentence().split(". ", 1)
    assert "trunk" in against and "against it" in against
    # Linear chain: measured = (A_foot - A_trunk) x angle, so the trunk's signed share is -A_trunk / (A_foot - A_trunk).
    arms = moment_arms(_window(tilted, FRONT).xy, STANCE)
    expected = -arms["trunk"] / (arms["foot"] - arms["trunk"])
    assert d.signed_shares["trunk"] == pytest.approx(expected, rel=0.1)


def test_segments_that_do_not_move_are_not_called_compensating() -> None:
    # A rigid turn about the ankle: hip and trunk do not move relative to their parents, only the noise does.
    base = rigid(_base(FRONT), ANGLE)
    found = {seed: _decompose(base, FRONT, seed).compensating for seed in range(4)}
    assert found == {seed: () for seed in range(4)}


# --- frequency bands ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("hz", "band"), [(0.2, "drift"), (3.0, "fast_wobble")])
def test_a_pure_sway_lands_in_its_band(hz: float, band: str) -> None:
    track = make_track(T, lift_right=LIFT, sway_px=5.0 * np.sin(2 * np.pi * hz * T), jitter_px=JITTER_PX)
    d = decompose(trial_window(track, hold_trial(T, STANCE)), "front")
    assert d.bands[band] > 0.9
    assert sum(d.bands.values()) == pytest.approx(1.0)
    assert d.mean_frequency_hz["centre_of_mass"] == pytest.approx(hz, abs=0.15)


# --- JSON -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("moving", [True, False], ids=["swaying", "perfectly_still"])
def test_to_dict_is_strict_json(moving: bool) -> None:
    xy = rigid(_base(FRONT), ANGLE) if moving else _base(FRONT)
    # No jitter for the still one: a centre of mass that does not move at all is the edge case (zero variance).
    w = trial_window(track_from_xy(T, xy, jitter_px=JITTER_PX if moving else 0.0), hold_trial(T, STANCE))
    d = decompose(w, "front").to_dict()
    text = json.dumps(d, allow_nan=False)  # no NaN or inf, no numpy arrays
    assert json.loads(text) == d
    assert set(d["bands"]) == {"drift", "corrective", "fast_wobble"}
    assert d["band_limits_hz"]["fast_wobble"] == [2.0, None]
    assert d["summary"] and d["method"]
    if moving:
        assert d["dominant"] == "foot"
        assert d["mean_frequency_hz"]["centre_of_mass"] == pytest.approx(SWAY_HZ, abs=0.1)
    else:
        assert d["bands"] == {"drift": 0.0, "corrective": 0.0, "fast_wobble": 0.0}
        assert d["mean_frequency_hz"]["centre_of_mass"] is None
