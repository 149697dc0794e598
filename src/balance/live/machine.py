"""The live test's trial state machine: wait for the subject, count down, time the hold, rest, next leg."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from balance.live.tracker import StanceStep
from balance.pose import landmarks as lm
from balance.stance.trials import MAX_DROPOUT_S, MIN_REPORTED_PHASE_S

# The subject must stay fully in view this long before the countdown starts, so a person walking
# through the picture does not trigger it.
IN_POSITION_S = 1.0
COUNTDOWN_S = 3.0
# Pause between the legs of `--leg both`.
REST_S = 5.0
# After a touch-down the recording runs on this long: offline detection confirms contact over
# CONTACT_S to CONTACT_ANY_S of frames and its filters look +-3 frames ahead, so the clip must hold them.
TAIL_S = 1.0


class Phase(StrEnum):
    WAITING_FOR_SUBJECT = "waiting_for_subject"
    IN_POSITION = "in_position"
    COUNTDOWN = "countdown"
    WAITING_FOR_LIFT_OFF = "waiting_for_lift_off"
    HOLDING = "holding"
    DONE = "done"
    FINISHED = "finished"


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

    def words(self) -> str:
        how = {"touch_down": "foot down", "time_up": "time", "subject_lost": "lost sight of you"}
        return f"{self.stance_leg} leg: {self.hold_s:.1f} s ({how.get(self.ended_by, 'stopped')})"


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
                text = self.trials[-1].words()
                if self.leg_index + 1 < len(self.legs):
                    text += f"; rest, then the {self.legs[self.leg_index + 1]} leg"
                return text
            case Phase.FINISHED:
                return "finished"
