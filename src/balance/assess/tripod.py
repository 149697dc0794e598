"""Estimate how the weight sits over the stance foot's tripod from body geometry (not pressure).

A foot model from heel and toe landmarks places the tripod points; the centre of mass is projected onto it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from balance.measure.body import LEG_LENGTH_PER_HEIGHT, centre_of_mass, leg_length, segments
from balance.measure.signals import clean
from balance.measure.trial import Window
from balance.measure.vertical import Vertical
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
# What the side-to-side position's interval counts (foot lengths) is the error of THIS measurement: the landmarks'
# jitter (above), the camera's roll and motion, the body model (below) and how much the same hold's answer moves
# when it is filmed differently:
# - VIEW_SD: the SD of (variant - original) mean side-to-side position over the real clips' front-view trials
#   seen mirrored, tilted 8 degrees, pitched, small, hand-held, face-blurred or with a person walking behind
#   (benchmarks/real_clips.py, "Uncertainty of the tripod" in benchmarks/README.md): what a different camera
#   position, lens and picture quality change in MediaPipe's landmarks of one and the same stance. Measured
#   2026-12-02: SD 0.014, largest 0.047 over the 9 such variants; 0.03 is kept, between the two.
VIEW_SD = 0.03
# - HOLDS_SD is NOT counted: it is the spread of the mean offset across different people's steady holds (RMS
#   0.117-0.149 over the labelled clips, benchmarks/README.md). Where people stand differently that spread is the
#   signal, not an error of each measurement; it is reported beside the answer as how people differ.
HOLDS_SD = 0.15
# - model: segment mass fractions perturbed by 20 % each (Dempster's and de Leva's 1996 tables differ by up to
#   40 % for the thigh and 15 % for the head and trunk; J Biomech 29:1223), and the foot's centre line taken
#   from the heel, the ankle or the toe instead of their mean.
MASS_FRACTION_SD = 0.20
N_MODEL_DRAWS = 20
# - roll: the camera's roll uncertainty (measure/vertical.py) tips the whole body's line over the foot by
#   (height of the centre of mass above the foot) x tan(roll SD).
# The answer: outside / centred / inside when the 95 % interval lies beyond / within the middle band of the
# tripod (flags.py: a quarter of the tripod's width either side of its centre line), else "cannot tell".
Z95 = 1.96
# How far the weight rolls across the foot: the centre of pressure from the inverted-pendulum relation
# COP = COM - (h / g) x COM acceleration (Winter 1995, Gait Posture 3:193; h the mass's height above the ankle),
# along the side-to-side axis a front view sees. Its excursions about their own mean need no vertical and no
# foot model, so they hold where the mean position cannot be told; reported as the 95th percentile of
# |COP - mean|, foot lengths.
GRAVITY = 9.81

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
    medial_sd_total: float = float("nan")  # jitter, roll, model and the real holds' spread together
    uncertainty: dict[str, float] | None = None  # its parts (SD, foot lengths)
    answer: str = "cannot_tell"  # "outside" | "centred" | "inside" | "cannot_tell"
    reason: str = ""
    cop_roll_95: float | None = None  # front view: how far the centre of pressure rolls about its mean, foot lengths
    # The chance that the mean lies outside, in the middle band or inside (normal, mean and medial_sd_total);
    # None where the view cannot place the weight side to side at all.
    probabilities: dict[str, float] | None = None

    @property
    def split_known(self) -> bool:
        """Whether the three-point split may be shown: only where the answer itself places the weight."""
        return self.answer in ("outside", "centred", "inside")

    @property
    def medial_ci95(self) -> tuple[float, float]:
        half = Z95 * self.medial_sd_total
        return (self.mean_medial - half, self.mean_medial + half)

    def answer_words(self) -> str:
        """The programme's question answered in words a runner reads: the likeliest place and what this view
        cannot rule out, then the interval it comes from."""
        lo, hi = self.medial_ci95
        roll = (
            ""
            if self.cop_roll_95 is None
            else f"; the weight rolled up to {self.cop_roll_95:.2f} foot lengths either side of its mean"
        )
        if self.probabilities is None:
            return f"this view cannot tell ({self.reason})"
        p = self.probabilities
        likeliest = max(p, key=lambda k: p[k])
        place = {"outside": "on the outside edge", "centred": "centred", "inside": "on the inside edge"}
        if self.split_known:
            head = f"{place[self.answer]} ({100 * p[self.answer]:.0f} % likely)"
        else:
            # What the interval leaves open, likeliest first; below 5 % a place counts as ruled out.
            others = sorted((k for k in p if k != likeliest and p[k] >= 0.05), key=lambda k: -p[k])
            head = f"most likely {place[likeliest]} ({100 * p[likeliest]:.0f} %)"
            if others:
                head += "; this view cannot rule out " + " or ".join(
                    f"{place[k].replace('on the ', 'the ')} ({100 * p[k]:.0f} %)" for k in others
                )
        return (
            f"{head}; side to side {self.mean_medial:+.2f} foot lengths towards the big toe, 95 % interval {lo:+.2f} "
            f"to {hi:+.2f} (error of this measurement: landmark jitter, camera roll and motion, body model, "
            f"filming){roll}"
        )

    def to_dict(self) -> dict[str, Any]:
        known = self.split_known
        return {
            # The split is shown only where the answer places the weight; else it would read as measured.
            "split": {k: round(v, 3) for k, v in self.split.items()} if known else None,
            "split_sd": {k: round(v, 3) for k, v in self.split_sd.items()} if known else None,
            "probabilities": None
            if self.probabilities is None
            else {k: round(v, 3) for k, v in self.probabilities.items()},
            "people_differ_sd": HOLDS_SD,
            "mean_fore_aft": round(self.mean_fore_aft, 3),
            "mean_medial": round(self.mean_medial, 3),
            "fore_aft_sd": round(self.fore_aft_sd, 3),
            "medial_sd": round(self.medial_sd, 3),
            "per_frame_sd": round(self.per_frame_sd, 3),
            "medial_sd_total": round(self.medial_sd_total, 3),
            "medial_ci95": [round(v, 3) for v in self.medial_ci95],
            "medial_uncertainty": {k: round(v, 3) for k, v in (self.uncertainty or {}).items()},
            "answer": self.answer,
            "answer_words": self.answer_words(),
            "cop_roll_95": None if self.cop_roll_95 is None else round(self.cop_roll_95, 3),
            "reason": self.reason,
            "time_outside_tripod": round(self.time_outside, 3),
            "less_reliable_axis": self.less_reliable_axis,
            "tripod_points": {k: list(v) for k, v in TRIPOD.items()},
            "units": {
                "split": "share of the time-averaged weight estimate; given only where the answer places the weight",
                "probabilities": "chance that the mean side-to-side position lies outside, in the tripod's middle "
                "band, or inside, from the 95 % interval",
                "people_differ_sd": "foot lengths, SD of the mean position across different people's steady holds "
                "(how people differ, not an error of this measurement)",
                "mean_fore_aft": "foot lengths from the heel",
                "mean_medial": "foot lengths, + towards the big toe",
                "medial_sd_total": "foot lengths, SD of the mean side-to-side position: jitter, camera roll and "
                "motion, segment model and filming together (medial_uncertainty)",
                "medial_ci95": "foot lengths, 95 % interval of the mean side-to-side position",
                "cop_roll_95": "foot lengths, 95th percentile of the centre of pressure's side-to-side excursion "
                "about its mean (inverted pendulum: COP = COM - h/g x COM acceleration); front view only",
                "time_outside_tripod": "fraction of time",
            },
            "estimate": CAVEAT,
        }


PLACES = {"outside": "outside", "centred": "centred", "inside": "inside"}


def headline(answer: str | None, probabilities: dict[str, float] | None) -> str:
    """The answer in a few words, the same on the video's inset, the tripod map, the report and the result page:
    the place where the answer places the weight, else the likeliest with its chance, else "this view cannot
    tell"."""
    if answer in PLACES:
        return PLACES[answer]
    if not probabilities:
        return "this view cannot tell"
    likeliest = max(probabilities, key=lambda k: probabilities[k])
    return f"most likely {PLACES[likeliest]} ({100 * probabilities[likeliest]:.0f} %)"


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


