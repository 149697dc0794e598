"""Which clip is the front view and which the side, and how far apart the two cameras look.

The front view is the one whose shoulders look wider against the trunk (measure/trial.py's view ratio: about
0.6-0.75 facing the camera, under 0.3 side-on). The angle between the cameras comes from MediaPipe's 3-D
landmarks: each view gives the body's turn against its own camera (the line from the right to the left hip and
shoulder in the world landmarks' ground plane), and the difference of the two turns is the angle between the
cameras. Two cameras looking along nearly the same line (two front views, or front and back) see the same axis
twice, and a 2-D stabilogram needs two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from balance.errors import PairError
from balance.measure.trial import FRONT_MIN_RATIO, SIDE_MAX_RATIO
from balance.pose import landmarks as lm
from balance.pose.estimate import PoseTrack

# Two horizontal camera axes closer than this to parallel (or antiparallel) leave the second axis at under
# sin(30 deg) = half its share of the other axis: the "forward-backward" trace would be mostly side to side.
MIN_SEPARATION_DEG = 30.0
# View ratios closer than this cannot order two views: the four Pose2Sim cameras, 40 to 160 degrees apart, give
# 0.51-0.56 over the hold (the subject turns with the swing; benchmarks/two_view.py).
ALIKE_RATIO = 0.1


@dataclass(frozen=True)
class Pairing:
    front_ratio: float
    side_ratio: float
    swapped: bool  # the clips were given the other way round: the second one is the front view
    separation_deg: float  # angle between the cameras' horizontal picture axes, folded into 0-90
    separation_sd_deg: float  # spread of the per-frame estimate (SD)
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "front_view_ratio": round(self.front_ratio, 3),
            "side_view_ratio": round(self.side_ratio, 3),
            "swapped": self.swapped,
            "separation_deg": round(self.separation_deg, 1),
            "separation_sd_deg": round(self.separation_sd_deg, 1),
            "note": self.note,
            "method": (
                "front = the view with the larger shoulder/trunk ratio; separation from the body's turn against "
                "each camera in MediaPipe's world landmarks (hips and shoulders), 90 = perpendicular cameras"
            ),
            "units": {"separation_deg": "deg", "separation_sd_deg": "deg"},
        }


def body_turn_deg(track: PoseTrack, frames: slice) -> np.ndarray:
    """Per frame, the direction of the subject's right-to-left line in the camera's ground plane, degrees."""
    w = track.world[frames]
    v = (w[:, lm.HIP["left"]] - w[:, lm.HIP["right"]]) + (w[:, lm.SHOULDER["left"]] - w[:, lm.SHOULDER["right"]])
    return np.degrees(np.arctan2(v[:, 2], v[:, 0]))


def separation(front: np.ndarray, side: np.ndarray) -> tuple[float, float]:
    """Angle between the cameras' axes folded into 0-90 degrees (front/back and left/right give the same axis
    pair) and its per-frame SD, from the body's turn seen by each over the same instants."""
    d = np.radians(front - side)
    d = d[np.isfinite(d)]
    if len(d) == 0:
        return math.nan, math.nan
    # Doubling the angle makes a line's two directions one (axial data); the mean of the doubled angle, halved.
    c, s = np.mean(np.cos(2 * d)), np.mean(np.sin(2 * d))
    mean = 0.5 * math.degrees(math.atan2(s, c))
    length = min(1.0, math.hypot(c, s))
    sd = 0.5 * math.degrees(math.sqrt(max(0.0, -2 * math.log(length)))) if length > 0 else 90.0
    return abs(mean), sd


def view_class(ratio: float) -> str:
    return "front" if ratio >= FRONT_MIN_RATIO else "side" if ratio <= SIDE_MAX_RATIO else "oblique"


def pair_views(first_ratio: float, second_ratio: float, first_name: str, second_name: str) -> tuple[bool, str]:
    """(swapped: the second clip is the front view, a note when the ratios cannot tell the views apart)."""
    if view_class(first_ratio) == view_class(second_ratio) or abs(first_ratio - second_ratio) < ALIKE_RATIO:
        return False, (
            f"the shoulder/trunk ratio does not tell the views apart (both {view_class(first_ratio)}: {first_name} "
            f"{first_ratio:.2f}, {second_name} {second_ratio:.2f}): {first_name}, given first, is taken as the "
            "front view"
        )
    return second_ratio > first_ratio, ""


def check_separation(sep: float, sd: float, front_name: str, side_name: str) -> None:
    """PairError when the two cameras look along nearly one line (they would measure the same axis twice)."""
    if math.isfinite(sep) and sep < MIN_SEPARATION_DEG:
        raise PairError(
            f"{front_name} and {side_name} look at the person along nearly the same line ({sep:.0f} +- {sd:.0f} deg "
            f"apart, at least {MIN_SEPARATION_DEG:g} needed): two front views (or front and back) measure the same "
            "axis twice",
            "Film the second camera from the person's side, at right angles to the first",
            option="side",
        )
