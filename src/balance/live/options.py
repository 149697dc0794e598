"""What a live test asks for, checked once for every front end (`balance record`, the browser's Record page):
the stance leg(s), seconds per leg; and the note an analysis of the recorded clip gets about them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from balance.errors import UsageError
from balance.pose import landmarks as lm

if TYPE_CHECKING:
    from balance.pipeline import Analysis

# The live pose model runs on every shown frame: the lite model keeps up on a laptop's core (benchmarks/README).
LIVE_MODEL = "lite"
LEG_CHOICES = ("left", "right", "both")
DEFAULT_LEG = "both"
# Under 3 s there is no hold to measure (the offline analysis needs MIN_TRIAL_S of it); past 10 minutes a
# test is a recording left running. Single-leg stance tests run 30-45 s (Springer et al. 2007).
MIN_DURATION_S, MAX_DURATION_S = 3.0, 600.0
DEFAULT_DURATION_S = 30.0


def parse_legs(text: str) -> tuple[str, ...]:
    """'left', 'right' or 'both' as the legs tested, in order (UsageError for anything else)."""
    if text == "both":
        return lm.SIDES
    if text in lm.SIDES:
        return (text,)
    raise UsageError(f"leg {text!r} is not left, right or both", "Choose the stance leg", option="leg")


@dataclass(frozen=True)
class LiveOptions:
    """The legs to test, in order, and the seconds each is timed for at most."""

    legs: tuple[str, ...] = lm.SIDES
    duration_s: float = DEFAULT_DURATION_S

    def __post_init__(self) -> None:
        if not self.legs or any(leg not in lm.SIDES for leg in self.legs):
            raise UsageError(
                f"legs {' and '.join(self.legs) or 'none'} are not left and/or right",
                "Choose the stance leg",
                option="leg",
            )
        if not (math.isfinite(self.duration_s) and MIN_DURATION_S <= self.duration_s <= MAX_DURATION_S):
            raise UsageError(
                f"{self.duration_s:g} s is not a usable trial length ({MIN_DURATION_S:g}-{MAX_DURATION_S:g} s)",
                "Give 30 to 60 seconds per leg",
                option="duration",
            )
        object.__setattr__(self, "legs", tuple(self.legs))

    @classmethod
    def parse(cls, leg: str, duration_s: float) -> LiveOptions:
        return cls(parse_legs(leg), duration_s)


def asked_legs_noted(analysis: Analysis, legs: tuple[str, ...]) -> Analysis:
    """The analysis of a recorded test with a note of the legs the test asked for, and a warning where the clip
    shows other ones.

    The person was told which leg to stand on: the analysis finds the stance leg from the body alone, so a
    disagreement means the person stood on the other leg, or the sides were misread (README, "sides").
    """
    found = tuple(dict.fromkeys(m.trial.stance_leg for m in analysis.trials))
    note = f"recorded live: the test asked for the {' and '.join(legs)} leg{'s' if len(legs) > 1 else ''}"
    if set(found) != set(legs):
        note += f", but the clip shows a stance on the {' and '.join(found)} leg: check which leg stood"
    return replace(analysis, notes=(*analysis.notes, note))
