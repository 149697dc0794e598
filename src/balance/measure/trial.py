"""Turn one trial's landmarks into sway traces relative to the stance foot, and score each trace.

Pure functions: PoseTrack + Trial -> SwayMetrics (centre of mass, hip, shoulders, trunk and pelvis angles, foot).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.ndimage import median_filter

from balance.measure.body import (
    LEG_LENGTH_PER_HEIGHT,
    centre_of_mass,
    hip_centre,
    leg_length,
    shoulder_centre,
    tilt_deg,
)
from balance.measure.signals import LOWPASS_HZ, LOWPASS_ORDER, clean
from balance.measure.sway import TraceMetrics, trace_metrics
from balance.measure.vertical import Vertical, camera_vertical, level
from balance.pose import landmarks as lm
from balance.pose.estimate import PoseTrack
from balance.pose.sides import Facing
from balance.pose.steady import CameraMotion
from balance.stance.trials import Trial

# Sway is analysed after the body settles from the lift and before it prepares to land: the first
# second after lift-off is the transition, not the steady stance (Riemann et al. 1999 score BESS
# errors only after the stance is taken; force-plate single-leg studies commonly discard the first
# 1-2 s), and the last 0.25 s before touch-down is the landing itself.
SETTLE_S = 1.0
PRE_LANDING_S = 0.25
# When the subject is lost (a cut, a fade, walking out of the picture) the last half second is often a
# cross-dissolve or a partial body whose landmarks are unreliable, so it is left out too.
PRE_LOSS_S = 0.5
MIN_ANALYSED_S = 2.0
# A planted foot stays where it is, and one that shifts stays at its new place. The standing foot's landmarks
# further than this from their centred running median over LOST_FOOT_S (more than half the window away, so for
# under a second) are the pose model losing the foot (a covered face throws the whole skeleton; the legs' labels
# blend for a few frames), not the foot moving: those frames are not measured and are bridged as dropouts. A shift
# (a step to a new place) leaves the centred median at once and is kept whatever its size. 0.08 leg lengths (about
# 7 cm) is four times the planted foot's landmark jitter (under 0.02 on the still clips) and above the foot-shift
# flag's line (assess/flags.py FOOT_SHIFT_LEGS); over every labelled clip, variant and synthetic clip it takes out
# frames of two only: P5-cover (8 frames, the covered face) and P6-handheld (3 of 150) (benchmarks/README.md,
# "The analysis rate").
LOST_FOOT_LEGS = 0.08
LOST_FOOT_S = 2.0
# Metrics are computed on a uniform grid at the clip's own rate, capped at 30 Hz (>= 6x the low-pass).
MAX_FS = 30.0
MIN_VISIBILITY = 0.5
# Shoulder width over trunk length in the picture (both from landmarks, median over the trial):
# about 0.6-0.75 facing the camera and under 0.2 side-on in the sample clips; it shrinks with the cosine
# of the body's turn, so 0.5 is about 40 degrees off frontal and 0.3 about 65 degrees.
FRONT_MIN_RATIO = 0.5
SIDE_MAX_RATIO = 0.3


@dataclass(frozen=True)
class Scale:
    """How landmark distances become the reported unit."""

    unit: str  # "cm" with the subject's height, else "%leg" (percent of the stance leg's length)
    image_per_unit: float  # pixels per unit
    world_per_unit: float  # MediaPipe world metres per unit
    leg_length_px: float
    leg_length_world_m: float
    height_cm: float | None


LEVEL = Vertical(0.0, 0.0, "assumed_level", 0)


@dataclass(frozen=True)
class SwayMetrics:
    """Sway of one trial. Traces are relative to the stance ankle unless named otherwise."""

    trial: Trial
    view: str  # "front", "side" or "oblique"
    view_ratio: float
    horizontal_axis: str  # what the picture's horizontal axis measures in this view
    scale: Scale
    analysed_from_s: float
    analysed_to_s: float
    fs: float
    coverage: float  # share of analysed frames where the landmarks were visible
    observed: tuple[TraceMetrics, ...]  # along the picture's horizontal axis
    depth_estimates: tuple[TraceMetrics, ...]  # two axes: picture horizontal + MediaPipe depth (estimate)
    angles: tuple[TraceMetrics, ...]  # trunk lean and pelvic tilt, degrees in the picture plane
    grid: np.ndarray  # uniform time grid of the analysed window, s
    series: dict[str, np.ndarray]  # the filtered traces on that grid, by name (unit as above)
    vertical: Vertical = LEVEL  # the camera's roll, corrected before anything was measured
    facing: Facing | None = None  # which way the subject faced and how the sides were decided
    camera: CameraMotion | None = None  # the camera's own motion, removed before anything was measured

    def to_dict(self) -> dict[str, Any]:
        return {
            "view": self.view,
            "view_ratio": round(self.view_ratio, 3),
            "horizontal_axis": self.horizontal_axis,
            "unit": self.scale.unit,
            "height_cm": self.scale.height_cm,
            "leg_length_px": round(self.scale.leg_length_px, 1),
            "analysed_from_s": round(self.analysed_from_s, 3),
            "analysed_to_s": round(self.analysed_to_s, 3),
            "sample_rate_hz": self.fs,
            "landmark_coverage": round(self.coverage, 3),
            "observed": {m.name: m.to_dict() for m in self.observed},
            "depth_estimates": {m.name: m.to_dict() for m in self.depth_estimates},
            "angles": {m.name: m.to_dict() for m in self.angles},
            "camera_roll": self.vertical.to_dict(),
            "facing": None if self.facing is None else self.facing.to_dict(),
            "camera_motion": None if self.camera is None else self.camera.to_dict(),
        }


def body_scale(track: PoseTrack, trial: Trial, height_cm: float | None) -> Scale:
    sl = slice(trial.start_index, trial.stop_index)
    leg_px = float(np.nanmedian(leg_length(track.image_xy[sl], trial.stance_leg)))
    leg_m = float(np.nanmedian(leg_length(track.world[sl], trial.stance_leg)))
    if height_cm:
        leg_cm = LEG_LENGTH_PER_HEIGHT * height_cm
        return Scale("cm", leg_px / leg_cm, leg_m / leg_cm, leg_px, leg_m, height_cm)
    return Scale("%leg", leg_px / 100.0, leg_m / 100.0, leg_px, leg_m, None)


def camera_view(xy: np.ndarray) -> tuple[str, float]:
    shoulders = np.abs(xy[:, lm.SHOULDER["left"], 0] - xy[:, lm.SHOULDER["right"], 0])
    trunk = np.linalg.norm(shoulder_centre(xy) - hip_centre(xy), axis=1)
    ratio = float(np.nanmedian(shoulders / trunk))
    if ratio >= FRONT_MIN_RATIO:
        return "front", ratio
    if ratio <= SIDE_MAX_RATIO:
        return "side", ratio
    return "oblique", ratio


HORIZONTAL_AXIS = {
    "front": "ml",
    "side": "ap",
    "oblique": "mixed",
}
AXIS_WORDS = {
    "ml": "side to side (medio-lateral)",
    "ap": "forward-backward (antero-posterior)",
    "mixed": "across the picture (oblique view: a mix of side-to-side and forward-backward)",
}


def analysis_window(track: PoseTrack, trial: Trial) -> slice:
    t = track.t
    start = trial.lift_off_s + (0.0 if trial.starts_with_clip else SETTLE_S)
    if trial.touch_down_s is not None:
        stop = trial.end_s - PRE_LANDING_S
    elif trial.end_s < t[-1]:
        stop = trial.end_s - PRE_LOSS_S
    else:
        stop = trial.end_s
    if stop - start < MIN_ANALYSED_S:
        start, stop = trial.lift_off_s, trial.end_s
    i0 = max(trial.start_index, int(np.searchsorted(t, start)))
    i1 = min(trial.stop_index, int(np.searchsorted(t, stop, side="right")))
    return slice(i0, i1)


@dataclass(frozen=True)
class Window:
    """The analysed frames of one trial: raw landmarks, which frames are usable, and the metrics' rate."""

    t: np.ndarray
    xy: np.ndarray
    world: np.ndarray
    valid: np.ndarray
    fs: float
    stance: str


