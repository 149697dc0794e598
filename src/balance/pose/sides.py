"""Repair MediaPipe's left/right label flips so each side keeps its name through the clip.

BlazePose sometimes flips the whole skeleton's sides for a stretch of frames (front/back ambiguity).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from balance.pose.estimate import PoseTrack
from balance.pose.landmarks import NAMES

# Landmark index -> index of the same landmark on the other side (nose maps to itself).
MIRROR = np.array([NAMES.index(n.replace("left", "@").replace("right", "left").replace("@", "right")) for n in NAMES])
# Large, well-separated joints decide whether a frame's sides flipped.
FLIP_PAIRS = np.array([(11, 12), (23, 24), (25, 26), (27, 28)])
# A flip is accepted when matching each joint to the other side's previous position is this much
# cheaper than keeping the labels: real motion between two frames never makes every pair swap places.
FLIP_RATIO = 0.5


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
    """A new PoseTrack whose flipped frames have their left and right landmarks exchanged."""
    flipped = flipped_frames(track.image_xy)
    if not flipped.any():
        return track

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
