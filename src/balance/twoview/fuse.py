"""One 2-D trial from two views: side to side from the front view, forward-backward from the side view.

Each view's traces are already relative to its stance ankle, low-passed and scaled by the stance leg's length
(measure/trial.py); here they are turned to the subject's axes (+ml towards the subject's left, +ap forward),
put on one grid over the time both views see the hold (the side clip's clock moved by the offset), and scored
with the force-plate metrics of measure/sway.py on both axes at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np

from balance.assess.assessment import Assessment
from balance.assess.tripod import HOLDS_SD
from balance.errors import PairError
from balance.measure.sway import TraceMetrics, prediction_ellipse_area, trace_metrics
from balance.measure.trial import SwayMetrics
from balance.pose import landmarks as lm
from balance.pose.estimate import PoseTrack
from balance.twoview.pairing import Pairing
from balance.twoview.sync import MIN_OVERLAP_S, Sync
from balance.video.reader import VideoInfo


class View(Protocol):
    """What this stage reads of one view's analysis (balance.pipeline.Analysis, which sits above this stage)."""

    @property
    def clip(self) -> VideoInfo: ...
    @property
    def track(self) -> PoseTrack: ...
    @property
    def trials(self) -> tuple[SwayMetrics, ...]: ...
    @property
    def assessments(self) -> tuple[Assessment, ...]: ...


V = TypeVar("V", bound=View)

POINTS = ("centre_of_mass", "hip_centre", "shoulder_centre")
AXES = ("ml", "ap")
# Lift-off and touch-down seen by both views more than this far apart after synchronisation are reported: the
# stance finder confirms a contact after 0.15 s (stance/trials.py, CONTACT_S), and a frame at 30 fps adds 0.03 s,
# so timing jitter alone stays under 0.2 s.
EVENT_TOLERANCE_S = 0.2


@dataclass(frozen=True)
class FusedTrial:
    """One hold seen by both views, on the front clip's clock."""

    front_index: int  # the trial's index in the front and the side analysis
    side_index: int
    stance_leg: str
    from_s: float
    to_s: float
    fs: float
    unit: str
    grid: np.ndarray
    series: dict[str, np.ndarray]  # (N, 2) ml, ap per body point
    traces: tuple[TraceMetrics, ...]
    ellipse_area_offset_sd: float  # how much the centre of mass's ellipse area moves over the offset's SD
    tripod: dict[str, Any]
    events: dict[str, Any]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        u = self.unit
        return {
            "front_trial": self.front_index,
            "side_trial": self.side_index,
            "stance_leg": self.stance_leg,
            "analysed_from_s": round(self.from_s, 3),
            "analysed_to_s": round(self.to_s, 3),
            "sample_rate_hz": self.fs,
            "unit": u,
            "axes": list(AXES),
            "traces": {m.name: m.to_dict() for m in self.traces},
            "ellipse_area_offset_sd": round(self.ellipse_area_offset_sd, 4),
            "tripod": self.tripod,
            "events": self.events,
            "notes": list(self.notes),
            "units": {
                "analysed_from_s": "s on the front clip's clock",
                "ellipse_area_offset_sd": f"{u}^2, half the change of the centre of mass's 95 % ellipse area when "
                "the side clip is moved by the offset's SD either way",
            },
            "axes_convention": "ml: + towards the subject's left, from the front view; "
            "ap: + forward, from the side view",
        }


