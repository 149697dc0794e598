"""The programme view of one person: weeks 1-N with both legs each week under each set of test conditions, the
age reference of each week's best hold, the left/right gap's trend against the MDC, and what to test next.

Pure functions of the stored trials; the CLI (`balance history`) and the person page print the same words.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from balance.assess.norms import Reference, age_in, hold_reference, hold_words, published_hold_mdc
from balance.history.model import Conditions, Programme, TrialRecord, programme_week
from balance.history.progress import HOLD, SCORE, condition_groups, limb_symmetry_index, within_session_mdc
from balance.pose.landmarks import SIDES

DEFAULT_WEEKS = 6  # the foot-strength programme runs 4-6 weeks; without a programme the view shows six


@dataclass(frozen=True)
class LegWeek:
    """One leg in one week under one set of conditions: the best hold (the reference's best of three) and the
    mean score."""

    leg: str
    trials: int
    best_hold_s: float
    ended_by: str  # of the best hold: touch_down, or the test or picture ended first (a lower bound)
    hold: str  # the best hold in words (held to the end of the test, or measured)
    score: float | None
    reference: Reference


@dataclass(frozen=True)
class WeekRow:
    week: int
    left: LegWeek | None
    right: LegWeek | None
    both: str  # the two legs together: the hold LSI, or why there is none ("" with fewer than two legs)
    words: str  # the week in one line


@dataclass(frozen=True)
class GapTrend:
    """The left/right gap of one metric from the first to the last week with both legs, against the MDC."""

    metric: str
    label: str
    unit: str
    first_week: int
    first_gap: float  # right - left
    last_week: int
    last_gap: float
    mdc: float | None  # of a change in the gap: sqrt(2) x the metric's MDC
    verdict: str  # narrower, wider, no detectable change, unknown, one week only, cannot tell
    words: str


@dataclass(frozen=True)
class Block:
    conditions: Conditions
    rows: tuple[WeekRow, ...]
    gaps: tuple[GapTrend, ...]


@dataclass(frozen=True)
class ProgrammeView:
    person: str
    weeks: int
    this_week: int | None
    birth_year: int | None
    blocks: tuple[Block, ...]
    next_test: tuple[str, ...]  # what to test next, most pressing first


def _age(birth_year: int | None, on: date) -> int | None:
    return None if birth_year is None else age_in(on.year, birth_year)


def _leg_week(rows: Sequence[TrialRecord], leg: str, birth_year: int | None) -> LegWeek | None:
    mine = [r for r in rows if r.stance_leg == leg]
    if not mine:
        return None
    best = max(mine, key=lambda r: (r.hold_s, r.ended_by == "touch_down"))
    scores = [r.score for r in mine if r.score is not None]
    c = best.conditions
    reference = hold_reference(
        best.hold_s,
        age=_age(birth_year, best.recorded_on),
        eyes=c.eyes,
        surface=c.surface,
        ended_by=best.ended_by,
    )
    return LegWeek(
        leg,
        len(mine),
        best.hold_s,
        best.ended_by,
        hold_words(best.hold_s, best.ended_by),
        statistics.fmean(scores) if scores else None,
        reference,
    )


def _cell(w: LegWeek | None) -> str:
    if w is None:
        return "not tested"
    score = "" if w.score is None else f", score {w.score:.0f}"
    end = "" if w.ended_by == "touch_down" else "+"
    return f"best {w.best_hold_s:.1f}{end} s of {w.trials}{score}"


def _both(left: LegWeek | None, right: LegWeek | None) -> str:
    if left is None or right is None:
        return ""
    ended = [w.ended_by == "touch_down" for w in (left, right)]
    if all(ended):
        return f"hold LSI {limb_symmetry_index(left.best_hold_s, right.best_hold_s):.0f} %"
    if not any(ended):
        return "both held to the end of the test"
    return "one leg held to the end of the test (its hold is a lower bound)"


def _gap_trend(rows: Sequence[WeekRow], records: Sequence[TrialRecord], metric: str, age: int | None) -> GapTrend:
    """The change of the gap between legs from the first to the last week both were tested.

    A gap is the difference of two measurements and its change the difference of two gaps: four measurements,
    so its MDC95 is 1.96 x 2 x SEM = sqrt(2) x the metric's MDC95 (Weir 2005's reasoning, one step further).
    """
    hold = metric == HOLD.key
    label, unit = ("hold-time gap", "s") if hold else ("score gap", "points")

    def value(w: LegWeek) -> float | None:
        return w.best_hold_s if hold else w.score

    both = [
        (r.week, value(r.left), value(r.right), r)
        for r in rows
        if r.left is not None and r.right is not None and value(r.left) is not None and value(r.right) is not None
    ]
    if not both:
        return GapTrend(metric, label, unit, 0, 0.0, 0, 0.0, None, "unknown", f"{label}: no week has both legs")
    (w0, l0, r0, row0), (w1, l1, r1, row1) = both[0], both[-1]
    assert l0 is not None and r0 is not None and l1 is not None and r1 is not None
    g0, g1 = r0 - l0, r1 - l1
    fmt = (lambda v: f"{v:+.1f} s") if hold else (lambda v: f"{v:+.0f} points")
    said = f"{label} (right - left) {fmt(g0)} in week {w0}"
    if w0 == w1:
        return GapTrend(metric, label, unit, w0, g0, w1, g1, None, "one week only", f"{said}; one week so far")
    said += f", {fmt(g1)} in week {w1}"
    if hold and any(w.ended_by != "touch_down" for row in (row0, row1) for w in (row.left, row.right) if w):
        words = f"{said}: a hold ran to the end of the test, so the gap cannot be told (a lower bound)"
        return GapTrend(metric, label, unit, w0, g0, w1, g1, None, "cannot tell", words)
    if hold:
        published = published_hold_mdc(age)
        own, _ = within_session_mdc(records, HOLD)
        candidates = [m for m in (published, own) if m is not None]
        base = max(candidates) if candidates else None
    else:
        own_mdcs = [r.score_mdc for r in records if r.score_mdc is not None]
        base = statistics.median(own_mdcs) if own_mdcs else None
    change = abs(g1) - abs(g0)
    if base is None:
        words = f"{said}: MDC unknown (no repeat trials), so a change in the gap cannot be told from noise"
        return GapTrend(metric, label, unit, w0, g0, w1, g1, None, "unknown", words)
    mdc = math.sqrt(2.0) * base
    mdc_text = f"{mdc:.1f} s" if hold else f"{mdc:.0f} points"
    if abs(g1 - g0) <= mdc:
        verdict, tail = "no detectable change", f"within the {mdc_text} MDC of a change in the gap: no real change"
    else:
        verdict, moved = ("narrower", "narrowed") if change < 0 else ("wider", "widened")
        tail = f"beyond the {mdc_text} MDC of a change in the gap: the gap really {moved}"
    return GapTrend(metric, label, unit, w0, g0, w1, g1, mdc, verdict, f"{said}: {tail}")


def _block(records: Sequence[TrialRecord], conditions: Conditions, weeks: int, birth_year: int | None) -> Block:
    mine = [r for r in records if r.conditions == conditions and r.week is not None]
    rows = []
    for week in range(1, max(weeks, max((r.week or 0) for r in mine)) + 1):
        this = [r for r in mine if r.week == week]
        left, right = (_leg_week(this, leg, birth_year) for leg in SIDES)
        both = _both(left, right)
        words = f"week {week}: left {_cell(left)}; right {_cell(right)}" + (f"; {both}" if both else "")
        rows.append(WeekRow(week, left, right, both, words))
    latest = max(mine, key=lambda r: r.recorded_on)
    age = _age(birth_year, latest.recorded_on)
    gaps = [_gap_trend(rows, mine, HOLD.key, age)]
    if any(r.score is not None for r in mine):
        gaps.append(_gap_trend(rows, mine, SCORE.key, age))
    return Block(conditions, tuple(rows), tuple(gaps))


def _legs(words: Sequence[str]) -> str:
    return " and ".join(words)


def next_test(records: Sequence[TrialRecord], programme: Programme | None, today: date, weeks: int) -> tuple[str, ...]:
    """What the programme asks for next: both legs each week, under every set of conditions week 1 used."""
    dated = [r for r in records if r.week is not None]
    if not dated:
        return ("no test yet: test both legs, eyes open and eyes closed, on the floor (a week-1 baseline)",)
    if programme is not None:
        week = programme_week(programme.start_date, today)
        if week is None:
            return (f"the programme starts on {programme.start_date.isoformat()}: test both legs on that day",)
        if week > programme.weeks:
            return (f"the {programme.weeks}-week programme has finished: start a new one to keep testing",)
        where = "this week"
    else:
        week = max(r.week for r in dated if r.week is not None)
        where = f"in week {week}"
    first = min(r.week for r in dated if r.week is not None)
    asked = [c for c in condition_groups(dated) if any(r.week == first and r.conditions == c for r in dated)]
    now = [r for r in dated if r.week == week]
    if not now:
        sets = _legs([c.words() for c in asked])
        return (f"week {week}: not tested yet; test both legs, {sets}, as in week {first}",)
    out = []
    for c in asked:
        legs = [leg for leg in SIDES if any(r.conditions == c and r.stance_leg == leg for r in now)]
        if len(legs) == 1:
            out.append(f"test both legs: only the {legs[0]} was tested {where} ({c.words()})")
        elif not legs:
            out.append(f"test {c.words()} too: week {first} tested it, {where} has not")
    if out:
        return tuple(out)
    if week >= weeks:
        return (f"week {week} is done, the programme's last: compare it with week {first} above",)
    when = ""
    if programme is not None:
        when = f" (from {(programme.start_date + timedelta(days=7 * week)).isoformat()})"
    return (f"week {week} is done: both legs, {_legs([c.words() for c in asked])}; next test in week {week + 1}{when}",)


def programme_view(
    person: str,
    records: Sequence[TrialRecord],
    programme: Programme | None,
    today: date,
    birth_year: int | None = None,
) -> ProgrammeView:
    """The programme view of `person` (see the module's docstring)."""
    weeks = programme.weeks if programme is not None else DEFAULT_WEEKS
    this_week = programme_week(programme.start_date, today) if programme is not None else None
    dated = [r for r in records if r.week is not None]
    blocks = tuple(_block(dated, c, weeks, birth_year) for c in condition_groups(dated))
    return ProgrammeView(person, weeks, this_week, birth_year, blocks, next_test(records, programme, today, weeks))


def view_lines(view: ProgrammeView) -> list[str]:
    """The programme view as text lines (the CLI's; the person page lays the same words out as tables)."""
    lines = [f"Programme view, weeks 1-{view.weeks}" + (f" (now week {view.this_week})" if view.this_week else "")]
    if view.birth_year is None:
        lines.append(
            "  no birth year recorded: no age reference (give --age when saving, or set it on the person page)"
        )
    for block in view.blocks:
        lines.append(f"  {block.conditions.words()}:")
        tested = [w for row in block.rows for w in (row.left, row.right) if w is not None]
        shared = view.birth_year is not None and all(w.reference.verdict == "none" for w in tested)
        if shared:  # e.g. on foam: one line says there is no reference, not one per leg and week
            lines.append(f"    age reference: {tested[0].reference.judgement}")
        for row in block.rows:
            lines.append(f"    {row.words}")
            for leg in (row.left, row.right):
                if leg is not None and view.birth_year is not None and not shared:
                    lines.append(f"      {leg.leg}: {leg.reference.words}")
        lines += [f"    {g.words}" for g in block.gaps]
    lines += [f"  Next: {n}" for n in view.next_test]
    return lines
