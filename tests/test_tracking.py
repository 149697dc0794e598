"""balance.pose.sides (left and right decided per stretch of frames) and PoseTrack's own contract: frozen arrays,
save/load."""

from __future__ import annotations

import dataclasses
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from balance.pose import landmarks as lm
from balance.pose.estimate import PoseTrack
from balance.pose.sides import MIRROR, consistent_sides, decide_facing, repair_sides, side_path

from .synthetic import between, clip_times, lift_profile, make_track

LANDMARK_FIELDS = ("image_xy", "image_z", "visibility", "presence", "world")
N = 100


@pytest.fixture
def t() -> np.ndarray:
    return clip_times(N / 30)


def _moving(t: np.ndarray, **kw: object) -> PoseTrack:
    """A figure that is not left-right symmetric (right foot lifting, body swaying), so a flip shows."""
    return make_track(t, lift_right=lift_profile(t, 0.5, 10.0, 0.4), sway_px=12 * np.sin(2 * np.pi * 0.7 * t), **kw)


def flipped_frames(track: PoseTrack) -> np.ndarray:
    """Per frame, whether the stretch decision exchanged MediaPipe's labels."""
    return side_path(track, decide_facing(track)[0])[0]


def _assert_same_landmarks(a: PoseTrack, b: PoseTrack) -> None:
    for name in LANDMARK_FIELDS:
        assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_mirror_is_an_involution_that_swaps_sides() -> None:
    assert_array_equal(MIRROR[MIRROR], np.arange(len(MIRROR)))
    assert MIRROR[0] == 0  # nose
    assert MIRROR[11] == 12 and MIRROR[27] == 28  # shoulders, ankles


def test_a_flipped_stretch_is_repaired(t: np.ndarray) -> None:
    truth = _moving(t)
    flips = between(t, t[20], t[40] + 1e-9)  # frames 20-40
    raw = _moving(t, flipped=flips)
    assert_array_equal(flipped_frames(raw), flips)
    _assert_same_landmarks(consistent_sides(raw), truth)


def test_a_flipped_stretch_with_a_dropout_inside_is_repaired(t: np.ndarray) -> None:
    # Frames with no pose keep the flip state they are in, and the frames after them are still fixed.
    flips = between(t, t[20], t[40] + 1e-9)
    holes = between(t, t[28], t[32])
    truth = _moving(t, dropout=holes)
    fixed = consistent_sides(_moving(t, flipped=flips, dropout=holes))
    _assert_same_landmarks(fixed, truth)


@pytest.mark.parametrize(
    "motion",
    [
        # Walking fast across the picture: 30 px a frame, more than the hips' 60 px width apart.
        {"shift_px": np.column_stack([30.0 * np.arange(N), np.zeros(N)])},
        # The left foot crosses in front of the right: one pair swaps places, the others do not.
        {"foot_dx_left": np.linspace(0.0, -120.0, N), "lift_left": 0.05},
    ],
    ids=["fast_translation", "feet_crossing"],
)
def test_genuine_motion_is_not_repaired(t: np.ndarray, motion: dict[str, object]) -> None:
    track = make_track(t, sway_px=12 * np.sin(2 * np.pi * 0.7 * t), **motion)  # type: ignore[arg-type]
    assert not flipped_frames(track).any()
    _assert_same_landmarks(consistent_sides(track), track)


@pytest.mark.parametrize("flipped_until", [30, 70])
def test_the_body_decides_which_labelling_is_right(t: np.ndarray, flipped_until: int) -> None:
    # Continuity finds the switch at frame `flipped_until`; which side of it is right is the body's call (the
    # feet say the figure faces the camera, so its left hip belongs on the picture's right), not the majority's:
    # 70 flipped frames of 100 are mended as well as 30.
    first = np.arange(N) < flipped_until
    track = _moving(t, flipped=first)
    assert_array_equal(flipped_frames(track), first)