@dataclass(frozen=True)
class TwoView:
    """The side clip's analysis, how it was paired and synchronised with the front clip, and the fused trials."""

    side: Any  # the side clip's balance.pipeline.Analysis (a View here: the pipeline sits above this stage)
    pairing: Pairing
    sync: Sync
    trials: tuple[FusedTrial, ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        clip = self.side.clip
        return {
            "side_clip": {
                "path": str(clip.path),
                "sha256": clip.sha256,
                "width": clip.width,
                "height": clip.height,
                "fps_nominal": round(clip.fps_nominal, 3),
                "duration_s": round(clip.duration_s, 3),
                "analysed_fps": round(self.side.track.fps, 3),
            },
            "pairing": self.pairing.to_dict(),
            "sync": self.sync.to_dict(),
            "trials": [t.to_dict() for t in self.trials],
            "notes": list(self.notes),
        }


def ml_sign(m: SwayMetrics) -> tuple[float, str]:
    """+1 when the picture's +x is the subject's left (facing the camera), -1 facing away; and a note if assumed."""
    towards = None if m.facing is None else m.facing.towards_camera
    if towards is None:
        return 1.0, "the front view could not tell which way the subject faced: facing the camera was assumed"
    return (1.0 if towards else -1.0), ""


def ap_sign(track: PoseTrack, m: SwayMetrics) -> float:
    """+1 when the picture's +x is forward: the side view shows the stance foot's toes ahead of its heel."""
    sl = slice(m.trial.start_index, m.trial.stop_index)
    xy = track.image_xy[sl]
    d = np.nanmedian(xy[:, lm.FOOT_INDEX[m.trial.stance_leg], 0] - xy[:, lm.HEEL[m.trial.stance_leg], 0])
    return 1.0 if not np.isfinite(d) or d >= 0 else -1.0


def _overlap(f: SwayMetrics, s: SwayMetrics, offset: float) -> float:
    return min(f.analysed_to_s, s.analysed_to_s + offset) - max(f.analysed_from_s, s.analysed_from_s + offset)


def match_trials(front: View, side: View, offset: float) -> list[tuple[int, int]]:
    """For each front trial, the side trial on the same leg that overlaps it most (PairError when none do)."""
    pairs = []
    other_leg = None
    for i, f in enumerate(front.trials):
        best, best_overlap = -1, MIN_OVERLAP_S
        for j, s in enumerate(side.trials):
            ov = _overlap(f, s, offset)
            if s.trial.stance_leg != f.trial.stance_leg:
                if ov > 0 and other_leg is None:
                    other_leg = (f, s)
                continue
            if ov >= best_overlap:
                best, best_overlap = j, ov
        if best >= 0:
            pairs.append((i, best))
    if pairs:
        return pairs
    if other_leg is not None:
        f, s = other_leg
        raise PairError(
            f"at the same moment the front clip shows a stance on the {f.trial.stance_leg} leg and the side clip on "
            f"the {s.trial.stance_leg} leg: different people or different trials",
            "Give two clips of the same person filmed at the same time",
            option="side",
        )
    raise PairError(
        f"the one-leg holds of the two clips do not overlap in time by at least {MIN_OVERLAP_S:g} s (side clip "
        f"offset {offset:+.2f} s)",
        "Give two clips recorded at the same time, both running through the hold",
        option="side",
    )


def compare_events(f: SwayMetrics, s: SwayMetrics, offset: float) -> tuple[dict[str, Any], list[str]]:
    """Each view's lift-off and touch-down on the front clip's clock, and a note for each pair further apart than
    EVENT_TOLERANCE_S (the end of a hold seen without a touch-down counts against the other view's touch-down)."""
    ft, st = f.trial, s.trial
    lift = (ft.lift_off_s, st.lift_off_s + offset)
    td_f = ft.touch_down_s
    td_s = None if st.touch_down_s is None else st.touch_down_s + offset
    notes = []
    events: dict[str, Any] = {
        "lift_off_s": {"front": round(lift[0], 3), "side": round(lift[1], 3)},
        "touch_down_s": {
            "front": None if td_f is None else round(td_f, 3),
            "side": None if td_s is None else round(td_s, 3),
        },
        "tolerance_s": EVENT_TOLERANCE_S,
    }
    # A hold that starts with the clip has no seen lift-off: its time is the clip's start, not an event.
    if not (ft.starts_with_clip or st.starts_with_clip) and abs(lift[0] - lift[1]) > EVENT_TOLERANCE_S:
        notes.append(
            f"the views disagree on lift-off: {lift[0]:.2f} s in the front view, {lift[1]:.2f} s in the side view"
        )
    end_f = td_f if td_f is not None else ft.end_s
    end_s = td_s if td_s is not None else st.end_s + offset
    if (td_f is not None or td_s is not None) and abs(end_f - end_s) > EVENT_TOLERANCE_S:
        words = {True: "touch-down at", False: "the hold seen until"}
        notes.append(
            f"the views disagree on touch-down: {words[td_f is not None]} {end_f:.2f} s in the front view, "
            f"{words[td_s is not None]} {end_s:.2f} s in the side view"
        )
    events["disagree"] = bool(notes)
    return events, notes


def _tripod(front: Assessment, side: Assessment, side_view: str) -> dict[str, Any]:
    ft, st = front.tripod, side.tripod
    lo, hi = ft.medial_ci95
    if side_view == "side":
        # The side view's fore-aft SD holds landmark jitter only; the spread over real holds measured for the
        # side-to-side axis (tripod.py, HOLDS_SD) is added as a stand-in for what the model and camera get wrong.
        sd = math.hypot(st.fore_aft_sd, HOLDS_SD)
        fore_aft: dict[str, Any] = {
            "mean": round(st.mean_fore_aft, 3),
            "sd_total": round(sd, 3),
            "ci95": [round(st.mean_fore_aft - 1.96 * sd, 3), round(st.mean_fore_aft + 1.96 * sd, 3)],
            "words": f"centre of mass {st.mean_fore_aft:.2f} foot lengths from the heel, 95 % interval "
            f"{st.mean_fore_aft - 1.96 * sd:.2f} to {st.mean_fore_aft + 1.96 * sd:.2f} (side view)",
        }
    else:
        fore_aft = {
            "mean": None,
            "sd_total": None,
            "ci95": None,
            "words": f"this view cannot tell: the second camera is {side_view}, not side-on, so heel to toe is "
            "not across its picture",
        }
    return {
        "medial": {
            "mean": round(ft.mean_medial, 3),
            "sd_total": round(ft.medial_sd_total, 3),
            "ci95": [round(lo, 3), round(hi, 3)],
            "answer": ft.answer,
            "words": ft.answer_words(),
        },
        "fore_aft": fore_aft,
        "units": {"mean": "foot lengths (medial: + towards the big toe; fore_aft: from the heel, 1 = toe tip)"},
    }


def _on(grid: np.ndarray, t: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.interp(grid, t, x)


def fuse_trial(front: View, side: View, i: int, j: int, offset: float, offset_sd: float) -> FusedTrial:
    """The i-th front trial and the j-th side trial on one grid (offset: t_front = t_side + offset)."""
    f, s = front.trials[i], side.trials[j]
    sx, note = ml_sign(f)
    sy = ap_sign(side.track, s)
    fs = min(f.fs, s.fs)
    t0 = max(f.grid[0], s.grid[0] + offset)
    t1 = min(f.grid[-1], s.grid[-1] + offset)
    n = int(math.floor((t1 - t0) * fs + 1e-9)) + 1
    if n < 3 or t1 - t0 < MIN_OVERLAP_S:
        raise PairError(
            f"the two views see the {f.trial.stance_leg}-leg hold together for only {max(0.0, t1 - t0):.2f} s",
            "Give two clips recorded at the same time, both running through the hold",
            option="side",
        )
    grid = t0 + np.arange(n) / fs

    def pair(name: str, shift: float = 0.0) -> np.ndarray:
        ml = sx * _on(grid, f.grid, f.series[name])
        ap = sy * _on(grid - offset - shift, s.grid, s.series[name])
        return np.column_stack([ml, ap])

    series = {name: pair(name) for name in POINTS}
    traces = tuple(trace_metrics(name, series[name], fs, AXES, f.scale.unit) for name in POINTS)
    # The offset is known to its SD: the ellipse area over that range of shifts (the shifted grid stays inside
    # the side trace, whose ends np.interp holds).
    areas = [prediction_ellipse_area(pair("centre_of_mass", d)) for d in (-offset_sd, offset_sd)]
    events, notes = compare_events(f, s, offset)
    if f.scale.unit != s.scale.unit:
        raise ValueError("both views are analysed with the same options, so in the same unit")
    return FusedTrial(
        front_index=i,
        side_index=j,
        stance_leg=f.trial.stance_leg,
        from_s=float(grid[0]),
        to_s=float(grid[-1]),
        fs=fs,
        unit=f.scale.unit,
        grid=grid,
        series=series,
        traces=traces,
        ellipse_area_offset_sd=abs(areas[1] - areas[0]) / 2,
        tripod=_tripod(front.assessments[i], side.assessments[j], s.view),
        events=events,
        notes=tuple([note] if note else []) + tuple(notes),
    )


def fuse(front: View, side: View, pairing: Pairing, sync: Sync) -> TwoView:
    """Every hold both views see, fused (PairError when they share none)."""
    pairs = match_trials(front, side, sync.offset_s)
    trials = tuple(fuse_trial(front, side, i, j, sync.offset_s, sync.offset_sd_s) for i, j in pairs)
    notes = []
    if pairing.note:
        notes.append(pairing.note)
    if abs(front.track.fps - side.track.fps) > 0.01 * max(front.track.fps, side.track.fps):
        notes.append(
            f"the clips run at different rates ({front.track.fps:.2f} and {side.track.fps:.2f} frames a second "
            "analysed): both were resampled to one time base"
        )
    for t in trials:
        notes += [f"{t.stance_leg}-leg hold: {n}" for n in t.notes]
    return TwoView(side, pairing, sync, trials, tuple(notes))
