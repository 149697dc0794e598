"""Trial detection on every clip of ../shared/media against its MANIFEST: stance legs, times, negatives.

These clips may not be copied into the repository; the tests skip, visibly, where ../shared is absent.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from balance.errors import StanceError
from balance.pipeline import Analysis

from .conftest import analysed

TOLERANCE_S = 0.5


@dataclass(frozen=True)
class Expected:
    clip: str
    stance: str
    lift_off_s: float | None = None  # None: the MANIFEST gives no time, or the stance starts with the clip
    touch_down_s: float | None = None
    starts_with_clip: bool = False
    short_only: bool = False  # the one-leg phase is shorter than the minimum trial


POSITIVES = [
    # Pose2Sim: stance L, 1.67 s clips; the right foot swings and lands ~1.25-1.33 s (frames 75-80).
    *(Expected(f"sls_pose2sim_balancing_cam0{k}.mp4", "left", short_only=True) for k in (1, 2, 3, 4)),
    Expected("sls_tfjs_pose_1_SYNTHETIC.mp4", "left", starts_with_clip=True),
    # MANIFEST: "0-10.5 s two legs; about 11 s the right knee lifts". Frame by frame the foot is clear of
    # the mat between 10.4 and 10.5 s, so the precise statement (10.5 s) is the one tested.
    Expected("sls_studio_woman_tree_front.mp4", "left", lift_off_s=10.5),
    Expected("sls_studio_woman_lateral_leg_swing_front.mp4", "left"),
    Expected("sls_sheknows_woman_tree_front_10fps.mp4", "right", lift_off_s=0.5, touch_down_s=7.0),
    Expected("sls_howcast_woman_tree_with_cuts.mp4", "right"),
    Expected("sls_white_studio_woman_knee_raise_oblique_MAYBE_AI.mp4", "left", starts_with_clip=True),
]
NEGATIVES = [
    "neg_tfjs_woman_band_squats.mp4",
    "neg_studio_man_warrior2_front.mp4",
    "neg_wahoo_woman_jumping_jacks_front.mp4",
    "neg_white_studio_woman_squat_side_MAYBE_AI.mp4",
    "neg_sports2d_man_lateral_raise_front.mp4",
    "neg_sports2d_woman_walking_side.mp4",
]


@pytest.mark.slow
@pytest.mark.parametrize("exp", POSITIVES, ids=lambda e: e.clip.removesuffix(".mp4"))
def test_positive_clip_finds_the_stance_leg(shared_media, exp: Expected) -> None:
    result = analysed(shared_media / "positive" / exp.clip)
    if exp.short_only:
        # Too short to score, but reported in plain words with the right leg, not silently dropped.
        assert isinstance(result, StanceError)
        assert "shorter than the 3 s minimum" in str(result)
        assert f"standing on the {exp.stance} leg" in str(result)
        return
    assert isinstance(result, Analysis), result
    legs = {m.trial.stance_leg for m in result.trials}
    assert legs == {exp.stance}
    first = result.trials[0].trial
    assert first.starts_with_clip == exp.starts_with_clip
    if exp.lift_off_s is not None:
        assert abs(first.lift_off_s - exp.lift_off_s) <= TOLERANCE_S
    if exp.touch_down_s is not None:
        last = result.trials[-1].trial
        assert last.touch_down_s is not None
        assert abs(last.touch_down_s - exp.touch_down_s) <= TOLERANCE_S


@pytest.mark.slow
@pytest.mark.parametrize("clip", NEGATIVES, ids=lambda c: c.removesuffix(".mp4"))
def test_negative_clip_has_no_trial(shared_media, clip: str) -> None:
    result = analysed(shared_media / "negative" / clip)
    assert isinstance(result, StanceError), f"found trials in a negative clip: {result}"
    assert "no single-leg stance" in str(result)


@pytest.mark.slow
def test_long_hold_is_one_trial_ended_by_the_fade(shared_media) -> None:
    """P6 holds 11-42.6 s and then fades to black: one trial, no touch-down, about 32 s long."""
    result = analysed(shared_media / "positive" / "sls_studio_woman_tree_front.mp4")
    assert isinstance(result, Analysis)
    assert len(result.trials) == 1
    trial = result.trials[0].trial
    assert trial.touch_down_s is None
    assert 30.0 <= trial.hold_s <= 33.0


@pytest.mark.slow
def test_leg_swing_near_the_floor_does_not_end_the_trial(shared_media) -> None:
    """P7's free foot swings across close to the floor every second; the hold is one trial of ~8.5 s."""
    result = analysed(shared_media / "positive" / "sls_studio_woman_lateral_leg_swing_front.mp4")
    assert isinstance(result, Analysis)
    assert len(result.trials) == 1
    assert result.trials[0].trial.hold_s > 8.0
