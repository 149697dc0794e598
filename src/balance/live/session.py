"""Live single-leg stance test: pose on the newest camera frame, a trial state machine, an overlay, a saved clip.

Stance is judged by stance.py's thresholds and foot-gap rule, run causally, so the offline analysis agrees.
"""

from __future__ import annotations

import csv
import math
import os
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import IO

import cv2
import numpy as np

from balance.errors import BalanceError, DisplayError, StoreError
from balance.measure.body import centre_of_mass, hip_centre, leg_length
from balance.pipeline import Analysis, analyze
from balance.pose import landmarks as lm
from balance.pose.estimate import DEFAULT_MODEL, resolve_model
from balance.pose.sides import MIRROR, FlipFollower
from balance.pose.skeleton import ALL_BONES
from balance.stance.trials import (
    EDGE_MARGIN,
    MAX_DROPOUT_S,
    MAX_HIP_JUMP,
    MIN_REPORTED_PHASE_S,
    MIN_VISIBILITY,
    StanceRule,
    lift_off_time,
)
from balance.video.camera import LiveSource
from balance.video.reader import Frame

LIVE_MODEL = "lite"
# The subject must stay fully in view this long before the countdown starts, so a person walking
# through the picture does not trigger it.
IN_POSITION_S = 1.0
COUNTDOWN_S = 3.0
# Pause between the legs of `--leg both`.
REST_S = 5.0
# After a touch-down the recording runs on this long: offline detection confirms contact over
# CONTACT_S to CONTACT_ANY_S of frames and its filters look +-3 frames ahead, so the clip must hold them.
TAIL_S = 1.0
# The leg-length scale follows the subject's distance to the camera over ~2 s, as offline detection does.
SCALE_WINDOW_S = 2.0
# Foot speed is the median of this many frame-to-frame speeds, as offline (scipy median_filter size 5).
SPEED_MEDIAN_FRAMES = 5
# The sway meter shows the centre of mass this far either side of the stance ankle, and its RMS over
# the last few seconds: quiet single-leg stance sways a few % of leg length.
METER_RANGE = 0.10
METER_WINDOW_S = 5.0
WINDOW_TITLE = "balance record"
_ESC = 27


class Phase(StrEnum):
    WAITING_FOR_SUBJECT = "waiting_for_subject"
    IN_POSITION = "in_position"
    COUNTDOWN = "countdown"
    WAITING_FOR_LIFT_OFF = "waiting_for_lift_off"
    HOLDING = "holding"
    DONE = "done"
    FINISHED = "finished"


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
    through FOOT_UP.
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
                self._run_lift_off = t if self._first else lift_off_time(self._prev_gap, gap, self._prev_t, t, state)
            self._run_last = t
        elif side is not None and (state == "both" or jump or t - self._run_last > MAX_DROPOUT_S):
            ended = RunEnd(side, self._run_lift_off, self._run_last, None, "subject_lost")
            self._run_side = None
        return ended

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


@dataclass(frozen=True)
class LiveTrial:
    """One trial as judged live. Times are seconds from the first captured frame, as in the saved clip."""

    stance_leg: str
    lift_off_s: float
    touch_down_s: float | None
    end_s: float
    hold_s: float
    ended_by: str  # "touch_down" | "time_up" | "subject_lost" | "recording_end"
    starts_with_recording: bool
    sway_rms: float  # centre of mass side to side about the stance ankle, RMS, % of leg length


