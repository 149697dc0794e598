"""The live single-leg stance test: the capture loop (pose on the newest camera frame, the stance tracker, the
trial state machine, the overlay) and the raw recording it keeps.

Stance is judged by stance/trials.py's thresholds and foot-gap rule, run causally, so the offline analysis agrees.
The analysis of the recording is the caller's (cli/record.py): its errors keep their types and exit codes.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from balance.errors import StoreError
from balance.live.machine import COUNTDOWN_S, REST_S, LiveTrial, Phase, TrialMachine
from balance.live.options import LIVE_MODEL
from balance.live.recording import ClipRecorder
from balance.live.tracker import SideKeeper, StanceStep, StanceTracker
from balance.live.window import METER_WINDOW_S, check_display, draw_overlay, show
from balance.measure.body import centre_of_mass
from balance.pose import landmarks as lm
from balance.pose.estimate import resolve_model
from balance.pose.landmarker import Landmarker
from balance.video.camera import LiveSource


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

    def stats(self, source: LiveSource) -> LiveStats:
        lat = np.asarray(self.latencies)
        times = list(self.times)
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        return LiveStats(
            frames_captured=source.frames_captured,
            frames_processed=source.frames_delivered,
            frames_dropped=source.frames_dropped,
            processed_fps=(len(times) - 1) / span if span > 0 else 0.0,
            latency_ms_median=float(np.median(lat)) if len(lat) else math.nan,
            latency_ms_p95=float(np.percentile(lat, 95)) if len(lat) else math.nan,
        )


@dataclass(frozen=True)
class Judged:
    """One processed frame: the subject's landmarks, its stance step, and the sway meter's values."""

    xy: np.ndarray  # (33, 2) pixels of the frame given; NaN when nobody was found
    step: StanceStep
    sway: float  # centre of mass minus stance ankle, horizontally, leg lengths; NaN off one leg
    sway_rms: float  # standard deviation of `sway` over the last METER_WINDOW_S, leg lengths


class LiveTest:
    """The live test one frame at a time: pose, left/right kept, stance, the trial machine, the sway meter.

    The one per-frame step of the test: `balance record`'s capture loop and the web app's Record page both
    run it, so the camera window and the browser follow the same trial state machine.
    """

    def __init__(self, pose: Landmarker, machine: TrialMachine) -> None:
        self.pose = pose
        self.machine = machine
        self.meter = _Meter()
        self._tracker, self._keeper = StanceTracker(), SideKeeper()

    def update(self, image: np.ndarray, t_s: float) -> Judged:
        """Advance on one frame (BGR) taken t_s seconds after the recording started."""
        poses = self.pose.detect(image, t_s)
        if len(poses):
            xy, vis = self._keeper.fix(poses.image[0, :, :2], poses.image[0, :, 3])
        else:
            xy, vis = np.full((lm.N_LANDMARKS, 2), np.nan), np.zeros(lm.N_LANDMARKS)
        step = self._tracker.update(t_s, xy, vis, image.shape[0])
        sway = _stance_sway(xy, step)
        self.machine.update(step, sway)
        self.meter.times.append(t_s)
        return Judged(xy, step, sway, self.meter.add_sway(t_s, sway))


def _stance_sway(xy: np.ndarray, step: StanceStep) -> float:
    """Centre of mass minus stance ankle, horizontally, in leg lengths: the live sway meter's value."""
    if step.run_side is None or not math.isfinite(step.scale_px):
        return math.nan
    com = centre_of_mass(xy[None])[0]
    return float((com[0] - xy[lm.ANKLE[step.run_side], 0]) / step.scale_px)


def record(
    source: LiveSource,
    legs: Sequence[str],
    duration_s: float,
    out_dir: Path,
    *,
    name: str | None = None,
    live_model: str = LIVE_MODEL,
    window: bool = False,
    say: Callable[[str], None] | None = None,
    countdown_s: float = COUNTDOWN_S,
    rest_s: float = REST_S,
    should_stop: Callable[[], bool] | None = None,
) -> RecordResult:
    """Run the live test on `source` and save the raw clip; the caller analyses the clip (`balance.analyze`).

    The clip is written as it is captured, in a container that stays playable if the process dies, and given
    its final name whatever ends the recording (finished trials, Ctrl-C, closed window, a failure). `say`
    receives each new console prompt; `should_stop` is polled once a frame (a test's or a GUI's stop button).
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
    # Loaded before capture starts, so the first frames find it ready.
    with Landmarker(resolve_model(live_model)) as pose:
        recorder = ClipRecorder(out_dir, base, source.width, source.height, source.fps_nominal)
        source.add_sink(recorder.write)
        test = LiveTest(pose, machine)
        try:
            stopped = _capture(source, test, window, say, should_stop)
        except KeyboardInterrupt:
            stopped = True
        finally:
            saved = recorder.finish()
            if window:
                cv2.destroyAllWindows()
    stopped = stopped or not machine.finished
    machine.stop()
    session = LiveSession(
        tuple(legs),
        duration_s,
        tuple(machine.trials),
        tuple(machine.transitions),
        test.meter.stats(source),
        stopped,
        source.error,
    )
    if not saved:
        return RecordResult(None, None, session)
    return RecordResult(recorder.clip, recorder.timestamps, session)


def _capture(
    source: LiveSource,
    test: LiveTest,
    window: bool,
    say: Callable[[str], None] | None,
    should_stop: Callable[[], bool] | None,
) -> bool:
    """The capture loop: pose, stance and trial state on the newest frame, the overlay; True when stopped by hand."""
    machine, meter = test.machine, test.meter
    last_line = ""
    with source:
        for frame in source:
            judged = test.update(frame.image, frame.t_s)
            latency = (time.monotonic() - source.clock_origin - frame.t_s) * 1000 if source.realtime else math.nan
            canvas = draw_overlay(
                frame.image, judged.xy, judged.step, machine, judged.sway, judged.sway_rms, meter.fps(), latency
            )
            if source.realtime:
                # Measured once the overlay exists: what the person sees lags their movement by this.
                meter.latencies.append((time.monotonic() - source.clock_origin - frame.t_s) * 1000)
            if window and show(canvas):
                return True
            line = _console_line(machine)
            if say is not None and line != last_line:
                say(line)
            last_line = line
            if machine.finished or (should_stop is not None and should_stop()):
                return False
    return False


def _console_line(machine: TrialMachine) -> str:
    if machine.phase is Phase.HOLDING:
        return f"{machine.prompt}: {5 * int(machine.elapsed_s // 5)} s"  # a line every 5 s, not every frame
    return machine.prompt


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name.strip())[:40] or "subject"
