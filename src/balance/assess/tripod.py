"""Estimate how the weight sits over the stance foot's tripod from body geometry (not pressure).

A foot model from heel and toe landmarks places the tripod points; the centre of mass is projected onto it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from balance.measure.body import LEG_LENGTH_PER_HEIGHT, centre_of_mass, leg_length
from balance.measure.signals import clean
from balance.measure.trial import Window
from balance.pose import landmarks as lm

# Tripod points in foot coordinates: (fraction of foot length from the heel along the heel-to-toe-tip
# axis, fraction of foot length towards the big-toe side). MediaPipe's foot_index is the tip of the
# second toe, close to the foot's length. The first and fifth metatarsal heads sit on the oblique "ball
# line" at about 72 % and 63 % of foot length, and the ball is about 0.39 foot lengths wide (Hawes &
# Sovak 1994, Ergonomics 37:1213, "Quantitative morphology of the human foot in a North American
# population"; the same ball-line proportions are used for shoe lasts); the heads' centres lie inside the
# outline, about 0.13 medial and 0.17 lateral of the heel-to-second-toe axis. The hallux tip is level
# with the second toe's tip, 0.10 foot lengths medial.
TRIPOD = {
    "inner_ball": (0.72, 0.13),  # first metatarsal head
    "outer_ball": (0.63, -0.17),  # fifth metatarsal head
    "big_toe": (1.00, 0.10),  # hallux tip
}
# Foot length 0.152 x height and hip-knee-ankle 0.491 x height (Winter 2009, Fig. 4.1, after Drillis &
# Contini 1966): the foot is 0.31 leg lengths.
FOOT_PER_LEG = 0.152 / LEG_LENGTH_PER_HEIGHT
# Monte-Carlo draws for the uncertainty: landmarks moved by their own measured jitter.
N_DRAWS = 40
SEED = 0

CAVEAT = (
    "estimate from body geometry (centre of mass from a segment model over a foot model built from heel "
    "and toe landmarks with anthropometric proportions), not a pressure measurement. The axis the camera "
    "sees (medial-lateral in a front view, fore-aft in a side view) comes from the picture; the other comes "
    "from MediaPipe's monocular depth and is much less reliable. The split gives the weight to the nearest "
    "side of the tripod when the projection lies outside it."
)


@dataclass(frozen=True)
class TripodEstimate:
    split: dict[str, float]  # inner_ball, outer_ball, big_toe: mean share, sums to 1
    split_sd: dict[str, float]  # how much the split moves when landmarks move by their jitter
    mean_fore_aft: float  # centre-of-mass projection, fraction of foot length from the heel (1 = toe tip)
    mean_medial: float  # fraction of foot length towards the big-toe side (+) or the little-toe side (-)
    fore_aft_sd: float
    medial_sd: float
    per_frame_sd: float  # typical frame-to-frame uncertainty of the projection, foot lengths
    time_outside: float  # share of time the projection lies outside the tripod triangle
    less_reliable_axis: str  # "fore_aft" (front view) or "medial" (side view) or "both" (oblique)
    projection: np.ndarray  # (N, 2) fore-aft, medial per analysed sample (for plots)

    def to_dict(self) -> dict[str, Any]:
        return {
            "split": {k: round(v, 3) for k, v in self.split.items()},
            "split_sd": {k: round(v, 3) for k, v in self.split_sd.items()},
            "mean_fore_aft": round(self.mean_fore_aft, 3),
            "mean_medial": round(self.mean_medial, 3),
            "fore_aft_sd": round(self.fore_aft_sd, 3),
            "medial_sd": round(self.medial_sd, 3),
            "per_frame_sd": round(self.per_frame_sd, 3),
            "time_outside_tripod": round(self.time_outside, 3),
            "less_reliable_axis": self.less_reliable_axis,
            "tripod_points": {k: list(v) for k, v in TRIPOD.items()},
            "units": {
                "split": "share of the time-averaged weight estimate",
                "mean_fore_aft": "foot lengths from the heel",
                "mean_medial": "foot lengths, + towards the big toe",
                "time_outside_tripod": "fraction of time",
            },
            "estimate": CAVEAT,
        }


def _medial_sign(p: np.ndarray, stance: str) -> np.ndarray:
    """+1 where the big-toe side of the stance foot is towards +x: it faces the other (free-side) hip."""
    return np.sign(np.nanmean(p[:, lm.HIP[lm.other(stance)], 0] - p[:, lm.HIP[stance], 0]))


def projection_world(world: np.ndarray, stance: str, foot_m: float) -> np.ndarray:
    """(N, 2) fore-aft and medial position of the centre of mass over the foot, foot lengths, from world landmarks.

    World y is vertical (MediaPipe world landmarks, y down), so the ground plane is (x, z). The heel-to-toe
    direction comes from the landmarks, but their foot is about half a real foot long (0.10-0.13 m against
    0.24 m expected for the measured legs in the sample clips), so lengths use the anthropometric foot.
    """
    heel, toe = world[:, lm.HEEL[stance]][:, [0, 2]], world[:, lm.FOOT_INDEX[stance]][:, [0, 2]]
    u = (toe - heel) / np.linalg.norm(toe - heel, axis=1, keepdims=True)
    w = np.column_stack([-u[:, 1], u[:, 0]])
    hips = (world[:, lm.HIP[lm.other(stance)]] - world[:, lm.HIP[stance]])[:, [0, 2]]
    w *= np.sign(np.sum(hips * w, axis=1))[:, None]
    rel = centre_of_mass(world)[:, [0, 2]] - heel
    return np.column_stack([np.sum(rel * u, axis=1), np.sum(rel * w, axis=1)]) / foot_m


def projection_image(xy: np.ndarray, stance: str, foot_px: float, view: str) -> np.ndarray:
    """(N, 2) the same from the picture, meaningful only along the axis the view shows (NaN on the other).

    Front view: the foot points at the camera, so its axis is the mean x of heel, ankle and toe and the
    centre of mass's x offset from it is the medial position. Side view: the heel-to-toe line lies across
    the picture and the centre of mass's x along it is the fore-aft position.
    """
    com_x = centre_of_mass(xy)[:, 0]
    out = np.full((len(xy), 2), np.nan)
    if view == "front":
        axis_x = xy[:, list(lm.FOOT[stance]), 0].mean(axis=1)
        out[:, 1] = (com_x - axis_x) * _medial_sign(xy, stance) / foot_px
    elif view == "side":
        heel_x, toe_x = xy[:, lm.HEEL[stance], 0], xy[:, lm.FOOT_INDEX[stance], 0]
        out[:, 0] = (com_x - heel_x) * np.sign(np.nanmean(toe_x - heel_x)) / foot_px
    return out


def tripod_weights(proj: np.ndarray) -> np.ndarray:
    """(N, 3) barycentric weights of each projection in the tripod triangle (inner, outer, big toe).

    Outside the triangle, negative weights are set to zero and the rest renormalised: the weight is
    given to the nearest side of the tripod.
    """
    a, b, c = (np.array(p) for p in TRIPOD.values())
    m = np.column_stack([a - c, b - c])
    lam = np.linalg.solve(m, (proj - c).T).T
    bary = np.column_stack([lam, 1 - lam.sum(axis=1)])
    clipped = np.clip(bary, 0.0, None)
    return clipped / clipped.sum(axis=1, keepdims=True)


def _inside(proj: np.ndarray) -> np.ndarray:
    a, b, c = (np.array(p) for p in TRIPOD.values())
    lam = np.linalg.solve(np.column_stack([a - c, b - c]), (proj - c).T).T
    return np.all(lam >= 0, axis=1) & (lam.sum(axis=1) <= 1)


def jitter_sd(t: np.ndarray, x: np.ndarray, valid: np.ndarray, fs: float) -> np.ndarray:
    """Per-column landmark jitter: robust SD of the raw signal minus its low-passed version."""
    grid, smooth, _ = clean(t, x, valid, fs)
    raw = np.column_stack([np.interp(grid, t[valid], col[valid]) for col in x.T])
    return 1.4826 * np.median(np.abs(raw - smooth - np.median(raw - smooth, axis=0)), axis=0)


def _projection(w: Window, xy: np.ndarray, world: np.ndarray, view: str, scale: tuple[float, float]) -> np.ndarray:
    """Per-sample (fore-aft, medial) on the metrics grid: the picture's axis where the view shows it,
    the world landmarks' estimate for the other one, cleaned and low-passed like every trace."""
    foot_px, foot_m = scale
    proj = projection_world(world, w.stance, foot_m)
    image = projection_image(xy, w.stance, foot_px, view)
    observed = np.isfinite(image)
    proj[observed] = image[observed]
    _, smooth, _ = clean(w.t, proj, w.valid, w.fs)
    return smooth


