"""balance.stance.trials.find_trials / require_trials on synthetic 30 fps tracks whose trials are known by construction.

Foot heights are in leg lengths (the figure's legs keep their length), so FOOT_UP = 0.15 means what it says.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from balance.errors import PoseError, StanceError
from balance.pose.estimate import PoseTrack
from balance.stance.trials import MAX_DROPOUT_S, MIN_TRIAL_S, Trial, ended_by, find_trials, require_trials

from .synthetic import Figure, between, clip_times, lift_profile, make_track

LEG_PX = Figure().leg_px


def _trials(track: PoseTrack) -> tuple[Trial, ...]:
    return find_trials(track).trials


def _require(track: PoseTrack) -> tuple[Trial, ...]:
    return require_trials(find_trials(track), float(track.t[-1] - track.t[0]))


def _spans(trial: Trial, i: int, j: int) -> bool:
    """Whether the trial covers frames i to j-1 without a break."""
    return trial.start_index <= i and trial.stop_index >= j


# --- one clean hold -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("lifted", "stance"), [("right", "left"), ("left", "right")])
def test_one_hold_gives_one_trial_on_the_other_leg(lifted: str, stance: str) -> None:
    t = clip_times(12.0)
    track = make_track(t, **{f"lift_{lifted}": lift_profile(t, 2.0, 9.0, 0.5)})
    timeline = find_trials(track)
    assert len(timeline.trials) == 1
    trial = timeline.trials[0]
    assert trial.stance_leg == stance
    assert trial.free_leg == lifted
    assert not trial.starts_with_clip
    assert trial.lift_off_s == pytest.approx(2.0, abs=0.1)
    assert trial.touch_down_s == pytest.approx(9.0, abs=0.15)
    assert trial.hold_s == pytest.approx(7.0, abs=0.25)
    # The frames match the times, and the per-frame state agrees.
    assert t[trial.start_index] == pytest.approx(trial.lift_off_s, abs=1 / 30)
    assert trial.end_s == t[trial.stop_index - 1]
    assert set(timeline.state[trial.start_index : trial.stop_index]) == {stance}
    assert set(timeline.state[: trial.start_index - 3]) == {"both"}
    assert set(timeline.state[trial.stop_index + 3 :]) == {"both"}
    assert not timeline.short_phases
    assert timeline.feet_in_frame == 1.0
    # foot_gap is positive when the left foot is lower: here the stance foot is 0.5 leg lengths lower.
    middle = int(np.searchsorted(t, 5.0))
    assert timeline.foot_gap[middle] == pytest.approx(0.5 if stance == "left" else -0.5, abs=1e-6)
    assert require_trials(timeline, float(t[-1])) == timeline.trials


def test_a_clip_starting_on_one_leg() -> None:
    t = clip_times(10.0)
    (trial,) = _trials(make_track(t, lift_right=lift_profile(t, -1.0, 6.0, 0.5)))
    assert trial.starts_with_clip
    assert trial.lift_off_s == t[0]
    assert trial.start_index == 0
    assert trial.touch_down_s == pytest.approx(6.0, abs=0.15)


def test_a_hold_still_going_when_the_clip_ends() -> None:
    t = clip_times(8.0)
    (trial,) = _trials(make_track(t, lift_left=lift_profile(t, 2.0, 99.0, 0.5)))
    assert trial.stance_leg == "right"
    assert trial.touch_down_s is None
    assert trial.end_s == t[-1]
    assert trial.stop_index == len(t)


# --- things that are not trials -----------------------------------------------------------------------


def test_a_short_lift_is_a_short_phase_not_a_trial() -> None:
    t = clip_times(8.0)
    track = make_track(t, lift_right=lift_profile(t, 3.0, 4.5, 0.5))
    timeline = find_trials(track)
    assert timeline.trials == ()
    (phase,) = timeline.short_phases
    assert phase.stance_leg == "left"
    assert phase.duration_s == pytest.approx(1.5, abs=0.15)
    with pytest.raises(StanceError) as err:
        require_trials(timeline, float(t[-1]))
    message = str(err.value)
    assert f"{phase.duration_s:.1f} s one-leg phase" in message
    assert "left leg" in message
    assert f"at least {MIN_TRIAL_S:.0f} s" in message


def test_walking_gives_no_trial() -> None:
    # Each foot up 0.4 s then down 0.6 s, the two alternating half a cycle apart, for 10 s.
    t = clip_times(10.0)
    right = sum(lift_profile(t, k + 0.05, k + 0.45, 0.3, ramp_s=0.1) for k in range(10))
    left = sum(lift_profile(t, k + 0.55, k + 0.95, 0.3, ramp_s=0.1) for k in range(10))
    timeline = find_trials(make_track(t, lift_left=left, lift_right=right))
    assert timeline.trials == ()
    # Both single-leg states are seen, so the steps were detected, just never long enough.
    assert {"left", "right"} <= set(timeline.state)


def test_both_feet_down_all_clip() -> None:
    t = clip_times(10.0)
    timeline = find_trials(make_track(t, jitter_px=0.5))
    assert timeline.trials == () and timeline.short_phases == ()
    with pytest.raises(StanceError, match="both feet stay on the floor"):
        require_trials(timeline, float(t[-1]))


@pytest.mark.parametrize("floor_y", [760.0, 718.0], ids=["below_the_frame", "on_the_bottom_edge"])
def test_feet_out_of_frame(floor_y: float) -> None:
    t = clip_times(10.0)
    figure = Figure(floor_y=floor_y)  # the picture is 720 px high
    timeline = find_trials(make_track(t, lift_right=lift_profile(t, 2.0, 9.0, 0.5), figure=figure))
    assert timeline.feet_in_frame < 0.5
    with pytest.raises(PoseError, match="feet are out of frame"):
        require_trials(timeline, float(t[-1]))


def test_a_clip_shorter_than_the_minimum_trial() -> None:
    t = clip_times(2.5)
    with pytest.raises(StanceError, match=f"shorter than the {MIN_TRIAL_S:.0f} s minimum") as err:
        _require(make_track(t, lift_right=0.5))
    assert "2.5 s long" in str(err.value)


# --- robustness inside a hold -------------------------------------------------------------------------


HOLD = (1.0, 12.0)  # lift-off and touch-down of the holds below, in a 13 s clip


@pytest.fixture
def t13() -> np.ndarray:
    return clip_times(13.0)


@pytest.fixture
def hold(t13: np.ndarray) -> np.ndarray:
    """Right foot held 0.5 leg lengths up from 1 s to 12 s."""
    return lift_profile(t13, *HOLD, 0.5)


def _dip(t: np.ndarray, centre: float, bottom_s: float, depth: float, ramp_s: float = 0.2) -> np.ndarray:
    """How far a foot comes down: depth leg lengths for bottom_s around centre, with 0.2 s ramps either side."""
    half = bottom_s / 2 + ramp_s / 2
    return lift_profile(t, centre - half, centre + half, depth, ramp_s)


def test_a_standing_foot_whose_landmarks_jump_keeps_the_hold(t13: np.ndarray, hold: np.ndarray) -> None:
    """The standing foot's landmarks thrown about for 1 s (longer than MAX_DROPOUT_S: a covered face throws the
    whole skeleton) while the free foot stays up: the same leg still stands, as a person watching sees."""
    jump = 0.3 * LEG_PX * np.sin(2 * np.pi * 3.0 * (t13 - 5.0)) * between(t13, 5.0, 6.0)
    (trial,) = _trials(make_track(t13, lift_right=hold, foot_dx_left=jump))
    assert trial.stance_leg == "left"
    assert trial.lift_off_s == pytest.approx(HOLD[0], abs=0.1)
    assert trial.touch_down_s == pytest.approx(HOLD[1], abs=0.15)


@pytest.mark.parametrize(
    ("bottom_s", "swinging", "n_trials"),
    [
        (0.15, True, 1),  # a swing passing near the floor: bridged
        (0.25, True, 1),  # longer near the floor, but still moving fast: bridged
        (0.25, False, 2),  # the same dip with the foot at rest is a touch-down: the hold ends there
    ],
)
def test_a_free_foot_swinging_near_the_floor(
    t13: np.ndarray, hold: np.ndarray, bottom_s: float, swinging: bool, n_trials: int
) -> None:
    # The free foot comes down to 0.03 leg lengths (below FOOT_DOWN) around 5 s; swinging, it moves
    # sideways at ~1-1.3 leg lengths a second there, above CONTACT_SPEED.
    swing = 0.2 * LEG_PX * np.sin(2 * np.pi * (t13 - 5.0)) * between(t13, 4.5, 5.5) if swinging else 0.0
    track = make_track(t13, lift_right=hold - _dip(t13, 5.0, bottom_s, 0.47), foot_dx_right=swing)
    trials = _trials(track)
    assert len(trials) == n_trials
    assert all(tr.stance_leg == "left" for tr in trials)
    assert trials[0].lift_off_s == pytest.approx(HOLD[0], abs=0.1)
    if n_trials == 2:
        assert trials[0].touch_down_s == pytest.approx(5.0 - bottom_s / 2, abs=0.15)


def test_a_short_dropout_inside_a_hold_is_bridged(t13: np.ndarray, hold: np.ndarray) -> None:
    holes = between(t13, 5.0, 5.3)  # 0.3 s with no pose at all
    (trial,) = _trials(make_track(t13, lift_right=hold, dropout=holes))
    assert trial.lift_off_s == pytest.approx(HOLD[0], abs=0.1)
    assert trial.touch_down_s == pytest.approx(HOLD[1], abs=0.15)


def test_a_long_dropout_breaks_the_hold(t13: np.ndarray, hold: np.ndarray) -> None:
    holes = between(t13, 5.0, 6.5)  # 1.5 s, longer than MAX_DROPOUT_S
    assert MAX_DROPOUT_S < 1.5  # the premise of this test
    trials = _trials(make_track(t13, lift_right=hold, dropout=holes))
    i, j = np.flatnonzero(holes)[[0, -1]]
    assert trials, "the 4 s and 5.5 s stretches either side are trials in their own right"
    assert not any(_spans(tr, i, j + 1) for tr in trials)
    # The part before the dropout did not end with a touch-down: the clip just lost the subject.
    assert trials[0].touch_down_s is None
    assert ended_by(trials[0], make_track(t13, lift_right=hold, dropout=holes)) == "subject_lost"


def test_landmarks_drawn_in_while_someone_passes_keep_the_hold(t13: np.ndarray, hold: np.ndarray) -> None:
    """1.5 s of landmarks drawn in from either side while another person overlapped (balance.pose.crowd), the free
    foot drawn low and still there (the line between two low points of a swing): no touch-down is read from
    them, and the hold goes on through them, as a person watching the subject sees."""
    passing = between(t13, 5.0, 6.5)
    drawn = np.where(passing, 0.04, hold)  # below FOOT_DOWN, at rest: a touch-down were it seen
    track = make_track(t13, lift_right=drawn)
    assert len(_trials(track)) == 2  # the premise: seen, these frames are a touch-down
    (trial,) = _trials(dataclasses.replace(track, bridged=passing))
    assert trial.stance_leg == "left"
    assert trial.touch_down_s == pytest.approx(HOLD[1], abs=0.15)


def test_a_hold_that_comes_out_of_drawn_in_landmarks_foot_down_ends_where_they_began(t13: np.ndarray) -> None:
    """The free foot lands while someone else passes and the clip ends before the landing is confirmed: the hold is
    not carried across the drawn-in frames to the clip's end; it ends where they began, its landing not seen."""
    landing = lift_profile(t13, 1.0, 12.0, 0.5)
    passing = between(t13, 11.5, 12.9)
    track = dataclasses.replace(make_track(t13, lift_right=landing), bridged=passing)
    (trial,) = _trials(track)
    assert trial.touch_down_s is None
    assert trial.end_s == pytest.approx(11.5, abs=0.05)
    assert ended_by(trial, track) == "someone_passed"  # a lower bound, said as such, not "left the picture"


def test_a_hip_jump_splits_the_trial(t13: np.ndarray, hold: np.ndarray) -> None:
    # From 6 s on the whole figure is 2 leg lengths to the right: another person, also on the left leg.
    shift = np.zeros((len(t13), 2))
    shift[t13 >= 6.0, 0] = 2.0 * LEG_PX
    timeline = find_trials(make_track(t13, lift_right=hold, shift_px=shift))
    j = int(np.searchsorted(t13, 6.0))
    assert not any(_spans(tr, j - 1, j + 1) for tr in timeline.trials)