def trial_window(track: PoseTrack, trial: Trial, vertical: Vertical = LEVEL) -> Window:
    """The trial's analysed frames, turned so that the camera's true vertical is the picture's."""
    sl = analysis_window(track, trial)
    centre = np.array([track.width / 2, track.height / 2])
    xy, vis = level(track.image_xy[sl], vertical.roll_deg, centre), track.visibility[sl]
    # Arms and the far leg are often hidden (side views, hands behind the back); MediaPipe still places
    # them well enough for a 5 %-of-mass share, so validity rests on the trunk and the stance foot.
    core = [lm.SHOULDER["left"], lm.SHOULDER["right"], lm.HIP["left"], lm.HIP["right"], *lm.FOOT[trial.stance_leg]]
    valid = np.all(vis[:, core] >= MIN_VISIBILITY, axis=1) & np.isfinite(xy[:, 0, 0])
    fs = min(MAX_FS, round(track.fps, 3)) if track.fps else MAX_FS
    valid &= ~foot_lost(xy, trial.stance_leg, fs)
    # World landmarks share the camera's axes (y down): the same roll turns them upright.
    return Window(track.t[sl], xy, level(track.world[sl], vertical.roll_deg), valid, fs, trial.stance_leg)


def _standing_foot(xy: np.ndarray, stance: str) -> tuple[np.ndarray, float]:
    """The standing foot's position per frame (mean of heel, ankle and toe; NaN with no pose) and the median leg
    length over the frames, both in the picture's pixels."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames with no pose: NaN, invalid anyway
        return np.nanmean(xy[:, list(lm.FOOT[stance])], axis=1), float(np.nanmedian(leg_length(xy, stance)))


def foot_lost(xy: np.ndarray, stance: str, fs: float) -> np.ndarray:
    """Per frame: the standing foot's landmarks away from where the foot stands, for less than a second."""
    foot, legs = _standing_foot(xy, stance)
    seen = np.all(np.isfinite(foot), axis=1)
    lost = np.zeros(len(xy), dtype=bool)
    if seen.sum() < 3 or not np.isfinite(legs) or legs <= 0:
        return lost
    size = max(3, int(LOST_FOOT_S * fs) | 1)
    where = np.column_stack([median_filter(foot[seen, k], size=size, mode="nearest") for k in range(2)])
    lost[seen] = np.linalg.norm(foot[seen] - where, axis=1) > LOST_FOOT_LEGS * legs
    return lost


