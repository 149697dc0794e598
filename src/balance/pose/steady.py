"""The camera's own motion taken out of the landmarks: a phone held in the hand moves the whole picture, and a
person standing still would seem to sway and their planted foot to slide.

balance.video.motion follows the scene around the person frame by frame (one row per analysed frame, carried by
the PoseTrack); here the rows become the CameraMotion the user reads (how far the picture moved, zoomed and
turned, and whether that could be told at all) and a PoseTrack whose landmarks sit in the scene's coordinates
(those of the first analysed frame). Pure functions of arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from balance.pose.estimate import PoseTrack
from balance.video.motion import LOST, TRACKED, as_matrices

# The camera counts as still while the picture's centre moves less than 0.5 % of the frame's width, its zoom
# changes less than 1 % and it turns less than 0.5 degrees over the clip. Below that the fit's own drift is as
# large as what it finds: a still studio camera with a plain grey wall (P6, 47 s, a dozen corners) drifts 0.3 %
# and 0.6 % in zoom; a phone held in the hand moves by several % (benchmarks/real_clips.py, handheld). A still
# camera's landmarks are used as they are.
STILL_SHIFT, STILL_ZOOM, STILL_TURN_DEG = 0.005, 0.01, 0.5
# The background must be followed on at least this share of the frames for the motion to be known; below it
# the picture is too plain (a white studio) or too covered to tell the camera's motion from the person's.
MIN_TRACKED_SHARE = 0.6
# Beyond these the picture moved so much (a walk-around, a strong zoom) that what the motion hides, the planted
# foot above all, is not judged: a chain of fits this long drifts by more than a foot shift's threshold
# (0.04 leg lengths, assess/flags.py); the numbers are the tool's choice.
TOO_MUCH_SHIFT, TOO_MUCH_ZOOM, TOO_MUCH_TURN_DEG = 0.25, 0.25, 10.0
# With the background too plain to follow, the person tells whether the picture moved: a planted foot stays put in
# a still camera's picture. Its position (heel, ankle and toe, low-passed at 5 Hz) wanders side to side with an SD
# of at most 0.016 leg lengths on every still-camera clip and copy of the labelled set, and 0.040-0.081 on their
# hand-held copies (benchmarks/README.md, "Filmed the way people film"): beyond 0.025 the picture moved.
FOOT_WANDER_SD = 0.025
# The motion over time in the document is given at this rate (the fits themselves are per analysed frame).
SERIES_HZ = 5.0

VERDICTS = {
    "still": "the camera did not move",
    "corrected": "camera moved: corrected",
    "too_much": "the camera moved too much to judge the standing foot",
    "unknown": "the background is too plain to follow the camera: whether it moved is not known",
    "moved": "the picture moved (the standing foot moved across it) and the background is too plain to follow "
    "the camera: the sway is not judged",
    "not_measured": "camera motion was not measured",
}


@dataclass(frozen=True)
class CameraMotion:
    """The camera's motion over the clip, as found from the scene around the person.

    to_scene: (N, 3, 3) per analysed frame, the similarity from that frame's picture into the scene's
    coordinates; tracked: (N,) whether that frame's fit was trusted.
    """

    t: np.ndarray
    to_scene: np.ndarray
    tracked: np.ndarray
    width: int
    height: int
    verdict: str  # still, corrected, too_much, unknown, moved, not_measured
    residual_px: float = 0.0  # median misfit of the scene's corners to the fitted motion (trusted frames), px

    @property
    def corrected(self) -> bool:
        return self.verdict in ("corrected", "too_much")

    @property
    def foot_judgeable(self) -> bool:
        """Whether the planted foot's moves can be told from the camera's (too much motion or none known: no)."""
        return self.verdict in ("still", "corrected")

    @property
    def sway_judgeable(self) -> bool:
        """Whether the sway is the person's: no, where the picture moved in a way the background could not show."""
        return self.verdict != "moved"

    def seen_moving(self, foot_wander_sd: float) -> CameraMotion:
        """This motion told by the person where the scene could not tell it: `foot_wander_sd`, the largest side-to-
        side SD of a trial's standing foot in the picture (leg lengths), beyond FOOT_WANDER_SD means it moved."""
        if self.verdict == "unknown" and foot_wander_sd > FOOT_WANDER_SD:
            return replace(self, verdict="moved")
        return self

    def series(self) -> dict[str, np.ndarray]:
        """The picture's motion over time: shift of the frame's centre (share of the frame's width and height,
        + right and down), zoom (1 = as at the start) and turn (degrees, + clockwise in the picture)."""
        centre = np.array([self.width / 2, self.height / 2, 1.0])
        from_scene = np.linalg.inv(self.to_scene)  # scene -> picture: how the picture moved over the scene
        moved = from_scene @ centre
        return {
            "t_s": self.t,
            "shift_x": (moved[:, 0] - centre[0]) / self.width,
            "shift_y": (moved[:, 1] - centre[1]) / self.height,
            "zoom": np.hypot(from_scene[:, 0, 0], from_scene[:, 1, 0]),
            "turn_deg": np.degrees(np.arctan2(from_scene[:, 1, 0], from_scene[:, 0, 0])),
        }

    def ranges(self) -> tuple[float, float, float]:
        """(shift, zoom change, turn in degrees) over the clip: the largest range of each."""
        s = self.series()
        if not len(self.t):
            return 0.0, 0.0, 0.0
        shift = max(float(np.ptp(s["shift_x"])), float(np.ptp(s["shift_y"])))
        return shift, float(np.ptp(s["zoom"])), float(np.ptp(s["turn_deg"]))

    def to_dict(self) -> dict[str, Any]:
        shift, zoom, turn = self.ranges()
        s = self.series()
        keep = _every(self.t, SERIES_HZ)
        return {
            "verdict": self.verdict,
            "words": VERDICTS[self.verdict],
            "corrected": self.corrected,
            "foot_judged": self.foot_judgeable,
            "sway_judged": self.sway_judgeable,
            "tracked_share": round(float(self.tracked.mean()), 3) if len(self.tracked) else 0.0,
            "shift_range": round(shift, 4),
            "zoom_range": round(zoom, 4),
            "turn_range_deg": round(turn, 2),
            "residual_px": round(self.residual_px, 3),
            "series": {k: [round(float(v), 4) for v in s[k][keep]] for k in s},
            "method": (
                "corners of the scene outside the person followed by pyramidal Lucas-Kanade optical flow from a "
                "keyframe, a similarity (shift, zoom, turn) fitted with RANSAC (balance/video/motion.py); every "
                "landmark mapped into the first frame's picture before anything was measured"
                if self.corrected
                else "corners of the scene outside the person followed by optical flow (balance/video/motion.py)"
                + (
                    "; too few to follow, and the standing foot wandered across the picture by more than a planted "
                    f"foot does (side-to-side SD above {FOOT_WANDER_SD} leg lengths): the picture moved"
                    if self.verdict == "moved"
                    else ""
                )
            ),
            "units": {
                "shift": "share of the frame's width (x) and height (y), + right and down",
                "zoom": "picture scale against the first frame",
                "turn_deg": "degrees, + clockwise in the picture",
                "residual_px": "pixels: how far the scene's corners sit from the fitted motion (its error's scale)",
            },
        }