class TrialMachine:
    """waiting_for_subject -> in_position -> countdown -> waiting_for_lift_off -> holding -> done,
    then the next leg (after a rest) or finished. Fed one StanceStep per processed frame."""

    def __init__(
        self,
        legs: Sequence[str],
        duration_s: float,
        *,
        countdown_s: float = COUNTDOWN_S,
        rest_s: float = REST_S,
        in_position_s: float = IN_POSITION_S,
    ) -> None:
        if not legs or any(leg not in lm.SIDES for leg in legs):
            raise ValueError(f"legs must be 'left' and/or 'right', got {legs!r}")
        if not duration_s > 0:
            raise ValueError(f"duration_s must be positive, got {duration_s}")
        self.legs = tuple(legs)
        self.duration_s = duration_s
        self.countdown_s = countdown_s
        self.rest_s = rest_s
        self.in_position_s = in_position_s
        self.phase = Phase.WAITING_FOR_SUBJECT
        self.leg_index = 0
        self.trials: list[LiveTrial] = []
        self.transitions: list[tuple[float, Phase]] = []
        self.prompt = "step into the picture"
        self.t_s = 0.0
        self._since = 0.0
        self._first_t: float | None = None
        self._lift_off = 0.0
        self._last_in_view = 0.0
        self._sway: list[float] = []
        self._wrong_foot = False

    @property
    def leg(self) -> str:
        return self.legs[min(self.leg_index, len(self.legs) - 1)]

    @property
    def finished(self) -> bool:
        return self.phase is Phase.FINISHED

    @property
    def elapsed_s(self) -> float:
        """Seconds held so far in HOLDING, or the last trial's hold."""
        if self.phase is Phase.HOLDING:
            return min(self.t_s - self._lift_off, self.duration_s)
        return self.trials[-1].hold_s if self.trials else 0.0

    @property
    def countdown_left(self) -> int:
        return max(1, math.ceil(self.countdown_s - (self.t_s - self._since))) if self.phase is Phase.COUNTDOWN else 0

    def _go(self, phase: Phase, t: float) -> None:
        self.phase = phase
        self._since = t
        self.transitions.append((t, phase))

    def update(self, step: StanceStep, sway: float = math.nan) -> None:
        """Advance on one processed frame; `sway` is the centre of mass offset from the stance ankle, leg lengths."""
        t = self.t_s = step.t_s
        if self._first_t is None:
            self._first_t = t
            self.transitions.append((t, self.phase))
        if step.in_view:
            self._last_in_view = t
        lost = t - self._last_in_view > MAX_DROPOUT_S
        free = lm.other(self.leg)
        match self.phase:
            case Phase.WAITING_FOR_SUBJECT:
                if step.in_view:
                    self._go(Phase.IN_POSITION, t)
            case Phase.IN_POSITION:
                if not step.in_view:
                    self._go(Phase.WAITING_FOR_SUBJECT, t)
                elif t - self._since >= self.in_position_s:
                    self._go(Phase.COUNTDOWN, t)
            case Phase.COUNTDOWN:
                if lost:
                    self._go(Phase.WAITING_FOR_SUBJECT, t)
                elif t - self._since >= self.countdown_s:
                    self._go(Phase.WAITING_FOR_LIFT_OFF, t)
            case Phase.WAITING_FOR_LIFT_OFF:
                self._wrong_foot = step.run_side == free
                if step.run_side == self.leg and step.run_lift_off_s is not None:
                    # The run may have begun before the prompt (already on one leg): date it from its lift-off.
                    self._lift_off = step.run_lift_off_s
                    self._sway = []
                    self._go(Phase.HOLDING, t)
                elif lost:
                    self._go(Phase.WAITING_FOR_SUBJECT, t)
        if self.phase is Phase.HOLDING:
            self._hold(step, sway)
        elif self.phase is Phase.DONE and t - self._since >= self._pause():
            self.leg_index += 1
            self._go(Phase.FINISHED if self.leg_index >= len(self.legs) else Phase.WAITING_FOR_SUBJECT, t)
        self.prompt = self._prompt(step, free)

    def _hold(self, step: StanceStep, sway: float) -> None:
        t = step.t_s
        end = step.run_end
        if end is not None and end.side == self.leg:
            hold = (end.touch_down_s if end.touch_down_s is not None else end.end_s) - self._lift_off
            if end.how == "touch_down" and hold < MIN_REPORTED_PHASE_S:
                self._go(Phase.WAITING_FOR_LIFT_OFF, t)  # a step or a wobble, not an attempt
                return
            self._end(end.end_s, end.touch_down_s, hold, end.how, t)
        elif t - self._lift_off >= self.duration_s:
            self._end(self._lift_off + self.duration_s, None, self.duration_s, "time_up", t)
        elif math.isfinite(sway):
            self._sway.append(sway)

    def _end(self, end_s: float, touch_down_s: float | None, hold_s: float, how: str, t: float) -> None:
        rms = 100 * float(np.std(self._sway)) if self._sway else math.nan
        self.trials.append(
            LiveTrial(self.leg, self._lift_off, touch_down_s, end_s, hold_s, how, self._lift_off == self._first_t, rms)
        )
        self._go(Phase.DONE, t)

    def _pause(self) -> float:
        if self.leg_index + 1 < len(self.legs):
            return self.rest_s
        return TAIL_S if self.trials and self.trials[-1].ended_by == "touch_down" else 0.0

    def stop(self) -> None:
        """The recording ended (stopped, or the source ran out): close a hold in progress at the last frame."""
        if self.phase is Phase.HOLDING:
            self._end(self.t_s, None, self.t_s - self._lift_off, "recording_end", self.t_s)
        if self.phase is not Phase.FINISHED:
            self._go(Phase.FINISHED, self.t_s)

    def _prompt(self, step: StanceStep, free: str) -> str:
        match self.phase:
            case Phase.WAITING_FOR_SUBJECT:
                return "step back until your feet are in view" if step.detected else "step into the picture"
            case Phase.IN_POSITION:
                return "hold still, hands on hips"
            case Phase.COUNTDOWN:
                return f"{self.leg} leg: lift your {free} foot in {self.countdown_left}"
            case Phase.WAITING_FOR_LIFT_OFF:
                if self._wrong_foot:
                    return f"other foot: stand on your {self.leg} leg and lift your {free} foot"
                return f"lift your {free} foot"
            case Phase.HOLDING:
                return f"hold on your {self.leg} leg"
            case Phase.DONE:
                last = self.trials[-1]
                how = {"touch_down": "foot down", "time_up": "time", "subject_lost": "lost sight of you"}
                text = f"{last.stance_leg} leg: {last.hold_s:.1f} s ({how.get(last.ended_by, 'stopped')})"
                if self.leg_index + 1 < len(self.legs):
                    text += f"; rest, then the {self.legs[self.leg_index + 1]} leg"
                return text
            case Phase.FINISHED:
                return "finished"


