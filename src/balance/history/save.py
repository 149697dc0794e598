"""Saving one analysis to a person's history: the options a front end collects (checked here, once) and the
one store call, with what happened in words. `balance analyze --name`, `balance record` and the web app's
jobs all save through `save_analysis`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from balance.errors import UsageError
from balance.history.model import EYES, SURFACES, Conditions, programme_week, surface_key

# Programme weeks run 1-52: a programme is weeks, not years, long (programmes of 4-6 weeks are typical).
MIN_WEEK, MAX_WEEK = 1, 52
# A name is a label on screen and in exports, notes a remark: longer text is a paste gone wrong.
MAX_NAME, MAX_NOTES = 100, 2000
# An age in years: the age references start at 18 (balance.assess.norms), but anyone may keep a history.
MIN_AGE, MAX_AGE = 1, 120
NO_WEEK_HINT = "give the programme week, or start a programme to count weeks from"


def check_week(week: int | None, what: str = "week") -> int | None:
    """A programme week, 1-52 (UsageError otherwise); None stays None."""
    if week is not None and not MIN_WEEK <= week <= MAX_WEEK:
        raise UsageError(
            f"{what} {week} is outside {MIN_WEEK}-{MAX_WEEK}",
            f"Give the programme week, {MIN_WEEK} to {MAX_WEEK}",
            option="week",
        )
    return week


def birth_year_for(age: int | None, on: date | None = None) -> int | None:
    """The birth year of a person `age` years old in the year of `on` (today): the age the references use is
    the age reached in the year of the test (balance.assess.norms.age_in). UsageError outside 1-120."""
    if age is None:
        return None
    if not MIN_AGE <= age <= MAX_AGE:
        raise UsageError(
            f"age {age} is outside {MIN_AGE}-{MAX_AGE}", "Give the person's age in years, e.g. 52", option="age"
        )
    return (on or date.today()).year - age


@dataclass(frozen=True)
class SaveOptions:
    """Whose history an analysis goes into, and with what: checked when made (UsageError, with the option)."""

    name: str
    week: int | None = None  # programme week; None: counted from the programme's start, if any
    recorded_on: date | None = None  # the day it was filmed; None: today
    conditions: Conditions = field(default_factory=Conditions)
    notes: str = ""
    birth_year: int | None = None  # the person's (from --age): kept with the person for the age references

    def __post_init__(self) -> None:
        name = " ".join(self.name.split())
        if not name:
            raise UsageError("the person's name is empty", "Give the person's name", option="name")
        if len(name) > MAX_NAME:
            raise UsageError(f"the name is longer than {MAX_NAME} characters", "Give a shorter name", option="name")
        if len(self.notes) > MAX_NOTES:
            raise UsageError(f"the notes are longer than {MAX_NOTES} characters", "Shorten them", option="notes")
        if self.conditions.eyes not in ("", *EYES):
            raise UsageError(
                f"eyes must be open or closed, not {self.conditions.eyes!r}",
                "Say whether the eyes were open or closed",
                option="eyes",
            )
        surface = surface_key(self.conditions.surface)
        if surface is None:
            raise UsageError(
                f"the surface {self.conditions.surface!r} is none of {', '.join(SURFACES)}",
                f"Give the surface stood on: {', '.join(SURFACES)}",
                option="surface",
            )
        check_week(self.week)
        object.__setattr__(self, "conditions", Conditions(self.conditions.eyes, surface, self.conditions.footwear))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "notes", self.notes.strip())

    @classmethod
    def given(cls, name: str | None, week: int | None = None, **fields: Any) -> SaveOptions | None:
        """The options when a name was given; None when not (None or "": nothing is saved; a blank name is
        refused). A week without a name has no history to belong to (UsageError)."""
        if not name:
            if week is not None:
                raise UsageError(
                    "a week needs a name", "Give the person's name: the week belongs to their history", option="week"
                )
            return None
        return cls(name, week, **fields)


@dataclass(frozen=True)
class Saved:
    """What saving did: stored (or found already stored), for whom, when, in which week, where."""

    stored: bool
    person: str  # whose history holds the clip (the earlier owner, for a clip stored before)
    asked_for: str  # the name the options gave
    recorded_on: date
    week: int | None  # the programme week it counts in (given, or from the programme start)
    trials: int
    clip_sha256: str
    analysis_version: str
    where: str  # the database, for messages (a server URL without its password)

    def words(self, no_week_hint: str = NO_WEEK_HINT) -> str:
        """One line: what was saved where in the history, or why nothing was."""
        if not self.stored:
            other = "" if self.person.casefold() == self.asked_for.casefold() else f" (not {self.asked_for}'s)"
            return (
                f"Not saved again: this clip ({self.clip_sha256[:12]}) analysed by balance {self.analysis_version} "
                f"is already in {self.person}'s history{other}, from {self.recorded_on.isoformat()}"
            )
        when = f"week {self.week}" if self.week is not None else f"no programme week ({no_week_hint})"
        n = f"{self.trials} trial{'s' if self.trials != 1 else ''}"
        return f"Saved {n} to {self.person}'s history ({self.recorded_on.isoformat()}, {when})"


def save_analysis(analysis_json: Mapping[str, Any], options: SaveOptions, db: str | None = None) -> Saved:
    """Store an analysis document (`results.document.to_json`) in the options' person's history, in one
    transaction (StoreError when the database refuses it)."""
    # The store (SQLAlchemy) is imported here: the front ends build SaveOptions while parsing, before any
    # history is opened.
    from balance.history.store import Store

    on = options.recorded_on or date.today()
    with Store(db) as store:
        result = store.add_analysis(
            analysis_json,
            name=options.name,
            recorded_on=on,
            week=options.week,
            conditions=options.conditions,
            notes=options.notes,
            birth_year=options.birth_year,
        )
        programme = store.programme(result.person)
        where = store.where
    week = result.week
    if result.stored and week is None and programme is not None:
        week = programme_week(programme.start_date, on)
    return Saved(
        stored=result.stored,
        person=result.person,
        asked_for=options.name,
        recorded_on=result.recorded_on,
        week=week,
        trials=result.trials,
        clip_sha256=result.clip_sha256,
        analysis_version=result.analysis_version,
        where=where,
    )


def check_programme_weeks(weeks: int) -> int:
    """A programme's length in weeks, 1-52 (UsageError otherwise)."""
    if not MIN_WEEK <= weeks <= MAX_WEEK:
        raise UsageError(
            f"{weeks} weeks is not a programme length", f"Give {MIN_WEEK}-{MAX_WEEK} weeks", option="weeks"
        )
    return weeks
