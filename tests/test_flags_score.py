"""balance.assess (flags, score, assessment) on synthetic holds whose flags are known by construction.

Every hold stands on the left leg, front view, with the right foot 0.5 leg lengths up from 1 s to 13 s and the
upper body shifted so the centre of mass is over the stance foot (a balanced figure: no instability or foot-loading
flag from the figure's own pose). Units are %leg (no height given), so flags convert with an assumed 170 cm adult.
"""

from __future__ import annotations

import dataclasses
import functools
import json

import numpy as np
import pytest

from balance.assess.assessment import Assessment, assess
from balance.assess.flags import ASSUMED_HEIGHT_CM, HIP_DROP_DEG, SYMMETRY_INDEX, WOBBLE_CM_S, Flag, asymmetry_flags
from balance.assess.score import FULL_HOLD_S, MAX_BESS_ERRORS, SCORE_MDC, WEIGHTS, Score, stability_score
from balance.measure.body import LEG_LENGTH_PER_HEIGHT, centre_of_mass
from balance.measure.trial import SwayMetrics, measure
from balance.pose import landmarks as lm
from balance.stance.trials import Trial

from .synthetic import (
    Figure,
    balanced_sway_px,
    clip_times,
    figure_xy,
    hold_trial,
    leg,
    lift_profile,
    place_hands,
    rotate,
    track_from_xy,
)

T = clip_times(14.0)
N = len(T)
FIGURE = Figure()
L = FIGURE.leg_px
BALANCED = balanced_sway_px()
JITTER_PX = 0.2
WOBBLE_PX, WOBBLE_HZ = 6.0, 3.0  # fast and large: ~11 cm/s, three times the cut-off
SLOW_PX, SLOW_HZ = 5.0, 0.5  # ~2.5 cm/s, under the cut-off
DROP_DEG = 8.0
HANDS_OFF = (5.0, 7.0)  # s, hands away from the hips (half-way through 0.2 s ramps)


def _xy(name: str) -> np.ndarray:
    """Image landmarks of each named hold."""
    lift = lift_profile(T, 1.0, 99.0 if name == "no_touch_down" else 13.0, 0.5)
    sway = {"wobbly": WOBBLE_PX * np.sin(2 * np.pi * WOBBLE_HZ * T), "slow": SLOW_PX * np.sin(2 * np.pi * SLOW_HZ * T)}
    xy = figure_xy(N, lift_right=lift, sway_px=BALANCED + sway.get(name, 0.0))
    not_stance_leg = tuple(i for i in range(lm.N_LANDMARKS) if i not in leg("left"))
    if name in ("hip_drop", "hip_hike"):
        # The pelvis and all above it turn about the stance (left, +x) hip: negative angles lower the free
        # (right, -x) side, a drop.
        angle = np.radians(-DROP_DEG if name == "hip_drop" else DROP_DEG)
        xy = rotate(xy, not_stance_leg, xy[:, lm.HIP["left"]], angle)
    if name == "hands":
        xy = place_hands(xy, 1.0 - lift_profile(T, *HANDS_OFF, 1.0))
    elif name == "hands_never":
        xy = place_hands(xy, 0.0)
    elif name == "hands_always":
        xy = place_hands(xy, 1.0)
    return xy


def _trial(name: str) -> Trial:
    return hold_trial(T, touch_down_s=None if name == "no_touch_down" else 13.0)


@functools.cache
def _measured(name: str) -> tuple[SwayMetrics, Assessment]:
    track = track_from_xy(T, _xy(name), jitter_px=JITTER_PX)
    sway = measure(track, _trial(name))
    return sway, assess(track, sway)


def _flags(name: str) -> dict[str, Flag]:
    flags = _measured(name)[1].flags
    codes = [f.code for f in flags]
    assert len(codes) == len(set(codes)), codes  # each flag at most once per trial
    return {f.code: f for f in flags}


@pytest.fixture(scope="module")
def still() -> SwayMetrics:
    return _measured("still")[0]


# --- wobble -------------------------------------------------------------------------------------------


def test_large_fast_sway_is_flagged_wobble() -> None:
    flags = _flags("wobbly")
    f = flags["wobble"]
    assert f.threshold == WOBBLE_CM_S["ml"]  # a front view measures side-to-side sway
    assert f.value is not None and f.value >= f.threshold
    assert f.unit == "cm/s"
    assert "Oliveira" in f.source
    assert "assuming a 170 cm adult" in f.text  # no height was given
    assert not f.bess_error
    # Most of that sway is faster than 2 Hz.
    assert flags["fast_wobble"].value is not None and flags["fast_wobble"].value > 0.9