class LivePose:
    """MediaPipe PoseLandmarker in VIDEO mode, one frame at a time: (33, 2) pixels (NaN: nobody) and visibility."""

    def __init__(self, model: str = LIVE_MODEL) -> None:
        os.environ.setdefault("GLOG_minloglevel", "2")
        import mediapipe as mpipe
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mpipe
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(resolve_model(model))),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=1,
        )
        self._landmarker = vision.PoseLandmarker.create_from_options(options)
        self._last_ms = -1

    def __enter__(self) -> LivePose:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._landmarker.close()

    def detect(self, image: np.ndarray, t_s: float) -> tuple[np.ndarray, np.ndarray]:
        ms = max(round(t_s * 1000), self._last_ms + 1)  # detect_for_video needs strictly increasing ms
        self._last_ms = ms
        rgb = np.ascontiguousarray(image[:, :, ::-1])
        result = self._landmarker.detect_for_video(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb), ms)
        if not result.pose_landmarks:
            return np.full((lm.N_LANDMARKS, 2), np.nan), np.zeros(lm.N_LANDMARKS)
        h, w = image.shape[:2]
        pts = result.pose_landmarks[0]
        xy = np.array([(p.x * w, p.y * h) for p in pts], dtype=np.float64)
        return xy, np.array([p.visibility or 0.0 for p in pts], dtype=np.float64)


