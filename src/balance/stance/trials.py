"""Find single-leg stance trials in a `PoseTrack`: which leg stands, when the other foot lifts and lands.

Pure logic on landmark arrays; thresholds are in leg lengths so they hold at any distance from the camera.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter

from balance.errors import PoseError, StanceError
from balance.measure.body import hip_centre, leg_length, shoulder_centre
from balance.measure.signals import hampel
from balance.pose import landmarks as lm
from balance.pose.estimate import PoseTrack

# A trial is at least 3 s of one-leg stance. Gait's single support lasts about 0.4 s a step
# (Perry & Burnfield, Gait Analysis, 2nd ed. 2010, ch. 1: 40 % of a ~1.1 s stride) and a kicked or
# swung leg is off the floor for 1-1.5 s, so 3 s excludes both while keeping a failed hold of a few
# seconds, which is itself a result worth reporting. Clinical holds are far longer (the BESS uses 20 s,
# Riemann et al. 1999, J Sport Rehabil 8:71; single-leg stance tests 30-45 s, Springer et al. 2007,
# J Geriatr Phys Ther 30:8).
MIN_TRIAL_S = 3.0
# Shorter one-leg phases than this are steps, stumbles or detection noise and are only counted.
MIN_REPORTED_PHASE_S = 0.5
# The free foot counts as lifted when its lowest point (heel, ankle or toe) is this many leg lengths
# above the stance foot's lowest point; it counts as down again below FOOT_DOWN. Between the two the
# previous state holds (hysteresis), so landmark jitter near a threshold does not toggle the state.
# 0.08 leg length is ~7 cm for an adult: above the depth parallax of two feet side by side on the floor
# and the MediaPipe foot jitter measured on the sample clips, below any deliberate lift.
FOOT_UP = 0.15
FOOT_DOWN = 0.08
# A foot that dips below FOOT_DOWN only briefly while moving fast is a swing passing near the floor,
# not a touch-down (a lateral leg swing spends at most 0.23 s there in the sample clips). Touch-down
# is the foot low and slow for CONTACT_S, or low at any speed for CONTACT_ANY_S (walking: the
# feet keep moving across the picture but are down for 0.6-1.3 s at a time).
CONTACT_S = 0.15
CONTACT_ANY_S = 0.4
CONTACT_SPEED = 0.5  # leg lengths per second
# A standing foot is planted. The lower foot moving faster than this (about 45 cm/s) is a free foot
# swinging in front of the other, which a camera above hip height shows lower in the picture.
STANCE_FOOT_SPEED = 0.5
# Landmark dropouts shorter than this do not end a trial.
MAX_DROPOUT_S = 0.5
# A subject's hip centre cannot move this many leg lengths between consecutive frames: such a jump
# means the tracker switched to someone else (or re-detected after a cut), and a trial never spans it.
MAX_HIP_JUMP = 0.6
# A cut, a cross-dissolve or a zoom changes the whole skeleton's scale in the picture; a person holding a
# one-leg stance does not (bending the trunk 30 degrees forward shortens it by 13 %). The trunk's length
# (shoulder centre to hip centre) differing from its median over the previous second by more than 25 %
# therefore ends a hold as the subject leaving the picture does (edited clips cut from a full-body hold to a
# close-up of the legs).
MAX_SCALE_CHANGE = 1.25
SCALE_WINDOW_S = 1.0
# Feet whose lowest point is this close to the frame's bottom edge (fraction of the height) or beyond
# it are out of frame; landmarks there are MediaPipe's guesses.
EDGE_MARGIN = 0.005
MIN_VISIBILITY = 0.3


@dataclass
class StanceRule:
    """The per-frame rule for which leg stands, shared by offline detection and live recording.

    Feed frames in order. step() returns "left"/"right" (standing on that leg), "both", "unknown", or
    "touch_down" on the frame where a touch-down is confirmed (the state is then "both").
    """

    current: str = "both"
    low_since: float | None = None
    slow_since: float | None = None

    def forget_contact(self) -> None:
        """A frame whose landmarks were drawn in from the frames either side (someone else overlapped the subject)
        shows no foot rising or landing: no contact is timed across it."""
        self.low_since = self.slow_since = None

    def step(
        self, t: float, known: bool, jump: bool, gap: float, foot_speed: Mapping[str, float], free_speed: float
    ) -> str:
        if not known or jump:
            if jump:
                self.current = "both"
            return "unknown"
        if abs(gap) >= FOOT_UP:
            side = "left" if gap > 0 else "right"
            if foot_speed[side] > STANCE_FOOT_SPEED and side != self.current:
                # A stance foot is planted; a low foot that is moving is a swing seen in perspective. The foot
                # that already stands, still the lower with the other one up, is not a swing: its landmarks
                # jumping (a face covered for a second throws the whole skeleton) or a hop keep the stance.
                return "unknown"
            self.current = side
            self.low_since = self.slow_since = None
        elif self.current != "both" and abs(gap) < FOOT_DOWN:
            self.low_since = t if self.low_since is None else self.low_since
            slow = free_speed < CONTACT_SPEED
            self.slow_since = (t if self.slow_since is None else self.slow_since) if slow else None
            if t - self.low_since >= CONTACT_ANY_S or (
                self.slow_since is not None and t - self.slow_since >= CONTACT_S
            ):
                self.current = "both"
                return "touch_down"
        else:
            self.low_since = self.slow_since = None
        return self.current


@dataclass(frozen=True)
class Trial:
    """One period of single-leg stance. Times are seconds from the clip's first frame."""

    stance_leg: str  # the subject's own leg that carries the weight: "left" or "right"
    lift_off_s: float  # when the free foot left the floor, or the clip's first frame
    touch_down_s: float | None  # None when the clip ends (or the subject leaves) before touch-down
    starts_with_clip: bool
    start_index: int  # analysed frames [start_index, stop_index) of the PoseTrack
    stop_index: int
    end_s: float  # last frame of the trial

    @property
    def hold_s(self) -> float:
        return (self.touch_down_s if self.touch_down_s is not None else self.end_s) - self.lift_off_s

    @property
    def free_leg(self) -> str:
        return lm.other(self.stance_leg)