def test_the_wobble_is_the_centre_of_mass_speed() -> None:
    f = _flags("wobbly")["wobble"]
    # The centre of mass moves k px per px of sway (the shanks follow only partly, the feet not); a sinusoid of
    # amplitude A at f Hz has mean speed 4 A f.
    xy = figure_xy(2, lift_right=0.5, sway_px=np.array([BALANCED, BALANCED + 1.0]))
    k = float(np.diff(centre_of_mass(xy)[:, 0])[0])
    cm_per_px = LEG_LENGTH_PER_HEIGHT * ASSUMED_HEIGHT_CM / L
    assert f.value == pytest.approx(4 * WOBBLE_PX * k * WOBBLE_HZ * cm_per_px, rel=0.1)


def test_a_still_hold_is_not_wobbly() -> None:
    flags = _flags("still")
    assert "wobble" not in flags
    # Nothing else about this hold is off either: balanced, level pelvis, upright trunk, planted foot.
    assert {"instability", "hip_drop", "trunk_lean", "weight_inside", "weight_outside", "foot_shift"}.isdisjoint(flags)


def test_a_still_hold_has_no_jittery_corrections() -> None:
    assert "fast_wobble" not in _flags("still")


# --- hip drop ------------------------------------------------------------------------------------------


def test_a_sagging_free_side_is_a_hip_drop() -> None:
    sway = _measured("hip_drop")[0]
    assert sway.view == "front"
    assert float(np.mean(sway.series["pelvic_tilt"])) == pytest.approx(-DROP_DEG, abs=0.2)  # the premise
    f = _flags("hip_drop")["hip_drop"]
    assert f.value == pytest.approx(DROP_DEG, abs=0.2)
    assert f.threshold == HIP_DROP_DEG
    assert f.unit == "deg"
    assert "Trendelenburg" in f.source
    # The pelvis sags for the whole analysed window.
    assert len(f.times) == 1
    assert f.times[0][0] == pytest.approx(sway.grid[0]) and f.times[0][1] == pytest.approx(sway.grid[-1])


@pytest.mark.parametrize("name", ["still", "hip_hike"])
def test_a_level_or_hiked_pelvis_is_no_hip_drop(name: str) -> None:
    assert "hip_drop" not in _flags(name)


# --- hands off the hips ---------------------------------------------------------------------------------


def test_hands_leaving_the_hips_is_a_bess_error_with_its_time_span() -> None:
    f = _flags("hands")["hands_off_hips"]
    assert f.bess_error
    assert len(f.times) == 1
    start, end = f.times[0]
    assert start == pytest.approx(HANDS_OFF[0], abs=0.1)
    assert end == pytest.approx(HANDS_OFF[1], abs=0.1)
    assert f.value == pytest.approx(end - start)
    assert "Riemann" in f.source


@pytest.mark.parametrize("name", ["hands_never", "hands_always"])
def test_no_hands_flag_when_the_hands_never_leave_or_never_were_on_the_hips(name: str) -> None:
    # Arms held out all the time: the hands-on-hips protocol does not apply, so arms out is not an error.
    assert "hands_off_hips" not in _flags(name)


# --- touch-down ----------------------------------------------------------------------------------------


def test_a_touch_down_is_a_bess_error() -> None:
    sway = _measured("still")[0]
    f = _flags("still")["touch_down"]
    assert f.bess_error
    assert f.times == ((13.0, 13.0),)
    assert f.value == pytest.approx(sway.trial.hold_s) == pytest.approx(12.0)
    assert "13.0 s" in f.text


def test_a_hold_still_going_at_the_end_of_the_clip_has_no_touch_down() -> None:
    assert "touch_down" not in _flags("no_touch_down")


# --- asymmetry -----------------------------------------------------------------------------------------


def _as(sway: SwayMetrics, stance: str, hold_s: float) -> SwayMetrics:
    """The same sway, attributed to a trial on `stance` that lasted hold_s (asymmetry looks at no other field)."""
    return dataclasses.replace(sway, trial=Trial(stance, 1.0, 1.0 + hold_s, False, 30, 30 + int(30 * hold_s), 0.0))


def test_a_short_right_hold_is_an_asymmetry_naming_the_right_side(still: SwayMetrics) -> None:
    flags = asymmetry_flags([(_as(still, "left", 30.0), 80.0), (_as(still, "right", 15.0), 80.0)])
    assert [f.code for f in flags] == ["asymmetry"]  # the scores are equal: only the hold time differs
    (f,) = flags
    assert f.value == pytest.approx(0.5)
    assert f.threshold == SYMMETRY_INDEX
    assert "hold time" in f.text
    assert "the right side is at 50 %" in f.text


