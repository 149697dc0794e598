"""The camera's true vertical: how far the picture is rolled, from what the clip shows, and the correction.

A phone propped up askew rolls the picture; every side-to-side figure (the centre of mass over the foot,
trunk lean, pelvic tilt) would take the roll for the body's own lean. The roll is estimated, in order of
preference, from:

1. two-leg standing in the clip (before lift-off, after touch-down): the line from the midpoint of the ankles
   to the midpoint of the shoulders is upright in quiet two-leg stance;
2. else the one-leg holds themselves: averaged over a steady hold the centre of mass lies over the stance
   foot (the centre of pressure oscillates about it and stays inside the foot; Winter 1995, Gait Posture
   3:193), so the line from the foot's centre to the mean centre of mass is upright to within the foot's
   half-width. This uses up the side-to-side position of the mass over the foot: with it, that position
   is not measured (the tripod says so).

Pure functions over landmark arrays; the correction rotates landmarks, never the picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from balance.measure.body import centre_of_mass, leg_length, shoulder_centre, tilt_deg
from balance.pose import landmarks as lm

# Quiet two-leg stance: the ankles-to-shoulders line is upright to about 1 degree in the frontal plane
# (medio-lateral sway of the centre of mass in quiet stance is a few millimetres at about 1 m height;
# Winter 1995, Gait Posture 3:193) and leans forward about 2 degrees in the sagittal plane (the centre of
# mass sits 3-6 cm in front of the ankle). The allowances below are twice that: the tool's choice.
POSTURE_SD_DEG = {"front": 1.5, "oblique": 2.5, "side": 4.0}
MIN_STANDING_S = 0.5
# Two-leg frames count only while both feet rest: a foot moving faster than this (leg lengths per second;
# the stance rule's planted-foot line, stance/trials.py) is stepping or crossing, and the ankles' midpoint
# is then not under the body.
RESTING_FOOT_SPEED = 0.5
# ... and while the body axis itself is still: shifting the weight onto one leg before a lift-off, or landing
# after a touch-down, turns the axis at 10-15 degrees a second (the real clips' transitions), quiet standing
# at under 2. Frames turning faster than this are a transition, not an upright reference.
QUIET_AXIS_DEG_S = 4.0
# The stance foot is 0.39 foot lengths wide at the ball (Hawes & Sovak 1994) and a foot is 0.31 leg lengths
# (Winter 2009): the mean centre of mass lies anywhere within +-0.06 leg lengths of the foot's axis.
FOOT_HALF_WIDTH_LEGS = 0.195 * 0.31
MIN_VISIBILITY = 0.5


@dataclass(frozen=True)
class Vertical:
    """How far the picture's vertical is rolled from the true one (+: the true vertical leans towards +x at
    the top of the picture, i.e. the camera is rolled anticlockwise), and how that was decided."""

    roll_deg: float
    sd_deg: float
    method: str  # "two_leg_standing" | "steady_hold" | "assumed_level"
    frames: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "roll_deg": round(self.roll_deg, 2),
            "roll_sd_deg": round(self.sd_deg, 2),
            "method": self.method,
            "frames": self.frames,
            "note": METHOD_WORDS[self.method],
            "units": {"roll_deg": "degrees; + = the upright body appears leaning towards +x (picture right)"},
        }


METHOD_WORDS = {
    "two_leg_standing": "camera roll from the body axis (ankles to shoulders) while standing on two legs; "
    "every angle and side-to-side position is corrected for it",
    "steady_hold": "camera roll from the one-leg hold (the mean centre of mass over the stance foot); every "
    "angle is corrected for it, and the side-to-side position of the mass over the foot is then not measured",
    "assumed_level": "no two-leg standing and no steady hold to find the vertical: the camera is assumed level",
}
UNKNOWN_ROLL_SD_DEG = 5.0


def level(p: np.ndarray, roll_deg: float, pivot: np.ndarray | None = None) -> np.ndarray:
    """Landmarks (N, 33, D>=2) turned by -roll about `pivot` (x, y) so the true vertical is the picture's."""
    if roll_deg == 0.0:
        return p
    a = np.radians(roll_deg)
    c, s = np.cos(a), np.sin(a)
    out = p.copy()
    piv = np.zeros(2) if pivot is None else pivot
    dx, dy = p[..., 0] - piv[0], p[..., 1] - piv[1]
    # In picture coordinates (y down) a point at tilt phi from the vertical moves to tilt phi - roll.
    out[..., 0] = piv[0] + dx * c + dy * s
    out[..., 1] = piv[1] + dy * c - dx * s
    return out