def _every(t: np.ndarray, hz: float) -> np.ndarray:
    """Indices of frames about 1/hz s apart."""
    if not len(t):
        return np.zeros(0, dtype=int)
    slot = np.floor((t - t[0]) * hz)
    return np.flatnonzero(np.r_[True, np.diff(slot) > 0])


def camera_motion(track: PoseTrack) -> CameraMotion:
    """The camera's motion from the track's per-frame scene fits (see balance.video.motion.ROW)."""
    rows = track.camera
    n = len(track)
    if len(rows) != n:  # a track made without the scene (the live test, tests' synthetic tracks)
        return CameraMotion(
            track.t, np.tile(np.eye(3), (n, 1, 1)), np.zeros(n, bool), track.width, track.height, "not_measured"
        )
    tracked = rows[:, 6] == TRACKED
    params = rows[:, :4].copy()
    if tracked.any() and not tracked.all():
        # A lost frame's transform is read between its trusted neighbours (a hand moves smoothly over a few
        # frames); the chain itself went on from the last trusted frame (balance/video/motion.py).
        at = np.flatnonzero(tracked)
        for k in range(4):
            params[:, k] = np.interp(track.t, track.t[at], params[at, k])
    m = as_matrices(np.column_stack([params, rows[:, 4:]]))
    motion = CameraMotion(track.t, m, tracked, track.width, track.height, "still")
    lost = rows[:, 6] == LOST
    # The first frame is the origin of its own fit, trusted by construction: it does not count either way.
    share = float(tracked[1:].mean()) if n > 1 else 1.0
    shift, zoom, turn = motion.ranges()
    if share < MIN_TRACKED_SHARE and lost[1:].any():
        verdict = "unknown"
    elif shift >= TOO_MUCH_SHIFT or zoom >= TOO_MUCH_ZOOM or turn >= TOO_MUCH_TURN_DEG:
        verdict = "too_much"
    elif shift >= STILL_SHIFT or zoom >= STILL_ZOOM or turn >= STILL_TURN_DEG:
        verdict = "corrected"
    else:
        verdict = "still"
    residual = float(np.median(rows[tracked, 5])) if verdict in ("corrected", "too_much") else 0.0
    return replace(motion, verdict=verdict, residual_px=residual)


def steady(track: PoseTrack, motion: CameraMotion) -> PoseTrack:
    """The track with every landmark in the scene's coordinates (the camera's motion removed); as it was when
    the camera was still or its motion is not known."""
    if not motion.corrected:
        return track
    xy = track.image_xy
    m = motion.to_scene
    out = np.einsum("nij,nkj->nki", m[:, :2, :2], xy) + m[:, None, :2, 2]
    # MediaPipe's relative depth is in the picture's x scale: it zooms with the picture.
    zoom = np.hypot(m[:, 0, 0], m[:, 1, 0])
    return replace(track, image_xy=out, image_z=track.image_z * zoom[:, None])


def in_picture(motion: CameraMotion | None, xy: np.ndarray) -> np.ndarray:
    """Scene coordinates (N, K, 2), one row per analysed frame, back in each frame's picture: what the annotated
    video draws over the frames the camera saw."""
    if motion is None or not motion.corrected:
        return xy
    inv = np.linalg.inv(motion.to_scene)
    return np.einsum("nij,nkj->nki", inv[:, :2, :2], xy) + inv[:, None, :2, 2]