def test_a_low_score_on_one_side_is_an_asymmetry(still: SwayMetrics) -> None:
    (f,) = asymmetry_flags([(_as(still, "left", 30.0), 60.0), (_as(still, "right", 30.0), 80.0)])
    assert "stability score" in f.text
    assert "the left side is at 75 %" in f.text


@pytest.mark.parametrize(
    "trials",
    [
        [("left", 30.0, 80.0), ("right", 29.0, 78.0)],  # within 90 %: symmetric enough
        [("left", 30.0, 80.0), ("left", 10.0, 40.0)],  # one leg only: nothing to compare
        [("left", 10.0, 80.0), ("left", 30.0, 80.0), ("right", 29.0, 79.0)],  # the best try on each leg counts
    ],
    ids=["symmetric", "one_leg", "best_of_several"],
)
def test_no_asymmetry(still: SwayMetrics, trials: list[tuple[str, float, float]]) -> None:
    assert asymmetry_flags([(_as(still, leg_, hold), score) for leg_, hold, score in trials]) == ()


# --- score ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["still", "wobbly", "slow", "hands", "no_touch_down"])
def test_the_score_can_be_recomputed_from_its_json(name: str) -> None:
    d = _measured(name)[1].score.to_dict()
    recomputed = 100 * sum(d["weights"][k] * d["parts"][k] for k in d["weights"])
    assert recomputed == pytest.approx(d["value"], abs=0.1)
    assert set(d["parts"]) == set(d["weights"]) == set(WEIGHTS)
    assert sum(d["weights"].values()) == pytest.approx(1.0)
    assert all(0.0 <= p <= 1.0 for p in d["parts"].values())
    assert 0.0 <= d["value"] <= 100.0


def test_a_steadier_hold_scores_higher() -> None:
    still, slow, wobbly = (_measured(name)[1].score for name in ("still", "slow", "wobbly"))
    assert still.parts["steadiness"] > slow.parts["steadiness"] > wobbly.parts["steadiness"]
    assert still.value > slow.value > wobbly.value
    # Twice the cut-off or more scores no steadiness at all.
    assert wobbly.inputs["com_velocity_cm_s"] >= 2 * WOBBLE_CM_S["ml"]
    assert wobbly.parts["steadiness"] == 0.0


def _error(i: int) -> Flag:
    return Flag(f"error_{i}", "an error", None, None, "", "test", bess_error=True)


def test_more_bess_errors_lower_the_score(still: SwayMetrics) -> None:
    scores = [stability_score(still, tuple(_error(i) for i in range(n))) for n in range(MAX_BESS_ERRORS + 3)]
    values = [s.value for s in scores]
    assert all(a > b for a, b in zip(values[:MAX_BESS_ERRORS], values[1 : MAX_BESS_ERRORS + 1], strict=True))
    # Each error costs the form weight / MAX_BESS_ERRORS; from MAX_BESS_ERRORS on, form is spent.
    step = 100 * WEIGHTS["form"] / MAX_BESS_ERRORS
    assert values[0] - values[1] == pytest.approx(step)
    assert values[MAX_BESS_ERRORS] == values[-1]
    assert scores[-1].parts["form"] == 0.0
    assert [s.inputs["bess_errors"] for s in scores] == list(range(MAX_BESS_ERRORS + 3))
    # Flags that are not BESS errors do not count.
    plain = Flag("fast_wobble", "", 0.5, 0.25, "", "test")
    assert stability_score(still, (plain,)).value == values[0]


@pytest.mark.parametrize(("hold_s", "part"), [(15.0, 0.5), (7.5, 0.25), (FULL_HOLD_S, 1.0), (45.0, 1.0)])
def test_hold_part(still: SwayMetrics, hold_s: float, part: float) -> None:
    score = stability_score(_as(still, "left", hold_s), ())
    assert score.parts["hold"] == pytest.approx(part)
    assert score.inputs["hold_s"] == pytest.approx(hold_s)


def test_the_minimal_detectable_change_is_a_positive_number(still: SwayMetrics) -> None:
    score: Score = _measured("still")[1].score
    assert isinstance(score.mdc, float) and score.mdc > 0
    assert score.to_dict()["mdc"] == SCORE_MDC > 0
    assert SCORE_MDC < 20  # smaller than the score's range by far, or "better than last week" could never be said


# --- the whole assessment --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["still", "wobbly", "hip_drop", "hands"])
def test_assessment_to_dict_is_strict_json(name: str) -> None:
    d = _measured(name)[1].to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text) == d
    assert set(d) == {"decomposition", "tripod", "flags", "score"}
    assert all(
        set(f) >= {"code", "text", "value", "threshold", "unit", "source", "times", "bess_error"} for f in d["flags"]
    )