def projection_image(
    xy: np.ndarray, stance: str, foot_px: float, view: str, com_x: np.ndarray | None = None, foot: tuple[int, ...] = ()
) -> np.ndarray:
    """(N, 2) the same from the picture, meaningful only along the axis the view shows (NaN on the other).

    Front view: the foot points at the camera, so its axis is the mean x of heel, ankle and toe and the
    centre of mass's x offset from it is the medial position. Side view: the heel-to-toe line lies across
    the picture and the centre of mass's x along it is the fore-aft position.
    """
    com_x = centre_of_mass(xy)[:, 0] if com_x is None else com_x
    out = np.full((len(xy), 2), np.nan)
    if view == "front":
        axis_x = xy[:, list(foot or lm.FOOT[stance]), 0].mean(axis=1)
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


def _model_sd(w: Window, foot_px: float) -> float:
    """SD of the mean side-to-side position over perturbed segment masses and foot centre lines (front view)."""
    rng = np.random.default_rng(SEED)
    parts = segments(w.xy)
    ok = w.valid
    means = []
    for k in range(N_MODEL_DRAWS):
        m = np.array([mass for _, mass, _ in parts]) * np.exp(rng.normal(0, MASS_FRACTION_SD, len(parts)))
        com_x = np.sum([mi * c[:, 0] for mi, (_, _, c) in zip(m, parts, strict=True)], axis=0) / m.sum()
        foot = lm.FOOT[w.stance][k % 3 : k % 3 + 1]  # heel, ankle or toe alone
        means.append(np.nanmean(projection_image(w.xy[ok], w.stance, foot_px, "front", com_x[ok], foot)[:, 1]))
    return float(np.nanstd(means))


