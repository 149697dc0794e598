"""Body geometry from landmarks: whole-body centre of mass (segment model), segment centres, body scale.

Pure functions over landmark arrays of shape (N, 33, D), D = 2 (image) or 3 (world).
"""

from __future__ import annotations

import numpy as np

from balance.pose import landmarks as lm

# Segment mass fractions and centre-of-mass positions (fraction of the segment length from the
# proximal end), Winter DA (2009) Biomechanics and Motor Control of Human Movement, 4th ed.,
# Table 4.1, after Dempster (1955). Head and neck: centre at the ear canal; trunk: halfway from the
# shoulder (glenohumeral) to the hip (greater trochanter); hand: taken at the centre of the wrist,
# index and pinky landmarks; foot: halfway from the heel to the toe tip (MediaPipe has no malleolus
# to metatarsal-head pair). The fractions sum to 1.
HEAD_NECK = 0.081
TRUNK = 0.497
UPPER_ARM = (0.028, 0.436)
FOREARM = (0.016, 0.430)
HAND = 0.006
THIGH = (0.100, 0.433)
SHANK = (0.0465, 0.433)
FOOT = 0.0145
# Hip-to-knee plus knee-to-ankle as a fraction of standing height: thigh 0.245 H + leg 0.246 H
# (Winter 2009, Fig. 4.1, after Drillis & Contini 1966). Turns a leg length into centimetres.
LEG_LENGTH_PER_HEIGHT = 0.245 + 0.246


def _mid(p: np.ndarray, a: int, b: int) -> np.ndarray:
    return 0.5 * (p[:, a] + p[:, b])


def _along(p: np.ndarray, prox: int, dist: int, frac: float) -> np.ndarray:
    return p[:, prox] + frac * (p[:, dist] - p[:, prox])


def hip_centre(p: np.ndarray) -> np.ndarray:
    return _mid(p, lm.HIP["left"], lm.HIP["right"])


def shoulder_centre(p: np.ndarray) -> np.ndarray:
    return _mid(p, lm.SHOULDER["left"], lm.SHOULDER["right"])


def segments(p: np.ndarray) -> list[tuple[str, float, np.ndarray]]:
    """(name, mass fraction, centre (N, D)) of the 14 segments; names carry the side, e.g. "left_shank"."""
    parts = [
        ("head_neck", HEAD_NECK, _mid(p, 7, 8)),
        ("trunk", TRUNK, 0.5 * (shoulder_centre(p) + hip_centre(p))),
    ]
    for side in lm.SIDES:
        hand = (p[:, lm.WRIST[side]] + p[:, lm.INDEX[f"{side}_index"]] + p[:, lm.INDEX[f"{side}_pinky"]]) / 3
        parts += [
            (f"{side}_upper_arm", UPPER_ARM[0], _along(p, lm.SHOULDER[side], lm.ELBOW[side], UPPER_ARM[1])),
            (f"{side}_forearm", FOREARM[0], _along(p, lm.ELBOW[side], lm.WRIST[side], FOREARM[1])),
            (f"{side}_hand", HAND, hand),
            (f"{side}_thigh", THIGH[0], _along(p, lm.HIP[side], lm.KNEE[side], THIGH[1])),
            (f"{side}_shank", SHANK[0], _along(p, lm.KNEE[side], lm.ANKLE[side], SHANK[1])),
            (f"{side}_foot", FOOT, _mid(p, lm.HEEL[side], lm.FOOT_INDEX[side])),
        ]
    return parts


def centre_of_mass(p: np.ndarray, exclude: tuple[str, ...] = ()) -> np.ndarray:
    """Centre of mass, (N, D), of the whole body, or of what remains without the `exclude` segments."""
    parts = [(m, c) for name, m, c in segments(p) if name not in exclude]
    total = sum(m for m, _ in parts)
    return np.sum([m * c for m, c in parts], axis=0) / total


def mass_of(exclude: tuple[str, ...] = ()) -> float:
    """Mass fraction of the body without the `exclude` segments."""
    return float(sum(m for name, m, _ in segments(np.zeros((1, lm.N_LANDMARKS, 2))) if name not in exclude))


def leg_length(p: np.ndarray, side: str) -> np.ndarray:
    """Hip-knee plus knee-ankle distance per frame, (N,), in the units of p."""
    hip, knee, ankle = p[:, lm.HIP[side]], p[:, lm.KNEE[side]], p[:, lm.ANKLE[side]]
    return np.linalg.norm(knee - hip, axis=1) + np.linalg.norm(ankle - knee, axis=1)


def tilt_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle of the vector a->b from the image vertical, degrees, positive towards +x.

    Image y grows downwards, so "up" is -y.
    """
    d = b - a
    return np.degrees(np.arctan2(d[:, 0], -d[:, 1]))
