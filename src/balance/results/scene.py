"""What the annotated video draws from, precomputed once per analysis: the Scene (pose, smoothed centre of mass,
steadied feet, each trial's view) and, per frame, the Moment the annotators (balance.results.annotators) draw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from balance.assess.tripod import FOOT_PER_LEG, headline
from balance.measure.body import centre_of_mass
from balance.measure.signals import clean, hampel
from balance.measure.vertical import Vertical
from balance.pipeline import Analysis
from balance.pose import landmarks as lm
from balance.pose.steady import in_picture
from balance.results.canvas import Canvas

# The picture says the camera was tilted from this roll on: the frontal-plane uprightness of quiet two-leg
# stance, the reference the roll is measured against, is about 1 degree (measure/vertical.py, Winter 1995).
SHOWN_ROLL_DEG = 1.0
# The weight's rolling is drawn across the foot at mid-length (fore-aft, foot lengths), where the foot is narrowest.
ROLL_BAR_FORE_AFT = 0.45

# Below this MediaPipe visibility a landmark is a guess; its bones are drawn thin so they do not mislead.
MIN_VISIBILITY = 0.5

# A left foot seen from above, toes up, in the tripod's frame: (fore-aft from the heel, medial towards the big
# toe), foot lengths. The ball is 0.39 foot lengths wide at the metatarsal heads (Hawes & Sovak 1994, as in
# tripod.py), the heel about 0.25; the big toe reaches the same length as the second toe.
FOOT_OUTLINE = np.array(
    [
        (0.00, 0.00),
        (0.02, 0.09),
        (0.12, 0.13),
        (0.30, 0.12),
        (0.50, 0.15),
        (0.66, 0.19),
        (0.75, 0.20),
        (0.88, 0.18),
        (0.98, 0.14),
        (1.02, 0.09),
        (1.00, 0.04),
        (0.97, 0.00),
        (0.95, -0.05),
        (0.90, -0.10),
        (0.82, -0.15),
        (0.70, -0.20),
        (0.62, -0.21),
        (0.45, -0.17),
        (0.25, -0.13),
        (0.12, -0.12),
        (0.02, -0.08),
    ]
)


def smooth_points(t: np.ndarray, p: np.ndarray, valid: np.ndarray, fs: float) -> np.ndarray:
    """The analysis's own cleaning (Hampel, gap bridging, 5 Hz low-pass) of a pixel trace, back on times t."""
    if valid.sum() < 2 or len(t) < 4:
        return np.where(valid[:, None], p, np.nan)
    grid, filtered, _ = clean(t, p, valid, fs)
    out = np.column_stack([np.interp(t, grid, filtered[:, k]) for k in range(p.shape[1])])
    # Bridged gaps are kept; frames outside the first and last valid ones have nothing to stand on.
    idx = np.flatnonzero(valid)
    out[: idx[0]] = np.nan
    out[idx[-1] + 1 :] = np.nan
    return out


def short_reason(answer: str, view: str, roll_method: str | None) -> str:
    """The tripod answer's reason in a few words (the document's `reason` says it in full)."""
    if view != "front":
        return f"{view} view: film from the front"
    if roll_method == "steady_hold":
        return "no two-leg standing to find the vertical"
    return {
        "outside": "95 % interval beyond the middle",
        "inside": "95 % interval beyond the middle",
        "centred": "95 % interval within the middle",
    }.get(answer, "95 % interval spans middle and edge")


@dataclass(frozen=True)
class Answer:
    """The tripod's answer as the document states it: the mean side-to-side position's 95 % interval, the
    answer and a short reason, and how far the weight rolls either side of its mean (foot lengths)."""

    ci95: tuple[float, float]
    answer: str
    headline: str  # assess.tripod.headline: the words every output leads with
    reason: str
    cop_roll_95: float | None


@dataclass(frozen=True)
class TrialView:
    index: int
    stance: str
    view: str  # "front", "side" or "oblique"
    lift_off_s: float
    end_s: float  # touch-down, or the trial's last frame
    floor_y: float  # the stance foot's lowest point in the picture, median over the trial
    foot_px: float  # the anthropometric foot length in pixels (tripod.py's foot model)
    toe_sign: float  # +1 when the toes point towards +x (side view)
    grid: np.ndarray  # the metrics' time grid
    projection: np.ndarray | None  # (len(grid), 2) centre of mass over the foot: fore-aft, medial (foot lengths)
    answer: Answer


def trial_views(analysis: Analysis, feet: Mapping[str, np.ndarray], scale: float = 1.0) -> list[TrialView]:
    """Each trial as the video draws it; `feet` and the pixel lengths in the picture drawn at `scale` of the clip."""
    views = []
    for k, m in enumerate(analysis.trials):
        tr = m.trial
        sl = slice(tr.start_index, tr.stop_index)
        ys = feet[tr.stance_leg][sl, :, 1]
        floor = float(np.nanmedian(np.nanmax(ys, axis=1))) if np.isfinite(ys).any() else math.nan
        toes = feet[tr.stance_leg][sl, 2, 0] - feet[tr.stance_leg][sl, 1, 0]
        tripod = analysis.assessments[k].tripod
        proj = tripod.projection
        ok = np.shape(proj) == (len(m.grid), 2)
        said = Answer(
            tripod.medial_ci95,
            tripod.answer,
            headline(tripod.answer, tripod.probabilities),
            short_reason(tripod.answer, m.view, m.vertical.method),
            tripod.cop_roll_95,
        )
        views.append(
            TrialView(
                index=k,
                stance=tr.stance_leg,
                view=m.view,
                lift_off_s=tr.lift_off_s,
                end_s=tr.touch_down_s if tr.touch_down_s is not None else tr.end_s,
                floor_y=floor,
                foot_px=FOOT_PER_LEG * m.scale.leg_length_px * scale,
                toe_sign=1.0 if np.nanmean(toes) >= 0 else -1.0,
                grid=np.asarray(m.grid, dtype=float),
                projection=np.asarray(proj, dtype=float) if ok else None,
                answer=said,
            )
        )
    return views