@dataclass(frozen=True)
class ShortPhase:
    """A one-leg phase shorter than MIN_TRIAL_S: reported, not scored."""

    stance_leg: str
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class StanceTimeline:
    """The trials found in a clip plus the per-frame evidence they came from."""

    trials: tuple[Trial, ...]
    short_phases: tuple[ShortPhase, ...]
    state: np.ndarray  # per frame: "left"/"right" (single-leg, that leg standing), "both", "unknown"
    foot_gap: np.ndarray  # per frame: stance-left-positive height difference of the feet, leg lengths
    feet_in_frame: float  # share of detected frames with both feet inside the picture


def _foot_low_point(track: PoseTrack, side: str) -> np.ndarray:
    ys = track.image_xy[:, list(lm.FOOT[side]), 1]
    return np.max(hampel(ys), axis=1)


def _runs(values: np.ndarray) -> list[tuple[int, int, object]]:
    """(start, stop, value) for each run of equal values."""
    if len(values) == 0:
        return []
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(values)]])
    return [(int(a), int(b), values[a]) for a, b in zip(starts, stops, strict=True)]


def find_trials(track: PoseTrack, min_trial_s: float = MIN_TRIAL_S) -> StanceTimeline:
    """Classify every frame as one-leg (which leg), both feet down, or unknown, and cut trials of at least
    `min_trial_s` (shorter lab recordings may ask for less than the default MIN_TRIAL_S)."""
    n = len(track)
    t = track.t
    detected = track.detected
    if detected.sum() < 2:
        raise PoseError("no person was found in the clip", "Film the whole body, head to feet, in good light")
    xy = track.image_xy
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames (no person) stay NaN
        legs = np.nanmedian(np.stack([leg_length(xy, s) for s in lm.SIDES]), axis=0)
    # The subject's distance to the camera changes slowly: a rolling median over ~2 s tracks it
    # without following single-frame errors.
    fs = track.fps or 30.0
    scale = median_filter(np.where(np.isfinite(legs), legs, np.nanmedian(legs)), size=max(3, int(2 * fs) | 1))
    low = {s: _foot_low_point(track, s) for s in lm.SIDES}
    gap = (low["left"] - low["right"]) / scale  # > 0: left foot lower in the picture, so left is standing

    visible = np.ones(n, dtype=bool)
    for side in lm.SIDES:
        visible &= np.all(track.visibility[:, list(lm.FOOT[side])] >= MIN_VISIBILITY, axis=1)
        visible &= low[side] < track.height * (1 - EDGE_MARGIN)
    # Landmarks drawn in where someone else overlapped the subject (balance.pose.crowd) show no foot rising or
    # landing: the stance there is the one on either side of them (the walker copy of P7 got a touch-down from
    # 2.4 s of feet drawn in mid-swing, low and still).
    bridged = track.drawn_in
    known = detected & visible & np.isfinite(gap) & ~bridged
    feet_in_frame = float(known.sum() / max(1, detected.sum()))

    speeds = _foot_speeds(track, low, scale)
    # The free foot is the higher one in the picture.
    speed = np.where(low["left"] < low["right"], speeds["left"], speeds["right"])
    hips = hip_centre(xy)
    jump = np.r_[False, np.linalg.norm(np.diff(hips, axis=0), axis=1) / scale[1:] > MAX_HIP_JUMP]
    jump |= _scale_jumps(np.linalg.norm(shoulder_centre(xy) - hips, axis=1), max(1, int(SCALE_WINDOW_S * fs)))

    state = np.full(n, "unknown", dtype=object)
    rule = StanceRule()
    for i in range(n):
        if bridged[i]:
            rule.forget_contact()
        step = rule.step(t[i], bool(known[i]), bool(jump[i]), gap[i], {s: speeds[s][i] for s in lm.SIDES}, speed[i])
        state[i] = "both" if step == "touch_down" else step
    # A touch-down is dated from when the foot first came to rest, not from when the rule was sure.
    state = _backdate_contacts(state, gap, speed, t)
    state = _bridge_dropouts(state, t, jump, bridged, gap)
    trials, short = _cut(state, gap, t, min_trial_s)
    return StanceTimeline(tuple(trials), tuple(short), state, gap, feet_in_frame)


