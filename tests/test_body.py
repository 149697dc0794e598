"""balance.measure.body: segment model centre of mass, leg length and tilt on figures with known geometry."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from balance.measure import body
from balance.pose import landmarks as lm

from .synthetic import Figure, figure_xy, world_from_image


@pytest.fixture
def standing() -> np.ndarray:
    """(1, 33, 2) the default figure standing on both feet: left-right symmetric about x = 640."""
    return figure_xy(1)


def test_mass_fractions_sum_to_one() -> None:
    per_side = body.UPPER_ARM[0] + body.FOREARM[0] + body.HAND + body.THIGH[0] + body.SHANK[0] + body.FOOT
    assert body.HEAD_NECK + body.TRUNK + 2 * per_side == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("moved", "fraction"),
    [
        # Only the ears move: the head-neck segment (centre at the ear canal) carries 8.1 % of the mass.
        (("left_ear", "right_ear"), body.HEAD_NECK),
        # Heel and toe: the foot's centre moves with them, 1.45 %.
        (("left_heel", "left_foot_index"), body.FOOT),
        # Wrist with the hand landmarks: the hand (0.6 %) plus the forearm centre, 43 % of the way to the wrist.
        (("left_wrist", "left_index", "left_pinky"), body.HAND + body.FOREARM[0] * body.FOREARM[1]),
        # Knee: thigh centre 43.3 % of the way down from the hip, shank centre 56.7 % of the way up from the ankle.
        (("left_knee",), body.THIGH[0] * body.THIGH[1] + body.SHANK[0] * (1 - body.SHANK[1])),
    ],
)
def test_com_moves_by_the_segment_share_of_the_moved_landmarks(
    standing: np.ndarray, moved: tuple[str, ...], fraction: float
) -> None:
    # The COM is linear in the landmarks, so moving some of them by d moves it by (their mass share) * d;
    # this checks the Winter fractions and segment-centre positions, not just that they are normalised.
    d = np.array([10.0, -4.0])
    shifted = standing.copy()
    for name in moved:
        shifted[:, lm.INDEX[name]] += d
    assert_allclose(body.centre_of_mass(shifted) - body.centre_of_mass(standing), fraction * d[None], rtol=1e-12)


def test_com_of_a_symmetric_figure_lies_on_the_midline(standing: np.ndarray) -> None:
    com = body.centre_of_mass(standing)
    assert com.shape == (1, 2)
    assert com[0, 0] == pytest.approx(Figure().centre_x, abs=1e-9)
    # and between the shoulders and the feet, vertically
    assert Figure().shoulder_y < com[0, 1] < Figure().floor_y


def test_com_of_the_world_figure_is_on_its_midline() -> None:
    world = world_from_image(figure_xy(1))
    assert body.centre_of_mass(world)[0, 0] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("dims", [2, 3])
def test_com_translates_with_the_body(dims: int) -> None:
    rng = np.random.default_rng(0)
    p = rng.normal(size=(5, lm.N_LANDMARKS, dims))  # any pose at all
    v = rng.normal(size=dims)
    assert_allclose(body.centre_of_mass(p + v), body.centre_of_mass(p) + v, atol=1e-12)


def test_hip_and_shoulder_centres(standing: np.ndarray) -> None:
    f = Figure()
    assert_allclose(body.hip_centre(standing), [[f.centre_x, f.hip_y]])
    assert_allclose(body.shoulder_centre(standing), [[f.centre_x, f.shoulder_y]])


def test_leg_length_sums_the_two_segments() -> None:
    p = np.zeros((1, lm.N_LANDMARKS, 2))
    p[0, lm.HIP["left"]] = (0.0, 0.0)
    p[0, lm.KNEE["left"]] = (3.0, 4.0)  # thigh 5
    p[0, lm.ANKLE["left"]] = (3.0, 10.0)  # shank 6
    assert body.leg_length(p, "left") == pytest.approx([11.0])
    assert body.leg_length(p, "right") == pytest.approx([0.0])  # the other side's landmarks are all at 0


@pytest.mark.parametrize("lift", [0.0, 0.5])
def test_leg_length_of_the_synthetic_figure(lift: float) -> None:
    f = Figure(leg_px=250.0)
    xy = figure_xy(3, lift_right=lift, figure=f)
    for side in lm.SIDES:
        assert_allclose(body.leg_length(xy, side), f.leg_px)
    assert_allclose(body.leg_length(world_from_image(xy, f), "left"), f.leg_m)


@pytest.mark.parametrize(
    ("direction", "degrees"),
    [
        ((0.0, -1.0), 0.0),  # straight up in the picture
        ((1.0, -1.0), 45.0),  # leaning towards +x
        ((-1.0, -1.0), -45.0),
        ((1.0, 0.0), 90.0),
        ((0.0, 1.0), 180.0),  # pointing down
    ],
)
def test_tilt_deg(direction: tuple[float, float], degrees: float) -> None:
    a = np.array([[100.0, 200.0]])
    b = a + 50.0 * np.array([direction])
    assert body.tilt_deg(a, b) == pytest.approx([degrees])


def test_trunk_tilt_of_the_standing_figure_is_zero(standing: np.ndarray) -> None:
    assert body.tilt_deg(body.hip_centre(standing), body.shoulder_centre(standing)) == pytest.approx([0.0])
