"""balance.assess.tripod: the tripod's barycentric split, the centre of mass in foot coordinates from hand-placed world
and picture landmarks, and the whole estimate (with its Monte-Carlo uncertainty) on a synthetic hold.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from balance.assess.tripod import (
    TRIPOD,
    TripodEstimate,
    estimate_tripod,
    projection_image,
    projection_world,
    tripod_weights,
)
from balance.measure.body import FOOT, SHANK
from balance.measure.trial import trial_window
from balance.pose import landmarks as lm

from .synthetic import Figure, balanced_sway_px, clip_times, figure_xy, hold_trial, lift_profile, track_from_xy

NAMES = tuple(TRIPOD)
POINTS = np.array(list(TRIPOD.values()))

# --- barycentric split ----------------------------------------------------------------------------------


@pytest.mark.parametrize("k", range(3), ids=NAMES)
def test_a_tripod_point_takes_all_the_weight(k: int) -> None:
    weights = tripod_weights(POINTS[k : k + 1])
    assert weights.shape == (1, 3)
    np.testing.assert_allclose(weights[0], np.eye(3)[k], atol=1e-12)


def test_the_centroid_splits_the_weight_in_thirds() -> None:
    np.testing.assert_allclose(tripod_weights(POINTS.mean(axis=0, keepdims=True)), [[1 / 3] * 3], atol=1e-12)


def test_a_point_on_an_edge_splits_between_its_two_ends() -> None:
    # Halfway between the two balls: nothing on the big toe.
    mid = 0.5 * (POINTS[0] + POINTS[1])
    np.testing.assert_allclose(tripod_weights(mid[None]), [[0.5, 0.5, 0.0]], atol=1e-12)


@pytest.mark.parametrize(
    "point",
    [(0.5, -1.0), (0.2, 0.0), (2.0, 0.0), (0.7, 0.6), (-3.0, 5.0)],
    ids=["far_outside", "behind_the_balls", "beyond_the_toes", "far_inside", "far_away"],
)
def test_a_point_outside_is_clipped_and_renormalised(point: tuple[float, float]) -> None:
    weights = tripod_weights(np.array([point]))
    assert np.all(weights >= 0.0)
    assert weights.sum() == pytest.approx(1.0)
    # At least one point gets nothing: the point lies beyond the side opposite it.
    assert weights.min() == 0.0


def test_weights_beyond_the_toes_go_to_the_big_toe() -> None:
    np.testing.assert_allclose(tripod_weights(np.array([[2.0, 0.1]])), [[0.0, 0.0, 1.0]], atol=1e-12)


def test_a_centre_of_mass_behind_the_ball_line_splits_between_the_balls_by_its_side() -> None:
    # The programme's tripod is the forefoot's (inner ball, outer ball, big toe); a standing centre of mass lies
    # behind it, over the midfoot, so its weight goes to the ball line, shared by how far medial it sits.
    medial, lateral = tripod_weights(np.array([[0.45, 0.08], [0.45, -0.12]]))
    assert medial[0] > medial[1] and lateral[1] > lateral[0]
    assert medial[2] == lateral[2] == 0.0


# --- foot coordinates ---------------------------------------------------------------------------------

FOOT_M = 0.25  # foot length used to scale, metres
TOE_M = 0.2  # heel-to-toe landmark distance, metres (MediaPipe's foot is shorter than the real one)


def _world_pose(stance: str, com: np.ndarray, toe_dir: np.ndarray) -> np.ndarray:
    """(1, 33, 3): every landmark at `com` except the stance foot's heel (origin) and toe (TOE_M along toe_dir,
    a ground-plane direction), and the hips either side of `com` along x with the stance hip on the -x side."""
    p = np.tile(com, (1, lm.N_LANDMARKS, 1)).astype(np.float64)
    p[0, lm.HEEL[stance]] = 0.0
    p[0, lm.FOOT_INDEX[stance]] = TOE_M * toe_dir
    p[0, lm.HIP[stance]] = com - [0.1, 0.0, 0.0]
    p[0, lm.HIP[lm.other(stance)]] = com + [0.1, 0.0, 0.0]
    return p


def _expected_world_com(com: np.ndarray, toe_dir: np.ndarray) -> np.ndarray:
    # Symmetric hips cancel; everything else sits at `com` except the stance foot, whose centre is halfway
    # from heel to toe: the whole body's centre of mass is the mass-weighted mean of the two.
    return (1 - FOOT) * com + FOOT * 0.5 * TOE_M * toe_dir


@pytest.mark.parametrize("stance", ["left", "right"])
def test_projection_world_toe_along_z(stance: str) -> None:
    # Heel at the origin, toe along +z: fore-aft is z, and with the other hip at +x the big-toe side is +x.
    com = np.array([0.03, -0.9, 0.10])
    toe = np.array([0.0, 0.0, 1.0])
    fore_aft, medial = projection_world(_world_pose(stance, com, toe), stance, FOOT_M)[0]
    expected = _expected_world_com(com, toe)
    assert fore_aft == pytest.approx(expected[2] / FOOT_M)
    assert medial == pytest.approx(expected[0] / FOOT_M)
    assert medial > 0  # the centre of mass leans towards the other leg: the big-toe side


def test_projection_world_toe_along_x_and_the_hips_choose_the_medial_side() -> None:
    # Toe along +x: fore-aft is x; medial is along z, its sign set by where the other hip is.
    com = np.array([0.08, -0.9, 0.02])
    toe = np.array([1.0, 0.0, 0.0])
    pose = _world_pose("left", com, toe)
    pose[0, lm.HIP["left"]] = com - [0.0, 0.0, 0.1]
    pose[0, lm.HIP["right"]] = com + [0.0, 0.0, 0.1]  # the other hip towards +z
    expected = _expected_world_com(com, toe)
    np.testing.assert_allclose(projection_world(pose, "left", FOOT_M)[0], expected[[0, 2]] / FOOT_M)
    pose[0, lm.HIP["left"]], pose[0, lm.HIP["right"]] = com + [0.0, 0.0, 0.1], com - [0.0, 0.0, 0.1]
    np.testing.assert_allclose(
        projection_world(pose, "left", FOOT_M)[0], np.array([expected[0], -expected[2]]) / FOOT_M
    )


FOOT_PX = 90.0


def _picture(stance: str, com_x: float, foot_x: float, other_hip_dx: float) -> np.ndarray:
    """(1, 33, 2): every landmark at (com_x, 400) except the stance foot (ankle, heel, toe at foot_x) and the hips
    either side of com_x, the other hip other_hip_dx from it."""
    p = np.tile([com_x, 400.0], (1, lm.N_LANDMARKS, 1)).astype(np.float64)
    p[0, list(lm.FOOT[stance]), 0] = foot_x
    p[0, list(lm.FOOT[stance]), 1] = 680.0
    p[0, lm.HIP[stance], 0] = com_x - other_hip_dx / 2
    p[0, lm.HIP[lm.other(stance)], 0] = com_x + other_hip_dx / 2
    return p


# Of the body's mass, the stance foot (at the foot's axis) and 0.433 of the stance shank (its centre lies that
# far from the knee, at com_x, towards the ankle, at foot_x) do not sit at com_x.
AT_COM = 1 - FOOT - SHANK[0] * SHANK[1]


@pytest.mark.parametrize("stance", ["left", "right"])
@pytest.mark.parametrize("towards_free_side", [True, False])
def test_projection_image_front_view_medial_sign(stance: str, towards_free_side: bool) -> None:
    # The other (free) hip 60 px to -x; the mass 30 px from the foot towards it, or away from it.
    shift = -30.0 if towards_free_side else 30.0
    proj = projection_image(_picture(stance, 500.0 + shift, 500.0, -60.0), stance, FOOT_PX, "front")[0]
    assert np.isnan(proj[0])  # a front view cannot see fore-aft
    assert (proj[1] > 0) == towards_free_side
    assert proj[1] == pytest.approx(AT_COM * abs(shift) / FOOT_PX * (1 if towards_free_side else -1))


def test_projection_image_front_view_of_the_synthetic_figure() -> None:
    # The figure stands on its left leg (+x side); moving its upper body towards the free (right, -x) side from
    # balanced moves the centre of mass towards the big-toe side.
    sway = balanced_sway_px()
    for extra, sign in ((0.0, 0), (-20.0, 1), (20.0, -1)):
        xy = figure_xy(3, lift_right=0.5, sway_px=sway + extra)
        medial = projection_image(xy, "left", FOOT_PX, "front")[:, 1]
        assert np.all(np.sign(np.round(medial, 6)) == sign), extra


@pytest.mark.parametrize("toe_dx", [40.0, -40.0], ids=["toes_to_plus_x", "toes_to_minus_x"])
def test_projection_image_side_view_fore_aft(toe_dx: float) -> None:
    heel_x, com_x = 500.0, 500.0 + np.sign(toe_dx) * 36.0  # the mass 36 px in front of the heel
    p = np.tile([com_x, 400.0], (1, lm.N_LANDMARKS, 1)).astype(np.float64)
    p[0, lm.HEEL["left"], 0] = heel_x
    p[0, lm.FOOT_INDEX["left"], 0] = heel_x + toe_dx
    proj = projection_image(p, "left", FOOT_PX, "side")[0]
    assert np.isnan(proj[1])  # a side view cannot see medial-lateral
    # The foot's own centre (halfway from heel to toe, FOOT of the mass) sits 20 px in front of the heel.
    expected = ((1 - FOOT) * 36.0 + FOOT * 20.0) / FOOT_PX
    assert proj[0] == pytest.approx(expected)


# --- the estimate on a synthetic hold ------------------------------------------------------------------

T = clip_times(14.0)
VIEWS = {"front": Figure(), "side": Figure(shoulder_per_trunk=0.1)}


def _estimate(view: str, seed: int = 0) -> TripodEstimate:
    figure = VIEWS[view]
    lift = lift_profile(T, 1.0, 13.0, 0.5)
    xy = figure_xy(len(T), lift_right=lift, sway_px=balanced_sway_px(figure=figure), figure=figure)
    track = track_from_xy(T, xy, jitter_px=0.3, seed=seed, figure=figure)
    return estimate_tripod(trial_window(track, hold_trial(T)), view)


@functools.cache
def _cached_estimate(view: str) -> TripodEstimate:
    return _estimate(view)


@pytest.fixture(params=list(VIEWS))
def estimate(request: pytest.FixtureRequest) -> tuple[str, TripodEstimate]:
    return request.param, _cached_estimate(request.param)


def test_estimate_on_a_synthetic_hold(estimate: tuple[str, TripodEstimate]) -> None:
    view, e = estimate
    d = e.to_dict()
    json.dumps(d, allow_nan=False)  # every number is finite
    assert set(e.split) == set(e.split_sd) == set(TRIPOD)
    assert sum(e.split.values()) == pytest.approx(1.0)
    assert all(0.0 <= v <= 1.0 for v in e.split.values())
    assert all(v >= 0.0 for v in e.split_sd.values())
    # Landmark jitter makes the projection uncertain, but by far less than a foot length.
    assert 0.0 < e.per_frame_sd < 0.1
    assert e.fore_aft_sd >= 0.0 and e.medial_sd >= 0.0
    assert 0.0 <= e.time_outside <= 1.0
    assert e.projection.ndim == 2 and e.projection.shape[1] == 2
    assert np.all(np.isfinite(e.projection))
    assert e.less_reliable_axis == {"front": "fore_aft", "side": "medial"}[view]
    if view == "front":
        # Balanced by construction: the mass is over the foot's axis in the picture.
        assert e.mean_medial == pytest.approx(0.0, abs=0.02)


def test_estimate_is_deterministic() -> None:
    # The Monte-Carlo draws are seeded: a second run of the same hold gives the same numbers to the last bit.
    a, b = _cached_estimate("front"), _estimate("front")
    assert a.to_dict() == b.to_dict()
    assert a.split_sd == b.split_sd and a.per_frame_sd == b.per_frame_sd
    np.testing.assert_array_equal(a.projection, b.projection)