def _scale_jumps(trunk: np.ndarray, window: int) -> np.ndarray:
    """Frames whose trunk length differs from its median over the previous `window` frames by a cut's factor.

    The reference restarts at each cut: the frames after it are compared with the new shot only, so a hold
    that begins right after a cut begins there, not once the old shot has left the window.
    """
    out = np.zeros(len(trunk), dtype=bool)
    since = 0  # the first frame of the current shot
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames with no person stay NaN and never jump
        for i in range(1, len(trunk)):
            ref = np.nanmedian(trunk[max(since, i - window) : i])
            out[i] = bool(np.abs(np.log(trunk[i] / ref)) > np.log(MAX_SCALE_CHANGE))
            if out[i]:
                since = i
    return out


def _foot_speeds(track: PoseTrack, low: dict[str, np.ndarray], scale: np.ndarray) -> dict[str, np.ndarray]:
    """Speed of each foot's lowest point, leg lengths per second, median-smoothed over 5 frames."""
    speeds = {}
    for side in lm.SIDES:
        x = track.image_xy[:, list(lm.FOOT[side]), 0].mean(axis=1)
        v = np.linalg.norm(np.gradient(np.column_stack([x, low[side]]), track.t, axis=0), axis=1) / scale
        speeds[side] = median_filter(np.nan_to_num(v, nan=np.inf), size=5)
    return speeds


def _backdate_contacts(state: np.ndarray, gap: np.ndarray, speed: np.ndarray, t: np.ndarray) -> np.ndarray:
    out = state.copy()
    for a, _b, value in _runs(state):
        if value != "both" or a == 0 or out[a - 1] not in lm.SIDES:
            continue
        i = a - 1
        while i > 0 and out[i] in lm.SIDES and abs(gap[i]) < FOOT_DOWN:
            out[i] = "both"
            i -= 1
    return out


def _bridge_dropouts(
    state: np.ndarray, t: np.ndarray, jump: np.ndarray, bridged: np.ndarray, gap: np.ndarray
) -> np.ndarray:
    """Fill short unknown stretches inside one stance, but never across a jump to another person; and stretches
    of landmarks drawn in while someone else passed (`bridged`, at most balance.pose.crowd.MAX_LEFT_OUT_S) where
    the free foot is seen up again after them: a foot that comes out of the stretch down may have landed in it,
    so the hold ends where the stretch began (the walker copy of P7 lands while the walker passes)."""
    out = state.copy()
    runs = _runs(state)
    for k, (a, b, value) in enumerate(runs):
        if value != "unknown" or k == 0 or k == len(runs) - 1 or jump[a:b].any():
            continue
        before, after = runs[k - 1][2], runs[k + 1][2]
        if before != after or before not in lm.SIDES:
            continue
        up_after = bool(np.any(np.abs(gap[b : runs[k + 1][1]]) >= FOOT_UP))
        if t[b] - t[a - 1] <= MAX_DROPOUT_S or (bridged[a:b].all() and up_after):
            out[a:b] = before
    return out