def foot_wander(track: PoseTrack, trial: Trial) -> float:
    """Side-to-side SD of the standing foot (heel, ankle, toe) in the picture over the trial, low-passed as the
    sway is, in leg lengths: how far a planted foot moved across the picture (pose/steady.py FOOT_WANDER_SD)."""
    w = trial_window(track, trial)
    foot, legs = _standing_foot(w.xy, w.stance)
    _, x, _ = clean(w.t, foot[:, 0] / legs, w.valid, w.fs)  # frames with no pose: not valid, bridged
    return float(np.std(x))


def clip_vertical(track: PoseTrack, state: np.ndarray, trials: tuple[Trial, ...]) -> Vertical:
    """The camera's roll for the whole clip (vertical.py): from two-leg standing, else from the holds."""
    holds = [(analysis_window(track, trial), trial.stance_leg) for trial in trials]
    seen = np.isfinite(track.image_xy[:, 0, 0])
    view, _ = camera_view(track.image_xy[seen]) if seen.any() else ("front", 0.0)
    return camera_vertical(track.image_xy, track.visibility, state, track.fps or MAX_FS, holds, view)


def measure(
    track: PoseTrack,
    trial: Trial,
    height_cm: float | None = None,
    vertical: Vertical = LEVEL,
    facing: Facing | None = None,
    camera: CameraMotion | None = None,
) -> SwayMetrics:
    """Sway metrics of one trial (the track should already have consistent sides and the camera's motion
    removed: balance.pose.steady)."""
    w = trial_window(track, trial, vertical)
    scale = body_scale(track, trial, height_cm)
    view, ratio = camera_view(w.xy)
    axis = HORIZONTAL_AXIS[view]
    series: dict[str, np.ndarray] = {}
    grid, coverage, observed, depth = _body_points(w, scale, axis, series)
    observed.append(_stance_foot(w, scale, axis, series))
    angles = _angles(w, series)
    return SwayMetrics(
        trial=trial,
        view=view,
        view_ratio=ratio,
        horizontal_axis=axis,
        scale=scale,
        analysed_from_s=float(w.t[0]),
        analysed_to_s=float(w.t[-1]),
        fs=w.fs,
        coverage=coverage,
        observed=tuple(observed),
        depth_estimates=tuple(depth),
        angles=tuple(angles),
        grid=grid,
        series=series,
        vertical=vertical,
        facing=facing,
        camera=camera,
    )