class Scene:
    """Everything needed to annotate any frame of the clip, precomputed once from the analysis: the pose per
    analysed frame, the smoothed centre of mass, the steadied feet, each trial's view and the stance state.

    scale: the size of the picture drawn on, as a fraction of the clip's (the annotated video is drawn at most
    720 px high: balance.results.video); every pixel position and length is in that picture.
    """

    def __init__(self, analysis: Analysis, scale: float = 1.0) -> None:
        track = analysis.track
        self.t = np.asarray(track.t)
        # The analysis measured in the scene's coordinates (the camera's motion removed); the video draws on
        # the frames as the camera saw them.
        self.xy = in_picture(analysis.camera, np.asarray(track.image_xy)) * scale
        self.camera = analysis.camera
        self.vis = np.asarray(track.visibility)
        self.canvas = Canvas(round(track.width * scale), round(track.height * scale))
        fs = min(30.0, track.fps) if track.fps else 30.0
        body = [lm.SHOULDER["left"], lm.SHOULDER["right"], lm.HIP["left"], lm.HIP["right"]]
        valid = np.all(self.vis[:, body] >= MIN_VISIBILITY, axis=1) & np.isfinite(self.xy[:, 0, 0])
        self.com = smooth_points(self.t, centre_of_mass(self.xy), valid, fs)
        n = len(self.t)
        # MediaPipe's foot points jump for single frames; the Hampel filter keeps the floor line still.
        self.feet = {s: hampel(self.xy[:, list(lm.FOOT[s])].reshape(n, -1)).reshape(n, 3, 2) for s in lm.SIDES}
        self.trials = trial_views(analysis, self.feet, scale)
        self.state = np.asarray(analysis.timeline.state)
        # One roll for the whole clip (measure/trial.py clip_vertical); every trial carries it.
        self.vertical = analysis.trials[0].vertical if analysis.trials else Vertical(0.0, 0.0, "assumed_level", 0)
        a = math.radians(self.vertical.roll_deg)
        # The true vertical in the picture (y down): + roll leans its top towards +x (measure/vertical.py).
        self.down = np.array([-math.sin(a), math.cos(a)])
        self.across = np.array([math.cos(a), math.sin(a)])

    def nearest(self, t_s: float) -> int:
        """The analysed frame closest in time (a two-camera video draws the other view's nearest frame)."""
        i = int(np.searchsorted(self.t, t_s))
        if i <= 0:
            return 0
        if i >= len(self.t):
            return len(self.t) - 1
        return i if self.t[i] - t_s < t_s - self.t[i - 1] else i - 1

    def trial_at(self, t_s: float) -> TrialView | None:
        return next((v for v in self.trials if v.lift_off_s <= t_s <= v.end_s), None)

    def com_at(self, t_s: float) -> np.ndarray:
        return np.array([np.interp(t_s, self.t, self.com[:, k], left=np.nan, right=np.nan) for k in (0, 1)])

    def floor_both(self, i: int) -> float:
        ys = np.concatenate([self.feet[s][i, :, 1] for s in lm.SIDES])
        return float(np.nanmax(ys)) if np.isfinite(ys).any() else math.nan

    def at(self, t_s: float) -> Moment:
        """The scene at the frame shown at t_s."""
        i = self.nearest(t_s)
        view = self.trial_at(t_s)
        floor_y = view.floor_y if view is not None else self.floor_both(i)
        return Moment(self, t_s, i, view, self.com_at(t_s), floor_y)


@dataclass(frozen=True)
class Moment:
    """One frame's time, its nearest analysed frame `i`, the trial it falls in (if any), the centre of mass and
    the floor line under it."""

    scene: Scene
    t_s: float
    i: int
    view: TrialView | None
    com: np.ndarray
    floor_y: float

    @property
    def stance(self) -> str | None:
        return self.view.stance if self.view is not None else None

    def floor_point(self) -> np.ndarray:
        """The floor line under the stance foot (both feet between trials): the feet's mean x, floor_y."""
        sides = [self.stance] if self.stance is not None else list(lm.SIDES)
        xs = np.concatenate([self.scene.feet[s][self.i, :, 0] for s in sides])
        x = float(np.nanmean(xs)) if np.isfinite(xs).any() else math.nan
        return np.array([x, self.floor_y])

    def plumb_foot(self) -> np.ndarray:
        """Where the plumb line from the centre of mass meets the floor: along the camera-roll-corrected
        vertical down to the line through the floor point square to it."""
        down = self.scene.down
        return self.com + float(np.dot(self.floor_point() - self.com, down)) * down
