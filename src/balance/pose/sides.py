"""Repair MediaPipe's left/right label flips so each side keeps its name through the clip.

BlazePose sometimes flips the whole skeleton's sides for a stretch of frames (front/back ambiguity).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from balance.pose import landmarks as lm
from balance.pose.estimate import PoseTrack
from balance.pose.landmarks import NAMES

# Landmark index -> index of the same landmark on the other side (nose maps to itself).
MIRROR = np.array([NAMES.index(n.replace("left", "@").replace("right", "left").replace("@", "right")) for n in NAMES])
# Large, well-separated joints decide whether a frame's sides flipped.
FLIP_PAIRS = np.array([(11, 12), (23, 24), (25, 26), (27, 28)])
# A flip is accepted when matching each joint to the other side's previous position is this much
# cheaper than keeping the labels: real motion between two frames never makes every pair swap places.
FLIP_RATIO = 0.5


# Facing from the feet, which a hidden face does not change: with the camera above the floor, a foot pointing
# at the camera shows its toes lower in the picture than its heel, and one pointing away shows them higher.
# The median over the clip of (toe y - heel y) / leg length beyond +-0.01 decides (about 1 cm for an adult;
# the sample clips give +0.02 to +0.09 facing the camera and -0.02 to -0.06 from behind); else MediaPipe's
# relative depth (toe nearer than heel) beyond +-0.05 leg lengths; else facing stays undecided.
FEET_MIN = 0.01
DEPTH_MIN = 0.05
# Seen from the front the subject's left hip is on the picture's right (+x); in a side view the hips overlap.
# The labels are judged only when the hips are at least this share of the trunk length apart.
MIN_HIP_SPREAD = 0.15


@dataclass(frozen=True)
class Facing:
    """Which way the subject faces and how it was decided; whether MediaPipe's labels were swapped for it."""

    towards_camera: bool | None  # None: undecided (side view, feet hidden)
    method: str  # "feet" (toe below or above heel), "depth" (toe nearer or farther), "undecided"
    evidence: float  # the median cue, leg lengths
    labels_swapped: bool  # the whole clip's left and right were exchanged to agree with the facing

    def to_dict(self) -> dict[str, Any]:
        facing = {True: "towards the camera", False: "away from the camera", None: "undecided"}[self.towards_camera]
        how = {
            "feet": "from the feet: toes lower (nearer the camera) or higher than the heels in the picture",
            "depth": "from MediaPipe's depth of toe and heel (the feet's picture was ambiguous)",
            "undecided": "undecided: MediaPipe's own left/right labels were kept",
        }[self.method]
        return {
            "facing": facing,
            "decided_by": how,
            "evidence_leg_lengths": round(self.evidence, 3),
            "labels_swapped": self.labels_swapped,
            "note": "sides come from the body (feet, hips), not the face, so a hidden face does not swap them",
        }


def decide_facing(track: PoseTrack) -> tuple[bool | None, str, float]:
    """(towards the camera?, method, evidence) from the feet of the whole clip."""
    xy, z = track.image_xy, track.image_z
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        legs = np.nanmedian([np.linalg.norm(xy[:, lm.KNEE[s]] - xy[:, lm.HIP[s]], axis=1) * 2 for s in lm.SIDES])
        rise = np.nanmedian([(xy[:, lm.FOOT_INDEX[s], 1] - xy[:, lm.HEEL[s], 1]) for s in lm.SIDES]) / legs
        depth = np.nanmedian([(z[:, lm.FOOT_INDEX[s]] - z[:, lm.HEEL[s]]) for s in lm.SIDES]) / legs
    if np.isfinite(rise) and abs(rise) >= FEET_MIN:
        return bool(rise > 0), "feet", float(rise)
    if np.isfinite(depth) and abs(depth) >= DEPTH_MIN:
        return bool(depth < 0), "depth", float(depth)
    return None, "undecided", float(rise) if np.isfinite(rise) else 0.0


def _labels_say_towards(xy: np.ndarray) -> bool | None:
    """Whether the left/right labels put the subject's left on the picture's right (facing the camera)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = (xy[:, lm.HIP["left"], 0] - xy[:, lm.HIP["right"], 0]) + (
            xy[:, lm.SHOULDER["left"], 0] - xy[:, lm.SHOULDER["right"], 0]
        )
        trunk = np.linalg.norm(
            xy[:, [lm.SHOULDER["left"], lm.SHOULDER["right"]]].mean(axis=1)
            - xy[:, [lm.HIP["left"], lm.HIP["right"]]].mean(axis=1),
            axis=1,
        )
        ratio = np.nanmedian(spread / (2 * trunk))
    if not np.isfinite(ratio) or abs(ratio) < MIN_HIP_SPREAD:
        return None
    return bool(ratio > 0)


class FlipFollower:
    """Follows the labelling frame by frame: `flipped` toggles when every joint pair swaps places at once.

    Shared by the offline repair below and live recording (live.SideKeeper), which sees one frame at a time.
    """

    def __init__(self) -> None:
        self.flipped = False
        self._prev: np.ndarray | None = None

    def step(self, frame_xy: np.ndarray) -> bool:
        cur = frame_xy[FLIP_PAIRS.ravel()].reshape(-1, 2, 2)
        if np.all(np.isfinite(cur)):
            if self._prev is not None:
                direct = np.linalg.norm(cur - self._prev, axis=2).sum()
                swapped = np.linalg.norm(cur[:, ::-1] - self._prev, axis=2).sum()
                if swapped < FLIP_RATIO * direct:
                    self.flipped = not self.flipped
            self._prev = cur
        return self.flipped


def flipped_frames(xy: np.ndarray) -> np.ndarray:
    """Per frame, True where the labels are flipped relative to the majority labelling of the clip."""
    follower = FlipFollower()
    flipped = np.array([follower.step(frame) for frame in xy], dtype=bool)
    # Continuity only tells flips apart; which labelling is right is MediaPipe's call on most frames.
    valid = np.all(np.isfinite(xy[:, FLIP_PAIRS.ravel(), 0]), axis=1)
    if valid.any() and flipped[valid].mean() > 0.5:
        flipped = ~flipped
    return flipped


def consistent_sides(track: PoseTrack) -> PoseTrack:
    """A new PoseTrack whose sides are consistent over time and agree with the way the subject faces."""
    return repair_sides(track)[0]


def repair_sides(track: PoseTrack) -> tuple[PoseTrack, Facing]:
    """Flips over time repaired by continuity, then the whole clip's labels checked against the facing the
    feet show (MediaPipe's labels lean on the face: with it hidden, a whole clip can come out swapped)."""
    flipped = flipped_frames(track.image_xy)
    fixed = _swap(track, flipped) if flipped.any() else track
    towards, method, evidence = decide_facing(fixed)
    labelled = _labels_say_towards(fixed.image_xy)
    swap = towards is not None and labelled is not None and towards != labelled
    if swap:
        fixed = _swap(fixed, np.ones(len(fixed), dtype=bool))
    return fixed, Facing(towards, method, evidence, swap)


def _swap(track: PoseTrack, flipped: np.ndarray) -> PoseTrack:
    """The track with left and right landmarks exchanged on the `flipped` frames."""

    def fix(a: np.ndarray) -> np.ndarray:
        out = a.copy()
        out[flipped] = a[flipped][:, MIRROR]
        return out

    return replace(
        track,
        image_xy=fix(track.image_xy),
        image_z=fix(track.image_z),
        visibility=fix(track.visibility),
        presence=fix(track.presence),
        world=fix(track.world),
    )