def middle_band() -> tuple[float, float]:
    """The tripod's middle band, side to side (foot lengths, + towards the big toe): a quarter of the tripod's
    width either side of its centre line (flags.py). "Centred" means the whole 95 % interval lies within it."""
    centre = float(np.mean([p[1] for p in TRIPOD.values()]))
    margin = 0.25 * (TRIPOD["inner_ball"][1] - TRIPOD["outer_ball"][1])
    return centre - margin, centre + margin


def weight_answer(mean: float, sd: float, view: str, vertical: Vertical) -> tuple[str, str]:
    """Outside / centred / inside / cannot_tell, and why, for the mean side-to-side position and its SD."""
    low, high = middle_band()
    if view != "front":
        return "cannot_tell", (
            f"a {view} view does not show the side-to-side position of the weight; film from the front or from behind"
        )
    if vertical.method == "steady_hold":
        return "cannot_tell", (
            "the camera's true vertical had to be taken from this hold itself (no two-leg standing in the clip), "
            "which uses up the side-to-side position; start the clip standing on both feet for 2 s"
        )
    lo, hi = mean - Z95 * sd, mean + Z95 * sd
    if lo > high:
        return "inside", "the whole 95 % interval lies on the big-toe side of the tripod's middle band"
    if hi < low:
        return "outside", "the whole 95 % interval lies on the little-toe side of the tripod's middle band"
    if low <= lo and hi <= high:
        return "centred", "the whole 95 % interval lies within the tripod's middle band"
    return "cannot_tell", (
        "the 95 % interval reaches both the tripod's middle band and beyond it: one camera in front cannot place "
        "the weight across the foot more finely than that"
    )


def estimate_tripod(
    w: Window, view: str, vertical: Vertical | None = None, camera_error_px: float = 0.0
) -> TripodEstimate:
    """The weight over the foot; `camera_error_px` is how far the camera-motion correction may be off at the
    foot (pose/steady.py), counted in the side-to-side position's error."""
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
    vertical = vertical or Vertical(0.0, 0.0, "assumed_level", 0)
    # Height of the centre of mass above the stance foot, foot lengths: the lever of a roll error.
    ok = w.valid
    foot_y = w.xy[ok][:, list(lm.FOOT[w.stance]), 1].mean(axis=1)
    lever = float(np.nanmedian(foot_y - centre_of_mass(w.xy[ok])[:, 1])) / foot_px if ok.any() else 0.0
    parts = {
        "jitter": float(mean_sd[1]),
        "camera_roll": abs(lever * np.tan(np.radians(vertical.sd_deg))),
        "segment_model": _model_sd(w, foot_px) if view == "front" and ok.any() else 0.0,
        "camera_motion": camera_error_px / foot_px if foot_px > 0 else 0.0,
        "filming": VIEW_SD,
    }
    total = float(np.sqrt(sum(v * v for v in parts.values())))
    mean_medial = float(proj[:, 1].mean())
    said, reason = weight_answer(mean_medial, total, view, vertical)
    chances = None
    if view == "front" and vertical.method != "steady_hold" and total > 0:
        low, high = middle_band()
        below, above = (float(norm.cdf((b - mean_medial) / total)) for b in (low, high))
        chances = {"outside": below, "centred": above - below, "inside": 1.0 - above}
    cop_roll = None
    if view == "front" and len(proj) > 4:
        acc = np.gradient(np.gradient(proj[:, 1], 1 / w.fs), 1 / w.fs)
        cop = proj[:, 1] - lever * foot_m / GRAVITY * acc
        cop_roll = float(np.percentile(np.abs(cop - cop.mean()), 95))
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
        medial_sd_total=total,
        uncertainty=parts,
        answer=said,
        reason=reason,
        cop_roll_95=cop_roll,
        probabilities=chances,
    )
