"""balance.history.programme: the programme view (weeks 1-6, both legs, age reference, the gap's trend, what to test
next) on constructed trials; the end-to-end history from real analyses is in tests/test_age_references.py."""

from __future__ import annotations

from datetime import timedelta

from balance.history.model import Conditions, Programme, TrialRecord
from balance.history.programme import programme_view, view_lines

from .test_progress import START, rec

OPEN, CLOSED = Conditions("open", "floor"), Conditions("closed", "floor")
SIX = Programme("Sam", START, 6)


def history() -> list[TrialRecord]:
    """Weeks 1, 3 and 6, both legs, eyes open and closed; the left catches up with the right."""
    out: list[TrialRecord] = []
    holds = {1: (21.0, 40.0, 4.0, 9.0), 3: (30.0, 41.0, 6.0, 9.5), 6: (39.0, 41.5, 8.0, 9.0)}
    for week, (lo, ro, lc, rc) in holds.items():
        for leg, cond, hold in [("left", OPEN, lo), ("right", OPEN, ro), ("left", CLOSED, lc), ("right", CLOSED, rc)]:
            session = 10 * week + (0 if cond == OPEN else 1)
            out.append(rec(leg, week, session=session, conditions=cond, hold_s=hold, score=None))
    return out


def test_weeks_one_to_six_with_both_legs_and_the_age_reference() -> None:
    view = programme_view("Sam", history(), SIX, START + timedelta(days=40), birth_year=1972)
    assert [b.conditions for b in view.blocks] == [OPEN, CLOSED]
    rows = view.blocks[0].rows
    assert [r.week for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [r.left is not None for r in rows] == [True, False, True, False, False, True]
    assert rows[1].words == "week 2: left not tested; right not tested"
    w1 = rows[0]
    assert w1.left is not None and w1.right is not None
    assert w1.left.reference.words == "21.0 s: below the average for 50-59 (41.2 s)"  # 52 in 2024
    assert w1.words == "week 1: left best 21.0 s of 1; right best 40.0 s of 1; hold LSI 52 %"
    closed = view.blocks[1].rows[0]
    assert closed.left is not None and "women 7.9 s, men 8.6 s" in closed.left.reference.words
    gap = view.blocks[0].gaps[0]
    # 19.0 s -> 2.5 s: a 16.5 s change, within sqrt(2) x 24.1 s? No: 52 is under 60, so no published MDC applies
    # and one trial per leg and week gives no repeats: the MDC is unknown, and the words say so.
    assert (gap.first_gap, gap.last_gap, gap.verdict) == (19.0, 2.5, "unknown")
    assert "MDC unknown" in gap.words
    older = programme_view("Sam", history(), SIX, START + timedelta(days=40), birth_year=1950)  # 74
    g = older.blocks[0].gaps[0]
    assert g.mdc is not None and abs(g.mdc - 2**0.5 * 24.1) < 1e-9 and g.verdict == "no detectable change"
    assert "within the 34.1 s MDC of a change in the gap" in g.words
    assert view.next_test == ("week 6 is done, the programme's last: compare it with week 1 above",)
    text = "\n".join(view_lines(view))
    assert "  eyes open, floor:" in text and "  eyes closed, floor:" in text
    assert "      left: 21.0 s: below the average for 50-59 (41.2 s)" in text


def test_the_next_test_asks_for_the_missing_leg_and_conditions() -> None:
    records = [r for r in history() if r.week == 1] + [rec("left", 2, session=20, conditions=OPEN)]
    today = START + timedelta(days=8)  # week 2
    view = programme_view("Sam", records, SIX, today)
    assert view.next_test == (
        "test both legs: only the left was tested this week (eyes open, floor)",
        "test eyes closed, floor too: week 1 tested it, this week has not",
    )
    assert programme_view("Sam", records, SIX, START + timedelta(days=15)).next_test == (
        "week 3: not tested yet; test both legs, eyes open, floor and eyes closed, floor, as in week 1",
    )
    done = programme_view("Sam", [r for r in history() if r.week == 1], SIX, START + timedelta(days=2))
    assert done.next_test[0].startswith("week 1 is done: both legs") and "(from 2024-03-11)" in done.next_test[0]
    assert "no birth year recorded" in "\n".join(view_lines(view))


def test_no_reference_on_foam_is_said_once() -> None:
    foam = Conditions("open", "foam")
    records = [rec(leg, 1, session=1, conditions=foam, hold_s=20.0) for leg in ("left", "right")]
    lines = view_lines(programme_view("Sam", records, SIX, START, birth_year=1972))
    refs = [line for line in lines if "no published age reference" in line]
    assert refs == [
        "    age reference: no published age reference for single-leg stance on foam "
        "(Springer et al. 2007, J Geriatr Phys Ther 30(1):8-15 tested a firm floor)"
    ]
