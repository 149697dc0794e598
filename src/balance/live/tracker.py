"""The stance rule of offline trial finding (stance/trials.py), fed one frame at a time with only past frames.

The live test's judgement per frame: is the person in view, on which leg, has a one-leg run begun or ended.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass

import numpy as np

from balance.measure.body import hip_centre, leg_length
from balance.pose import landmarks as lm
from balance.pose.sides import MIRROR, FlipFollower
from balance.stance.trials import (
    EDGE_MARGIN,
    FOOT_UP,
    MAX_DROPOUT_S,
    MAX_HIP_JUMP,
    MIN_VISIBILITY,
    StanceRule,
    lift_off_time,
)

# The leg-length scale follows the subject's distance to the camera over ~2 s, as offline detection does.
SCALE_WINDOW_S = 2.0
# Foot speed is the median of this many frame-to-frame speeds, as offline (scipy median_filter size 5).
SPEED_MEDIAN_FRAMES = 5


@dataclass(frozen=True)
class RunEnd:
    """A one-leg run that ended at this frame: how, when its last one-leg frame was, and the touch-down."""

    side: str
    lift_off_s: float
    end_s: float
    touch_down_s: float | None
    how: str  # "touch_down" | "subject_lost"


@dataclass(frozen=True)
class StanceStep:
    """The stance judgement for one processed frame."""

    t_s: float
    detected: bool
    in_view: bool  # person found, both feet visible and inside the picture
    state: str  # "left" / "right" (standing on that leg), "both", "unknown": as StanceTimeline.state
    gap: float  # stance-left-positive foot height difference, leg lengths
    scale_px: float  # leg length in pixels
    run_side: str | None  # the one-leg run in progress, if any
    run_lift_off_s: float | None
    run_end: RunEnd | None


class StanceTracker:
    """find_trials' per-frame rule, fed one frame at a time with only past frames to look at.

    Offline filters are centred; here they trail: the leg-length scale over the last 2 s, foot speed
    from the previous frame, median of the last 5, no Hampel filter.
    Touch-down is dated at the first low frame, as offline back-dating does; lift-off is interpolated
    through FOOT_UP where the foot rose, even when the rule says "one leg" a few frames later (the trailing
    speed median needs frames after a lift, or after the subject comes into view already on one leg).
    """

    def __init__(self) -> None:
        self._rule = StanceRule()
        self._first = True
        self._prev_t = math.nan
        self._prev_gap = math.nan
        self._prev_foot: dict[str, np.ndarray] = {}
        self._prev_hips: np.ndarray | None = None
        self._legs: deque[tuple[float, float]] = deque()
        self._speeds: dict[str, deque[float]] = {s: deque(maxlen=SPEED_MEDIAN_FRAMES) for s in lm.SIDES}
        self._scale = math.nan
        self._run_side: str | None = None
        self._run_lift_off = math.nan
        self._run_last = math.nan
        self._up: tuple[str, float] | None = None  # the free foot above FOOT_UP since: (stance side, time)

    def update(self, t: float, xy: np.ndarray, visibility: np.ndarray, height: int) -> StanceStep:
        detected = bool(np.isfinite(xy[0, 0]))
        scale = self._update_scale(t, xy)
        low = self._foot_lows(xy)
        gap = (low["left"] - low["right"]) / scale if detected else math.nan
        visible = detected and all(
            bool(np.all(visibility[list(lm.FOOT[s])] >= MIN_VISIBILITY)) and low[s] < height * (1 - EDGE_MARGIN)
            for s in lm.SIDES
        )
        known = visible and math.isfinite(gap)
        speeds = self._update_speeds(t, xy, low, scale)
        speed = speeds["left"] if low["left"] < low["right"] else speeds["right"]  # the higher foot is free
        hips = hip_centre(xy[None])[0]
        jump = self._prev_hips is not None and bool(np.linalg.norm(hips - self._prev_hips) / scale > MAX_HIP_JUMP)
        self._prev_hips = hips

        self._follow_lift(t, known and not jump, gap)
        state = self._rule.step(t, known, jump, gap, speeds, speed)
        run_end = self._follow_runs(t, state, gap, jump)
        state = "both" if state == "touch_down" else state
        self._first = False
        self._prev_t, self._prev_gap = t, gap
        return StanceStep(
            t, detected, known, state, gap, scale, self._run_side,
            None if self._run_side is None else self._run_lift_off, run_end,
        )  # fmt: skip

    def _follow_runs(self, t: float, state: str, gap: float, jump: bool) -> RunEnd | None:
        """Cut one-leg runs as stance._cut does after _backdate_contacts and _bridge_dropouts."""
        ended: RunEnd | None = None
        side = self._run_side
        if state == "touch_down":
            assert side is not None and self._rule.low_since is not None
            ended = RunEnd(side, self._run_lift_off, self._run_last, self._rule.low_since, "touch_down")
            self._run_side = None
        elif state in lm.SIDES:
            if side is not None and side != state:
                ended = RunEnd(side, self._run_lift_off, self._run_last, None, "subject_lost")
            if side != state:
                self._run_side = state
                self._run_lift_off = self._up[1] if self._up and self._up[0] == state else t
            self._run_last = t
        elif side is not None and (state == "both" or jump or t - self._run_last > MAX_DROPOUT_S):
            ended = RunEnd(side, self._run_lift_off, self._run_last, None, "subject_lost")
            self._run_side = None
        return ended

    def _follow_lift(self, t: float, known: bool, gap: float) -> None:
        """When the current stretch of frames with one foot above FOOT_UP (same side, in view throughout) began."""
        side = ("left" if gap > 0 else "right") if known and abs(gap) >= FOOT_UP else None
        if side is None:
            self._up = None
        elif self._up is None or self._up[0] != side:
            rose = t if self._first else lift_off_time(self._prev_gap, gap, self._prev_t, t, side)
            self._up = (side, rose)

    def _update_scale(self, t: float, xy: np.ndarray) -> float:
        legs = [float(leg_length(xy[None], s)[0]) for s in lm.SIDES]
        finite = [v for v in legs if math.isfinite(v)]
        if finite:
            self._legs.append((t, statistics.median(finite)))
        while self._legs and self._legs[0][0] < t - SCALE_WINDOW_S:
            self._legs.popleft()
        if self._legs:
            self._scale = statistics.median(v for _, v in self._legs)
        return self._scale

    def _foot_lows(self, xy: np.ndarray) -> dict[str, float]:
        """Lowest point of each foot in the picture (largest y).

        Unfiltered: a trailing Hampel window rejects the first frames of every fast lift as outliers
        (0.3 s late at 10 fps); single-frame jumps are absorbed by the hysteresis and contact timing,
        and a hold shorter than MIN_REPORTED_PHASE_S is not taken as an attempt.
        """
        return {s: float(np.max(xy[list(lm.FOOT[s]), 1])) for s in lm.SIDES}

    def _update_speeds(self, t: float, xy: np.ndarray, low: dict[str, float], scale: float) -> dict[str, float]:
        out = {}
        for s in lm.SIDES:
            pos = np.array([float(np.mean(xy[list(lm.FOOT[s]), 0])), low[s]])
            prev = self._prev_foot.get(s)
            dt = t - self._prev_t
            self._prev_foot[s] = pos
            if prev is None:
                out[s] = 0.0  # the first frame has no speed yet; offline's forward difference there is small
                continue
            v = math.inf  # as offline: an unknown speed never passes for a planted or slow foot
            if dt > 0 and np.all(np.isfinite(pos)) and np.all(np.isfinite(prev)):
                v = float(np.linalg.norm(pos - prev)) / dt / scale
            self._speeds[s].append(v)
            out[s] = float(np.median(self._speeds[s]))
        return out


class SideKeeper:
    """tracking.flipped_frames run causally: undo MediaPipe's whole-skeleton left/right flips by continuity.

    Offline, the labelling most frames agree on wins; live, the first frame's labelling is kept.
    """

    def __init__(self) -> None:
        self._follower = FlipFollower()

    def fix(self, xy: np.ndarray, visibility: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flipped = self._follower.step(xy)
        return (xy[MIRROR], visibility[MIRROR]) if flipped else (xy, visibility)