def test_a_swap_that_holds_for_seconds_and_flips_back_is_mended() -> None:
    # Ten seconds on the left leg; MediaPipe's labels are exchanged from 3 s to 6 s (a face hidden part of the
    # time): one left-leg stance throughout, and the document says which stretch was exchanged and why.
    t = clip_times(10.0)
    lift = lift_profile(t, 0.5, 9.5, 0.4)
    swap = between(t, 3.0, 6.0)
    fixed, facing = repair_sides(make_track(t, lift_right=lift, flipped=swap))
    _assert_same_landmarks(fixed, make_track(t, lift_right=lift))
    stretches = facing.to_dict()["stretches"]
    assert [s["labels_swapped"] for s in stretches] == [False, True, False]
    assert stretches[1]["from_s"] == pytest.approx(3.0, abs=0.05) and stretches[1]["to_s"] == pytest.approx(
        6.0, abs=0.05
    )
    assert any("continuous" in cue for cue in stretches[1]["decided_by"])


def test_repair_keeps_other_fields_and_returns_frozen_arrays_without_touching_the_input(t: np.ndarray) -> None:
    raw = _moving(t, flipped=between(t, t[20], t[40] + 1e-9))
    before = {f.name: np.array(getattr(raw, f.name), copy=True) for f in fields(raw)}
    fixed = consistent_sides(raw)
    assert fixed is not raw
    for f in fields(raw):
        if f.name not in LANDMARK_FIELDS:
            assert_array_equal(getattr(fixed, f.name), getattr(raw, f.name), err_msg=f.name)
        # The input track is unchanged ...
        assert_array_equal(getattr(raw, f.name), before[f.name], err_msg=f.name)
    # ... and the output's arrays are read-only like every PoseTrack's.
    for name in LANDMARK_FIELDS + ("t", "frame_index"):
        arr = getattr(fixed, name)
        assert not arr.flags.writeable, name
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 0


def test_posetrack_save_load_round_trip(tmp_path: Path, t: np.ndarray) -> None:
    track = _moving(t, dropout=between(t, 1.0, 1.2))  # NaN frames must survive too
    path = tmp_path / "track.npz"
    track.save(path)
    assert not (tmp_path / "track.npz.partial").exists()
    loaded = PoseTrack.load(path)
    for f in fields(PoseTrack):
        a, b = getattr(track, f.name), getattr(loaded, f.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype, f.name
            assert_array_equal(a, b, err_msg=f.name)  # NaNs compare equal here
            assert not b.flags.writeable, f.name
        else:
            assert type(b) is type(a), f.name  # ints stay ints, flags stay bools, hashes stay str
            assert b == a, f.name
    assert loaded.fps == pytest.approx(track.fps)
    assert_array_equal(loaded.detected, track.detected)


def _closed_up(track: PoseTrack, frames: np.ndarray) -> PoseTrack:
    """The track with the hips and shoulders drawn together on `frames` (to within 10 % of their spread about
    their centres): the pose model turning a front-facing body side-on for a moment, as on P5's blurred copies."""
    xy = track.image_xy.copy()
    for a, b in ((lm.HIP["left"], lm.HIP["right"]), (lm.SHOULDER["left"], lm.SHOULDER["right"])):
        centre = (xy[:, a, 0] + xy[:, b, 0]) / 2
        for k in (a, b):
            xy[frames, k, 0] = centre[frames] + 0.1 * (xy[frames, k, 0] - centre[frames])
    return dataclasses.replace(track, image_xy=xy)


@pytest.mark.parametrize("seconds,bridged", [(1.0, True), (3.0, False)])
def test_hips_and_shoulders_closed_up_for_a_moment_are_bridged(seconds: float, bridged: bool) -> None:
    """A front view whose hips and shoulders close up for a second is the model's error and is drawn in from
    either side; for 3 s it may be the person turning, and is kept as seen."""
    t = clip_times(8.0)
    track = make_track(t, lift_right=lift_profile(t, 0.5, 7.5, 0.4))
    frames = between(t, 3.0, 3.0 + seconds)
    fixed, facing = repair_sides(_closed_up(track, frames))
    assert facing.mixed_frames >= (frames.sum() if bridged else 0)
    assert bool(facing.mixed_frames) is bridged
    hips = fixed.image_xy[frames][:, [lm.HIP["left"], lm.HIP["right"]], 0]
    spread = hips[:, 0] - hips[:, 1]
    full = track.image_xy[0, lm.HIP["left"], 0] - track.image_xy[0, lm.HIP["right"], 0]
    assert np.allclose(spread, full, rtol=0.05) is bridged