def estimate_tripod(w: Window, view: str) -> TripodEstimate:
    foot_px = FOOT_PER_LEG * float(np.nanmedian(leg_length(w.xy, w.stance)))
    foot_m = FOOT_PER_LEG * float(np.nanmedian(leg_length(w.world, w.stance)))
    proj = _projection(w, w.xy, w.world, view, (foot_px, foot_m))
    weights = tripod_weights(proj)
    # Uncertainty: move every landmark by its own measured jitter, independently per frame, and redo it.
    n = len(w.t)
    sd_img = jitter_sd(w.t, w.xy.reshape(n, -1), w.valid, w.fs).reshape(-1, 2)
    sd_world = jitter_sd(w.t, w.world.reshape(n, -1), w.valid, w.fs).reshape(-1, 3)
    rng = np.random.default_rng(SEED)
    draws_split, draws_mean, spread = [], [], []
    for _ in range(N_DRAWS):
        xy = w.xy + rng.normal(size=w.xy.shape) * sd_img
        world = w.world + rng.normal(size=w.world.shape) * sd_world
        p = _projection(w, xy, world, view, (foot_px, foot_m))
        draws_split.append(tripod_weights(p).mean(axis=0))
        draws_mean.append(p.mean(axis=0))
        spread.append(np.linalg.norm(p - proj, axis=1))
    split_sd = np.std(draws_split, axis=0)
    mean_sd = np.std(draws_mean, axis=0)
    names = tuple(TRIPOD)
    return TripodEstimate(
        split={k: float(v) for k, v in zip(names, weights.mean(axis=0), strict=True)},
        split_sd={k: float(v) for k, v in zip(names, split_sd, strict=True)},
        mean_fore_aft=float(proj[:, 0].mean()),
        mean_medial=float(proj[:, 1].mean()),
        fore_aft_sd=float(mean_sd[0]),
        medial_sd=float(mean_sd[1]),
        per_frame_sd=float(np.sqrt(np.mean(np.square(spread)))),
        time_outside=float(1 - _inside(proj).mean()),
        less_reliable_axis={"front": "fore_aft", "side": "medial"}.get(view, "both"),
        projection=proj,
    )
