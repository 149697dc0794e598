"""Repair MediaPipe's left/right label flips so each side keeps its name through the clip.

BlazePose sometimes flips the whole skeleton's sides for a stretch of frames (front/back ambiguity).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from balance.pose import landmarks as lm
from balance.pose.crowd import bridge, true_runs
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


# Sides are decided per stretch of frames (a Viterbi path over two states per frame: MediaPipe's labels kept or
# exchanged), from the cues below, each in leg lengths so that they weigh alike at any size in the picture:
# - continuity: the hips, shoulders, knees and ankles move little between frames; a labelling that makes every
#   pair jump is the wrong one (the cost of a labelling is how far its joints moved since the frame before);
# - the stance leg: during a one-leg phase the same leg stays lifted (a real change of legs passes through
#   both feet on the floor); a frame pair whose clearly lifted leg changes labels costs STANCE_COST;
# - the hips: facing the camera the subject's left hip is on the picture's right (facing away, on its left),
#   with the facing from the feet (decide_facing), which a hidden face does not change: HIP_WEIGHT per frame
#   and unit of the hips' spread against the trunk, where the spread is clear (>= MIN_HIP_SPREAD);
# - the face: MediaPipe's own labels lean on the face; they are one small vote per frame (FACE_VOTE).
# Exchanging the labels costs SWITCH_COST, so a stretch is swapped only when the cues over it outweigh that.
# The weights are the tool's choice, checked on the blurred, covered and half-blurred variants of the real
# clips (benchmarks/real_clips.py).
SWITCH_COST = 0.5
STANCE_COST = 1.0
LIFTED_LEGS = 0.08  # a leg counts as clearly lifted when its ankle is this much higher than the other
HIP_WEIGHT = 0.3
FACE_VOTE = 0.002
MIXED_MARGIN_S = 0.1
# Seen from the front, frames where the hips and shoulders close up to under this share of their spread over the
# clip (the pose model turning the body side-on for a moment, as when the face is blurred: P5's copies, the
# shoulders 3 px apart instead of 45 for 1 s) are the model's error, not the person's turn, when they last at most
# COLLAPSE_MAX_S; they are bridged as the exchanged ones are. A front view's spread is at least FRONT_SPREAD.
COLLAPSE_SHARE = 0.5
COLLAPSE_MAX_S = 1.5
FRONT_SPREAD = 0.3
CUES = {
    "continuity": "each joint's path kept continuous",
    "stance_leg": "the same leg kept lifted through the one-leg phase",
    "hips": "hips on the side that the facing (from the feet) puts them",
    "face": "MediaPipe's own labels (they lean on the face)",
}


@dataclass(frozen=True)
class Stretch:
    """Frames [start, stop) whose left and right were decided together, from from_s to to_s of the clip."""

    start: int
    stop: int
    from_s: float
    to_s: float
    swapped: bool  # MediaPipe's left and right were exchanged on these frames
    decided_by: tuple[str, ...]  # keys of CUES that favoured the labelling chosen


@dataclass(frozen=True)
class Facing:
    """Which way the subject faces and how it was decided; where MediaPipe's labels were swapped for it."""

    towards_camera: bool | None  # None: undecided (side view, feet hidden)
    method: str  # "feet" (toe below or above heel), "depth" (toe nearer or farther), "undecided"
    evidence: float  # the median cue, leg lengths
    labels_swapped: bool  # MediaPipe's left and right were exchanged on some stretch of the clip
    stretches: tuple[Stretch, ...] = ()
    mixed_frames: int = 0  # frames bridged: MediaPipe had exchanged part of the skeleton, or closed it up

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
            "mixed_frames_bridged": self.mixed_frames,
            "stretches": [
                {
                    "from_s": round(s.from_s, 3),
                    "to_s": round(s.to_s, 3),
                    "labels_swapped": s.swapped,
                    "decided_by": [CUES[c] for c in s.decided_by],
                }
                for s in self.stretches
            ],
            "note": "sides are decided per stretch of frames from the body (joint paths, the lifted leg, hips and "
            "feet); the face is one small vote, so a hidden face does not swap them",
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


def _hip_ratio(xy: np.ndarray) -> np.ndarray:
    """Per frame, how far the labelled left hip and shoulder lie to the picture's right of the right ones, in
    units of twice the trunk length: + when the labels put the subject's left on the picture's right."""
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
        return spread / (2 * trunk)


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