class ClipRecorder:
    """Writes every captured frame (mp4v) and its capture time (CSV) under temporary names; finish() renames."""

    def __init__(self, out_dir: Path, base: str, width: int, height: int, fps: float) -> None:
        self.clip = out_dir / f"{base}.mp4"
        self.timestamps = out_dir / f"{base}.timestamps.csv"
        self._clip_tmp = out_dir / f"{base}.partial.mp4"  # the extension must stay: it picks the container
        self._csv_tmp = out_dir / f"{base}.timestamps.partial.csv"
        self.size = (width, height)
        self.fps = fps
        self.frames = 0
        self._writer = cv2.VideoWriter(str(self._clip_tmp), cv2.VideoWriter.fourcc(*"mp4v"), fps, self.size)
        if not self._writer.isOpened():
            raise StoreError(f"cannot write the recording to {self._clip_tmp}", "Choose another folder with --out")
        try:
            self._csv_file: IO[str] = self._csv_tmp.open("w", newline="")
        except OSError as exc:
            self._writer.release()
            raise StoreError(
                f"cannot write {self._csv_tmp} ({exc.strerror})", "Choose another folder with --out"
            ) from exc
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(["frame", "source_index", "t_s", "clip_t_s"])

    def write(self, frame: Frame) -> None:
        image = frame.image
        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size)
        self._writer.write(image)
        self._csv.writerow([self.frames, frame.index, f"{frame.t_s:.6f}", f"{self.frames / self.fps:.6f}"])
        self.frames += 1

    def finish(self) -> bool:
        """Close both files and give them their final names; False (and nothing left) when no frame came."""
        self._writer.release()
        self._csv_file.close()
        if self.frames == 0:
            self._clip_tmp.unlink(missing_ok=True)
            self._csv_tmp.unlink(missing_ok=True)
            return False
        self._clip_tmp.replace(self.clip)
        self._csv_tmp.replace(self.timestamps)
        return True


@dataclass(frozen=True)
class LiveStats:
    frames_captured: int
    frames_processed: int
    frames_dropped: int
    processed_fps: float  # processed frames per second of recording
    latency_ms_median: float  # capture to overlay drawn; NaN when the source is not real time
    latency_ms_p95: float


@dataclass(frozen=True)
class LiveSession:
    legs: tuple[str, ...]
    duration_s: float
    trials: tuple[LiveTrial, ...]
    transitions: tuple[tuple[float, Phase], ...]
    stats: LiveStats
    stopped_early: bool  # Ctrl-C, window closed, or the source ended before the last trial finished
    capture_error: str | None


@dataclass(frozen=True)
class RecordResult:
    clip: Path | None  # None when no frame was captured
    timestamps: Path | None
    live: LiveSession
    analysis: Analysis | None
    analysis_error: str | None  # why the offline analysis of the clip gave no result


@dataclass
class _Meter:
    """Live numbers for the overlay: frame rate and latency over the last second, sway over the last 5 s."""

    times: deque[float] = field(default_factory=lambda: deque(maxlen=120))
    latencies: list[float] = field(default_factory=list)
    sway: deque[tuple[float, float]] = field(default_factory=deque)

    def fps(self) -> float:
        recent = [t for t in self.times if t >= self.times[-1] - 1.0] if self.times else []
        return (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 1 and recent[-1] > recent[0] else 0.0

    def add_sway(self, t: float, value: float) -> float:
        if math.isfinite(value):
            self.sway.append((t, value))
        while self.sway and self.sway[0][0] < t - METER_WINDOW_S:
            self.sway.popleft()
        values = [v for _, v in self.sway]
        return float(np.std(values)) if len(values) > 1 else math.nan


def draw_overlay(
    image: np.ndarray,
    xy: np.ndarray,
    step: StanceStep,
    machine: TrialMachine,
    sway: float,
    sway_rms: float,
    fps: float,
    latency_ms: float,
) -> np.ndarray:
    """The camera picture with skeleton, centre of mass over the stance foot, sway meter, prompt, timer and speed."""
    out = image.copy()  # the frame object is shared with the recorder; never draw on it
    h, w = out.shape[:2]
    u = max(1.0, h / 480)  # line widths and text scale with the picture
    thin, thick = max(1, round(u)), max(2, round(2 * u))
    stance = step.run_side or (machine.leg if machine.phase is Phase.HOLDING else None)
    if step.detected:
        for a, b in ALL_BONES:
            pa, pb = xy[a], xy[b]
            if np.all(np.isfinite([pa, pb])):
                colour = (
                    (0, 200, 255) if stance and (a in _leg_ids(stance) and b in _leg_ids(stance)) else (255, 255, 255)
                )
                cv2.line(out, _pt(pa), _pt(pb), colour, thick, cv2.LINE_AA)
        com = centre_of_mass(xy[None])[0]
        if np.all(np.isfinite(com)):
            foot_y = max(float(np.nanmax(xy[list(lm.FOOT[s]), 1])) for s in lm.SIDES)
            cv2.line(out, _pt(com), (int(com[0]), int(foot_y)), (0, 255, 0), thin, cv2.LINE_AA)
            cv2.circle(out, _pt(com), round(6 * u), (0, 255, 0), -1, cv2.LINE_AA)
            if stance is not None:
                ankle = xy[lm.ANKLE[stance]]
                if np.all(np.isfinite(ankle)):
                    cv2.drawMarker(out, _pt(ankle), (0, 200, 255), cv2.MARKER_TRIANGLE_UP, round(14 * u), thick)
    _text(out, machine.prompt, (round(10 * u), round(34 * u)), 0.8 * u, (255, 255, 255))
    if machine.phase is Phase.COUNTDOWN:
        _text(out, str(machine.countdown_left), (w // 2 - round(20 * u), h // 2), 3.0 * u, (0, 255, 255))
    if machine.phase in (Phase.HOLDING, Phase.DONE):
        timer = f"{machine.elapsed_s:5.1f} / {machine.duration_s:.0f} s"
        _text(out, timer, (w - round(200 * u), round(70 * u)), 0.8 * u, (0, 255, 255))
    _sway_meter(out, sway, sway_rms, u)
    lat = f"{latency_ms:.0f} ms" if math.isfinite(latency_ms) else "-"
    _text(out, f"{fps:4.1f} fps  latency {lat}", (round(10 * u), h - round(12 * u)), 0.5 * u, (200, 200, 200))
    return out


def _leg_ids(side: str) -> tuple[int, ...]:
    return (lm.HIP[side], lm.KNEE[side], *lm.FOOT[side])


def _pt(p: np.ndarray) -> tuple[int, int]:
    return int(round(float(p[0]))), int(round(float(p[1])))


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float, colour: tuple[int, int, int]) -> None:
    # A dark outline keeps the text readable on any background.
    width = max(1, round(2 * scale))
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), width + 3, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, width, cv2.LINE_AA)