def _body_points(
    w: Window, scale: Scale, axis: str, series: dict[str, np.ndarray]
) -> tuple[np.ndarray, float, list[TraceMetrics], list[TraceMetrics]]:
    """Centre of mass, hip and shoulder centres about the stance ankle: (grid, coverage, observed, depth)."""
    xy, world, ankle = w.xy, w.world, lm.ANKLE[w.stance]
    points = {
        "centre_of_mass": (centre_of_mass(xy), centre_of_mass(world)),
        "hip_centre": (hip_centre(xy), hip_centre(world)),
        "shoulder_centre": (shoulder_centre(xy), shoulder_centre(world)),
    }
    observed: list[TraceMetrics] = []
    depth: list[TraceMetrics] = []
    grid = np.empty(0)
    coverage = 1.0
    for name, (img, wld) in points.items():
        # Relative to the stance ankle: camera shake and whole-picture drift cancel, and MediaPipe's world
        # landmarks (centred on the hips) carry no whole-body translation of their own.
        horiz = (img[:, 0] - xy[:, ankle, 0]) / scale.image_per_unit
        dep = (wld[:, 2] - world[:, ankle, 2]) / scale.world_per_unit
        grid, both, coverage = clean(w.t, np.column_stack([horiz, dep]), w.valid, w.fs)
        series[name] = both[:, 0]
        series[f"{name}_depth"] = both[:, 1]
        observed.append(trace_metrics(name, both[:, 0], w.fs, (axis,), scale.unit))
        depth.append(trace_metrics(name, both, w.fs, (axis, "depth_estimate"), scale.unit))
    return grid, coverage, observed, depth


def _stance_foot(w: Window, scale: Scale, axis: str, series: dict[str, np.ndarray]) -> TraceMetrics:
    """The stance foot itself: its centre's motion in the picture about its own mean, horizontal and vertical."""
    foot = w.xy[:, list(lm.FOOT[w.stance])].mean(axis=1) / scale.image_per_unit
    _, foot_f, _ = clean(w.t, foot, w.valid, w.fs)
    series["stance_foot"] = foot_f
    return trace_metrics("stance_foot", foot_f, w.fs, (axis, "vertical"), scale.unit)


def _angles(w: Window, series: dict[str, np.ndarray]) -> list[TraceMetrics]:
    """Trunk lean and pelvic tilt in the picture, degrees."""
    xy, stance = w.xy, w.stance
    trunk = tilt_deg(hip_centre(xy), shoulder_centre(xy))
    hips = xy[:, lm.HIP[lm.other(stance)]] - xy[:, lm.HIP[stance]]
    # Pelvic tilt in the picture: the free-side hip above (+) or below (-) the stance-side hip, degrees;
    # seen from the front this is pelvic obliquity, and a negative value is the free-side hip drop.
    sign = 1.0 if hips[:, 0].mean() >= 0 else -1.0
    pelvis = np.degrees(np.arctan2(-hips[:, 1], sign * hips[:, 0]))
    angles = []
    for name, ang in (("trunk_lean", trunk), ("pelvic_tilt", pelvis)):
        _, ang_f, _ = clean(w.t, ang, w.valid, w.fs)
        series[name] = ang_f
        angles.append(trace_metrics(name, ang_f, w.fs, ("picture_plane",), "deg"))
    return angles


FILTER_NOTE = (
    f"landmarks: Hampel outlier rejection (+-3 frames, 3 MAD), gaps up to 0.5 s bridged linearly, "
    f"resampled to a uniform grid, zero-lag Butterworth low-pass order {LOWPASS_ORDER} at {LOWPASS_HZ:g} Hz "
    f"(forward-backward)"
)