def ended_by(trial: Trial, track: PoseTrack) -> str:
    """How a hold ended: touch_down (a measured hold); else only a lower bound: clip_end (the clip ended first),
    someone_passed (another person overlapped the subject and the frames drawn in hid the rest,
    balance.pose.crowd), subject_lost (the feet left the picture or the landmarks)."""
    if trial.touch_down_s is not None:
        return "touch_down"
    if trial.end_s >= track.t[-1] - 1e-6:
        return "clip_end"
    passed = trial.stop_index < len(track) and track.drawn_in[trial.stop_index]
    return "someone_passed" if passed else "subject_lost"


def lift_off_time(g0: float, g1: float, t0: float, t1: float, stance_leg: str) -> float:
    """When the free foot rose through FOOT_UP between two frames (gaps g0, g1 at times t0, t1).

    Lift-off is dated at FOOT_UP (about 13 cm clear of the floor), the same line that detects the
    trial, because smaller rises are often a weight shift or heel raise rather than a lift.
    """
    sign = 1.0 if stance_leg == "left" else -1.0
    g0, g1 = sign * g0, sign * g1
    if not np.isfinite(g0) or g1 <= g0:
        return float(t1)
    w = min(1.0, max(0.0, (FOOT_UP - g0) / (g1 - g0)))
    return float(t0 + w * (t1 - t0))


def _cut(
    state: np.ndarray, gap: np.ndarray, t: np.ndarray, min_trial_s: float = MIN_TRIAL_S
) -> tuple[list[Trial], list[ShortPhase]]:
    trials: list[Trial] = []
    short: list[ShortPhase] = []
    n = len(state)
    for a, b, value in _runs(state):
        if value not in lm.SIDES:
            continue
        starts_with_clip = a == 0
        start_s = float(t[0]) if starts_with_clip else lift_off_time(gap[a - 1], gap[a], t[a - 1], t[a], str(value))
        ended_by_contact = b < n and state[b] == "both"
        end_s = float(t[b - 1])
        touch = float(t[b]) if ended_by_contact else None
        duration = (touch if touch is not None else end_s) - start_s
        if duration >= min_trial_s:
            trials.append(Trial(str(value), start_s, touch, starts_with_clip, a, b, end_s))
        elif duration >= MIN_REPORTED_PHASE_S:
            short.append(ShortPhase(str(value), start_s, touch if touch is not None else end_s))
    return trials, short


def require_trials(timeline: StanceTimeline, clip_s: float, min_trial_s: float = MIN_TRIAL_S) -> tuple[Trial, ...]:
    """The trials, or a StanceError that says why there are none and what to do."""
    if timeline.trials:
        return timeline.trials
    if timeline.feet_in_frame < 0.5:
        raise PoseError(
            "the feet are out of frame or hidden in most of the clip",
            "Film the whole body with both feet inside the picture",
        )
    found = ""
    if timeline.short_phases:
        p = max(timeline.short_phases, key=lambda p: p.duration_s)
        found = (
            f"; it shows only a {p.duration_s:.1f} s one-leg phase (standing on the {p.stance_leg} leg "
            f"from {p.start_s:.1f} s), too short to score"
        )
    if clip_s < min_trial_s:
        raise StanceError(
            f"the clip is {clip_s:.1f} s long, shorter than the {min_trial_s:g} s minimum single-leg trial" + found,
            "Record the whole hold, 30-60 s per leg",
        )
    if found:
        raise StanceError(
            f"no single-leg stance of at least {min_trial_s:g} s was found" + found,
            "Hold the free foot off the floor for the whole trial (30-60 s)",
        )
    raise StanceError(
        "no single-leg stance found: both feet stay on the floor",
        "Lift one foot clear of the floor and hold it there (30-60 s per leg)",
    )