def _sway_meter(img: np.ndarray, sway: float, sway_rms: float, u: float) -> None:
    """A horizontal bar: the centre of mass left or right of the stance ankle, +-10 % of leg length."""
    h, w = img.shape[:2]
    x0, x1, y = round(w * 0.25), round(w * 0.75), h - round(40 * u)
    cv2.line(img, (x0, y), (x1, y), (160, 160, 160), max(2, round(3 * u)))
    cv2.line(img, ((x0 + x1) // 2, y - round(8 * u)), ((x0 + x1) // 2, y + round(8 * u)), (160, 160, 160), 1)
    if math.isfinite(sway):
        frac = min(1.0, max(-1.0, sway / METER_RANGE))
        x = round((x0 + x1) / 2 + frac * (x1 - x0) / 2)
        cv2.circle(img, (x, y), round(7 * u), (0, 255, 0), -1, cv2.LINE_AA)
    label = f"sway {100 * sway_rms:.1f} %leg" if math.isfinite(sway_rms) else "sway"
    _text(img, label, (x1 + round(8 * u), y + round(5 * u)), 0.5 * u, (0, 255, 0))


def _stance_sway(xy: np.ndarray, step: StanceStep) -> float:
    """Centre of mass minus stance ankle, horizontally, in leg lengths: the live sway meter's value."""
    if step.run_side is None or not math.isfinite(step.scale_px):
        return math.nan
    com = centre_of_mass(xy[None])[0]
    return float((com[0] - xy[lm.ANKLE[step.run_side], 0]) / step.scale_px)


def check_display() -> None:
    """Raise DisplayError when a window cannot be opened: no X or Wayland display on Linux."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise DisplayError(
            "no display to show the camera window on (DISPLAY is not set)",
            "Run with --no-window to be guided by console prompts instead",
        )


def record(
    source: LiveSource,
    legs: Sequence[str],
    duration_s: float,
    out_dir: Path,
    *,
    name: str | None = None,
    live_model: str = LIVE_MODEL,
    offline_model: str = DEFAULT_MODEL,
    window: bool = False,
    say: Callable[[str], None] | None = None,
    countdown_s: float = COUNTDOWN_S,
    rest_s: float = REST_S,
    analyze_after: bool = True,
    height_cm: float | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RecordResult:
    """Run the live test on `source`, save the raw clip, then analyse it offline.

    The clip and its timestamps are renamed into place whatever ends the recording (finished trials,
    Ctrl-C, closed window, a failure), before the analysis starts. `say` receives each new console
    prompt; `should_stop` is polled once a frame (a test's or a GUI's stop button).
    """
    if window:
        check_display()
    machine = TrialMachine(legs, duration_s, countdown_s=countdown_s, rest_s=rest_s)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create {out_dir} ({exc.strerror})", "Choose another folder with --out") from exc
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = f"record-{_slug(name)}-{stamp}" if name else f"record-{stamp}"
    tracker, keeper, meter = StanceTracker(), SideKeeper(), _Meter()
    stopped = False
    last_line = ""
    with LivePose(live_model) as pose:  # loaded before capture starts, so the first frames find it ready
        recorder = ClipRecorder(out_dir, base, source.width, source.height, source.fps_nominal)
        source.add_sink(recorder.write)
        try:
            with source:
                for frame in source:
                    xy, vis = keeper.fix(*pose.detect(frame.image, frame.t_s))
                    step = tracker.update(frame.t_s, xy, vis, frame.image.shape[0])
                    sway = _stance_sway(xy, step)
                    machine.update(step, sway)
                    meter.times.append(frame.t_s)
                    sway_rms = meter.add_sway(frame.t_s, sway)
                    latency = (
                        (time.monotonic() - source.clock_origin - frame.t_s) * 1000 if source.realtime else math.nan
                    )
                    canvas = draw_overlay(frame.image, xy, step, machine, sway, sway_rms, meter.fps(), latency)
                    if source.realtime:
                        # Measured once the overlay exists: what the person sees lags their movement by this.
                        latency = (time.monotonic() - source.clock_origin - frame.t_s) * 1000
                        meter.latencies.append(latency)
                    if window and _show(canvas):
                        stopped = True
                        break
                    line = _console_line(machine)
                    if say is not None and line != last_line:
                        say(line)
                    last_line = line
                    if machine.finished or (should_stop is not None and should_stop()):
                        break
        except KeyboardInterrupt:
            stopped = True
        finally:
            saved = recorder.finish()
            if window:
                cv2.destroyAllWindows()
    stopped = stopped or not machine.finished
    machine.stop()
    lat = np.asarray(meter.latencies)
    times = list(meter.times)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    stats = LiveStats(
        frames_captured=source.frames_captured,
        frames_processed=source.frames_delivered,
        frames_dropped=source.frames_dropped,
        processed_fps=(len(times) - 1) / span if span > 0 else 0.0,
        latency_ms_median=float(np.median(lat)) if len(lat) else math.nan,
        latency_ms_p95=float(np.percentile(lat, 95)) if len(lat) else math.nan,
    )
    session = LiveSession(
        tuple(legs), duration_s, tuple(machine.trials), tuple(machine.transitions), stats, stopped, source.error
    )
    if not saved:
        return RecordResult(None, None, session, None, "nothing was recorded")
    analysis, error = None, None
    if analyze_after:
        try:
            analysis = analyze(recorder.clip, model=offline_model, height_cm=height_cm)
        except BalanceError as exc:
            error = str(exc)
        except KeyboardInterrupt:
            error = "analysis interrupted"
    return RecordResult(recorder.clip, recorder.timestamps, session, analysis, error)


def _console_line(machine: TrialMachine) -> str:
    if machine.phase is Phase.HOLDING:
        return f"{machine.prompt}: {5 * int(machine.elapsed_s // 5)} s"  # a line every 5 s, not every frame
    return machine.prompt


def _show(canvas: np.ndarray) -> bool:
    """Show a frame; True when the person closed the window or pressed q or Esc."""
    try:
        cv2.imshow(WINDOW_TITLE, canvas)
        key = cv2.waitKey(1) & 0xFF
        closed = cv2.getWindowProperty(WINDOW_TITLE, cv2.WND_PROP_VISIBLE) < 1
    except cv2.error as exc:
        raise DisplayError(
            "the camera window cannot be opened on this display", "Run with --no-window to use console prompts"
        ) from exc
    return closed or key in (ord("q"), _ESC)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name.strip())[:40] or "subject"