def side_path(track: PoseTrack, towards: bool | None) -> tuple[np.ndarray, tuple[Stretch, ...]]:
    """Per frame, whether MediaPipe's labels are to be exchanged, and the stretches that decision falls into."""
    xy = track.image_xy
    n = len(xy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        legs = np.nanmedian([np.linalg.norm(xy[:, lm.KNEE[s]] - xy[:, lm.HIP[s]], axis=1) * 2 for s in lm.SIDES])
    if not np.isfinite(legs) or legs <= 0 or n == 0:
        return np.zeros(n, dtype=bool), (Stretch(0, n, 0.0, 0.0, False, ("face",)),) if n else ()
    # Pairwise: joints' travel since the previous frame, labels kept alike (same) or exchanged (cross).
    cur = xy[:, FLIP_PAIRS.ravel()].reshape(n, -1, 2, 2)
    same = np.zeros(n)
    cross = np.zeros(n)
    ok = np.all(np.isfinite(cur), axis=(1, 2, 3))
    both = ok[1:] & ok[:-1]
    d_same = np.linalg.norm(cur[1:] - cur[:-1], axis=3).sum(axis=(1, 2)) / legs
    d_cross = np.linalg.norm(cur[1:][:, :, ::-1] - cur[:-1], axis=3).sum(axis=(1, 2)) / legs
    same[1:] = np.where(both, d_same, 0.0)
    cross[1:] = np.where(both, d_cross, 0.0)
    # The lifted leg under MediaPipe's labels: +1 left, -1 right, 0 unclear (y grows downwards).
    rise = (xy[:, lm.ANKLE["right"], 1] - xy[:, lm.ANKLE["left"], 1]) / legs
    lifted = np.where(np.isfinite(rise) & (np.abs(rise) >= LIFTED_LEGS), np.sign(np.nan_to_num(rise)), 0.0)
    stance_same = np.zeros(n)  # a kept-alike pair changes its lifted leg
    stance_cross = np.zeros(n)
    stance_same[1:] = STANCE_COST * ((lifted[1:] * lifted[:-1]) < 0)
    stance_cross[1:] = STANCE_COST * ((lifted[1:] * lifted[:-1]) > 0)
    # Unary: the hips' side against the facing, and the face's small vote for MediaPipe's labels.
    hips = np.zeros((n, 2))
    ratio = _hip_ratio(xy)
    if towards is not None:
        r = np.where(np.isfinite(ratio) & (np.abs(ratio) >= MIN_HIP_SPREAD), ratio, 0.0) * (1 if towards else -1)
        hips[:, 0] = HIP_WEIGHT * np.maximum(0.0, -r)
        hips[:, 1] = HIP_WEIGHT * np.maximum(0.0, r)
    unary = hips + np.array([0.0, FACE_VOTE])
    state = _viterbi(unary, same + stance_same, cross + stance_cross)
    stretches = []
    edges = np.flatnonzero(np.diff(state.astype(int))) + 1
    for a, b in zip(np.r_[0, edges], np.r_[edges, n], strict=True):
        swapped = bool(state[a])
        k = int(swapped)
        cues = []
        edges_here = [i for i in (a, b) if 0 < i < n]  # where this stretch meets its neighbours
        if any(cross[i] < same[i] for i in edges_here):
            cues.append("continuity")
        if any(stance_same[i] > stance_cross[i] for i in edges_here):
            cues.append("stance_leg")
        if hips[a:b, 1 - k].sum() > hips[a:b, k].sum():
            cues.append("hips")
        if not swapped or not cues:
            cues.append("face")
        to_s = float(track.t[b]) if b < n else float(track.t[-1])
        stretches.append(Stretch(int(a), int(b), float(track.t[a]), to_s, swapped, tuple(dict.fromkeys(cues))))
    return state, tuple(stretches)


def _viterbi(unary: np.ndarray, same: np.ndarray, cross: np.ndarray) -> np.ndarray:
    """The least-cost path over two states (0 kept, 1 exchanged): unary (n, 2) per frame; moving from frame
    i-1 to i costs same[i] when both frames are labelled alike and cross[i] when one of them is exchanged, plus
    SWITCH_COST when the state changes (the labels are exchanged from frame i on)."""
    n = len(unary)
    cost = unary[0].copy()
    back = np.zeros((n, 2), dtype=int)
    for i in range(1, n):
        # staying in state s: alike iff same state; a state change flips which pairing the labels are in.
        stay = cost + same[i]
        move = cost[::-1] + cross[i] + SWITCH_COST
        back[i] = np.where(stay <= move, [0, 1], [1, 0])
        cost = np.minimum(stay, move) + unary[i]
    state = np.zeros(n, dtype=bool)
    state[-1] = bool(np.argmin(cost))
    for i in range(n - 1, 0, -1):
        state[i - 1] = bool(back[i, int(state[i])])
    return state


def consistent_sides(track: PoseTrack) -> PoseTrack:
    """A new PoseTrack whose sides are consistent over time and agree with the way the subject faces."""
    return repair_sides(track)[0]


def repair_sides(track: PoseTrack) -> tuple[PoseTrack, Facing]:
    """Left and right decided per stretch of frames (side_path) and MediaPipe's labels exchanged where the body
    says they are wrong; the facing comes from the feet first (it does not depend on the labels)."""
    towards, method, evidence = decide_facing(track)
    state, stretches = side_path(track, towards)
    fixed = _swap(track, state) if state.any() else track
    mixed = np.zeros(len(track), dtype=bool)
    if towards is not None:
        # Frames whose hips still sit on the wrong side once the stretch is decided are frames where MediaPipe
        # exchanged part of the skeleton only (seen when the face is covered), and frames where it closed the hips
        # and shoulders up for a moment (a blurred face): no labelling makes them right, so their landmarks are
        # bridged from the frames either side (the stance goes on through them).
        ratio = _hip_ratio(fixed.image_xy) * (1 if towards else -1)
        mixed = (np.nan_to_num(ratio) <= -MIN_HIP_SPREAD) | _collapsed(ratio, track.t)
        if mixed.any():
            # MediaPipe's tracker takes a few frames to settle either side of such a frame (its landmarks are
            # smoothed over time): those within MIXED_MARGIN_S go too.
            near = np.abs(track.t[:, None] - track.t[mixed][None, :]).min(axis=1) <= MIXED_MARGIN_S
            mixed = mixed | near
            fixed = bridge(fixed, mixed)
    facing = Facing(towards, method, evidence, bool(state.any()), stretches, int(mixed.sum()))
    return fixed, facing


def _collapsed(ratio: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per frame, whether a front view's hips and shoulders closed up for a moment (COLLAPSE_SHARE)."""
    typical = float(np.nanmedian(ratio)) if np.isfinite(ratio).any() else 0.0
    if typical < FRONT_SPREAD:
        return np.zeros(len(ratio), dtype=bool)
    low = np.nan_to_num(ratio, nan=typical) < COLLAPSE_SHARE * typical
    for a, b in true_runs(low):
        low[a:b] = t[b - 1] - t[a] <= COLLAPSE_MAX_S
    return low


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
