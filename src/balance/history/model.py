"""The history's domain types: a person's programme, the conditions of a session, one stored trial.

Plain frozen values shared by the store (which writes and reads them), the progress views and the exports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from balance.assess.norms import EYES, SURFACES

__all__ = ["EYES", "SURFACES", "Conditions", "ImportResult", "Programme", "TrialRecord", "Tripod", "programme_week"]

# What people type for the programme's surfaces, read as one of SURFACES (a stability disc is also sold as a
# balance disc or wobble cushion; a Bosu is a half ball).
SURFACE_NAMES = {
    **{s: s for s in SURFACES},
    "ground": "floor",
    "firm": "floor",
    "firm floor": "floor",
    "foam pad": "foam",
    "foam mat": "foam",
    "stability disc": "disc",
    "balance disc": "disc",
    "wobble cushion": "disc",
    "bosu ball": "bosu",
}


SURFACE_LABELS = {"floor": "floor", "foam": "foam", "disc": "disc", "bosu": "Bosu"}


def surface_key(text: str) -> str | None:
    """One of SURFACES for what was typed ("" for nothing), or None when it is none of them."""
    clean = " ".join(text.split()).casefold()
    return "" if not clean else SURFACE_NAMES.get(clean)


@dataclass(frozen=True)
class Conditions:
    """How a session was recorded; "" means not recorded. Trends only compare like with like.

    eyes: open or closed; surface: one of SURFACES (histories from before the surface was a choice may hold
    other words, kept as they were typed); footwear: free text.
    """

    eyes: str = ""
    surface: str = ""
    footwear: str = ""

    def words(self) -> str:
        parts = [
            f"eyes {self.eyes}" if self.eyes else "",
            SURFACE_LABELS.get(self.surface, self.surface),
            self.footwear,
        ]
        return ", ".join(p for p in parts if p) or "conditions not recorded"


@dataclass(frozen=True)
class Programme:
    person: str
    start_date: date
    weeks: int


@dataclass(frozen=True)
class Tripod:
    """Shares of the stance foot's load estimate on the three tripod points (fractions summing to 1)."""

    inner_ball: float
    outer_ball: float
    big_toe: float


@dataclass(frozen=True)
class TrialRecord:
    """One stored trial with its session: what the history, progress and export views read."""

    person: str
    recorded_on: date
    week: int | None  # the session's own week, else the programme week of recorded_on, else None
    session_id: int
    conditions: Conditions
    notes: str
    clip_sha256: str
    clip_path: str
    analysis_version: str
    trial_index: int
    stance_leg: str
    hold_s: float
    ended_by: str
    view: str | None
    horizontal_axis: str | None
    unit: str
    sway_velocity: float | None  # centre of mass mean velocity, unit/s
    sway_rms: float | None  # centre of mass RMS along the observed axis, unit
    score: float | None
    score_mdc: float | None
    flags: tuple[Mapping[str, Any], ...]
    tripod: Tripod | None
    metrics: Mapping[str, Any]
    side_clip_sha256: str | None = None  # two cameras: the side view's clip (None: one camera)

    @property
    def flag_codes(self) -> tuple[str, ...]:
        return tuple(str(f.get("code", "?")) for f in self.flags)


@dataclass(frozen=True)
class ImportResult:
    stored: bool  # False: this clip was already stored by this analysis version
    person: str  # whose history holds the clip (the existing owner for a duplicate)
    recorded_on: date
    week: int | None
    trials: int
    clip_sha256: str
    analysis_version: str


def programme_week(start: date, on: date) -> int | None:
    """Programme week of a date: days 0-6 from the start are week 1; None before the start."""
    days = (on - start).days
    return None if days < 0 else days // 7 + 1