def _axis_deg(xy: np.ndarray) -> np.ndarray:
    ankles = 0.5 * (xy[:, lm.ANKLE["left"]] + xy[:, lm.ANKLE["right"]])
    return tilt_deg(ankles, shoulder_centre(xy))


def _feet_resting(xy: np.ndarray, fps: float) -> np.ndarray:
    legs = float(np.nanmedian(leg_length(xy, "left") + leg_length(xy, "right"))) / 2
    resting = np.ones(len(xy), dtype=bool)
    for side in lm.SIDES:
        foot = xy[:, list(lm.FOOT[side])].mean(axis=1)
        speed = np.linalg.norm(np.gradient(foot, axis=0), axis=1) * fps / legs if len(xy) > 1 else np.zeros(len(xy))
        resting &= np.nan_to_num(speed, nan=np.inf) < RESTING_FOOT_SPEED
    return resting


def _axis_still(xy: np.ndarray, fps: float) -> np.ndarray:
    """Frames where the ankles-to-shoulders axis turns slower than QUIET_AXIS_DEG_S (over +-0.25 s)."""
    if len(xy) < 3:
        return np.zeros(len(xy), dtype=bool)
    axis = _axis_deg(xy)
    k = max(1, int(round(0.25 * fps)))
    rate = np.full(len(xy), np.inf)
    rate[k:-k] = np.abs(axis[2 * k :] - axis[: -2 * k]) / (2 * k / fps)
    return np.nan_to_num(rate, nan=np.inf) < QUIET_AXIS_DEG_S


def camera_vertical(
    xy: np.ndarray,
    visibility: np.ndarray,
    state: np.ndarray,
    fps: float,
    holds: list[tuple[slice, str]],
    view: str,
) -> Vertical:
    """The roll of the picture from two-leg standing, else from the steady holds (slice, stance leg)."""
    core = [*lm.FOOT["left"], *lm.FOOT["right"], lm.SHOULDER["left"], lm.SHOULDER["right"]]
    seen = np.all(visibility[:, core] >= MIN_VISIBILITY, axis=1) & np.isfinite(xy[:, 0, 0])
    standing = seen & (state == "both") & _feet_resting(xy, fps) & _axis_still(xy, fps)
    if standing.sum() >= MIN_STANDING_S * fps:
        axis = _axis_deg(xy[standing])
        mad = 1.4826 * float(np.median(np.abs(axis - np.median(axis))))
        # Frames a few apart are not independent; count one per 0.5 s for the standard error.
        n_eff = max(1.0, standing.sum() / max(1.0, 0.5 * fps))
        sd = float(np.hypot(POSTURE_SD_DEG[view], mad / np.sqrt(n_eff)))
        return Vertical(float(np.median(axis)), sd, "two_leg_standing", int(standing.sum()))
    angles, weights, spreads = [], [], []
    for sl, stance in holds:
        p = xy[sl]
        ok = np.isfinite(p[:, 0, 0])
        if ok.sum() < fps:
            continue
        foot = np.nanmean(p[ok][:, list(lm.FOOT[stance])].mean(axis=1), axis=0)
        com = np.nanmean(centre_of_mass(p[ok]), axis=0)
        angles.append(float(tilt_deg(foot[None], com[None])[0]))
        weights.append(int(ok.sum()))
        height = float(np.hypot(*(com - foot)))
        legs = float(np.nanmedian(leg_length(p[ok], stance)))
        spreads.append(np.degrees(np.arctan2(FOOT_HALF_WIDTH_LEGS * legs, height)))
    if angles:
        roll = float(np.average(angles, weights=weights))
        # The mean mass lies anywhere within the foot's half-width: a uniform spread of +-a has SD a / sqrt(3).
        sd = float(max(spreads) / np.sqrt(3))
        return Vertical(roll, sd, "steady_hold", int(sum(weights)))
    return Vertical(0.0, UNKNOWN_ROLL_SD_DEG, "assumed_level", 0)
