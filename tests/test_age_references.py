"""The age references, the test conditions as data and the programme view, end to end: one person tested in
weeks 1, 3 and 6, both legs, eyes open and eyes closed, stored through the real store (SQLite and a real
PostgreSQL) from real analyses (the synthetic 30 s holds cut in halves, as tests/test_progress.py analyses
them), shown by `balance history` and on the person page in Chromium.

The holds are the 15 s halves of 30 s clips, so every hold runs to the end of its clip: the view must say
"held to the end of the test" and never report 14.9 s as a measured limit; against the age reference that is
"a longer test would tell" with the eyes open (the average for 50-59 is 41.2 s) and "at least the averages"
with the eyes closed (women 7.9 s, men 8.6 s). The left leg's sway improves from week 3 (the large-sway clip,
then the base-sway one), the right's stays: like-with-like trends per set of conditions and an asymmetry that
closes after week 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from balance.cli.main import main
from balance.history.model import Conditions
from balance.history.programme import programme_view, view_lines
from balance.history.progress import asymmetries, trends
from balance.history.store import Store

from .test_progress import LEFT_AFTER, LEFT_BEFORE, RIGHT, START, half_document
from .test_store import database, postgres, relabel  # noqa: F401 (fixtures: SQLite and PostgreSQL)
from .test_web_browser import browser, serve, shot  # noqa: F401 (the Chromium fixture)

# Every test here reads the analyses of the synthetic holds cut in halves (half_document): the pose model runs.
pytestmark = pytest.mark.slow

BORN = 1972  # 52 in 2024, the year of the sessions: the 50-59 band
WEEKS = (1, 3, 6)
EYES = ("open", "closed")


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], dict[str, Any]]:
    folder = tmp_path_factory.mktemp("halves")
    return {(clip, h): half_document(clip, h, folder) for clip in (LEFT_BEFORE, LEFT_AFTER, RIGHT) for h in (0, 1)}


def build(db: str, documents: dict[tuple[str, int], dict[str, Any]]) -> None:
    """Sam's history through the real store: a 6-week programme, weeks 1, 3 and 6 on the Wednesday, both legs
    twice (the two halves: repeat trials give the MDC), eyes open and eyes closed on the floor (each stored clip
    stands for its own recording)."""
    with Store(db) as store:
        store.start_programme("Sam", start=START, weeks=6)
        store.set_birth_year("Sam", BORN)
        for week in WEEKS:
            on = START + timedelta(days=7 * (week - 1) + 2)
            for eyes in EYES:
                for clip in (LEFT_BEFORE if week == 1 else LEFT_AFTER, RIGHT):
                    for half in (0, 1):
                        doc = relabel(documents[(clip, half)], f"{week}-{eyes}-{clip}-{half}")
                        store.add_analysis(doc, name="Sam", recorded_on=on, conditions=Conditions(eyes, "floor"))


@pytest.fixture
def history(database: str, documents: dict[tuple[str, int], dict[str, Any]]) -> Iterator[str]:  # noqa: F811
    build(database, documents)
    yield database


OPEN_REFERENCE = "the test ended before the average for 50-59 (41.2 s): a longer test would tell"
CLOSED_REFERENCE = "at least the averages for 50-59 (women 7.9 s, men 8.6 s), eyes closed"


def test_the_stored_history_gives_references_like_with_like_trends_and_asymmetry(history: str) -> None:
    with Store(history) as store:
        records = store.trials("Sam")
        programme = store.programme("Sam")
        born = store.birth_year("Sam")
    assert born == BORN and len(records) == 24
    view = programme_view("Sam", records, programme, START + timedelta(days=40), born)
    assert [b.conditions for b in view.blocks] == [Conditions(e, "floor") for e in EYES]
    for block, reference in zip(view.blocks, (OPEN_REFERENCE, CLOSED_REFERENCE), strict=True):
        tested = [r.week for r in block.rows if r.left is not None and r.right is not None]
        assert tested == list(WEEKS)
        assert [r.week for r in block.rows if r.left is None and r.right is None] == [2, 4, 5]
        for row in block.rows:
            for leg in (row.left, row.right):
                if leg is not None:  # held to the end of the 15 s clip: a lower bound, never a measured limit
                    assert leg.ended_by == "clip_end" and leg.hold.endswith(
                        "(at least 14.9 s; the foot did not come down)"
                    )
                    assert leg.reference.judgement == reference
        hold_gap = block.gaps[0]
        assert hold_gap.verdict == "cannot tell" and "ran to the end of the test" in hold_gap.words
    assert view.next_test == ("week 6 is done, the programme's last: compare it with week 1 above",)

    sway = [t for t in trends(records) if t.metric == "sway_velocity"]
    assert [(t.leg, t.conditions.eyes, t.verdict) for t in sway] == [
        ("left", "open", "improvement"),
        ("right", "open", "no detectable change"),
        ("left", "closed", "improvement"),
        ("right", "closed", "no detectable change"),
    ]
    assert sway[2].words.startswith("left leg, eyes closed, floor: sway velocity -")
    assert all(t.excluded == 0 for t in sway)  # each trend holds its own conditions only
    sym = [a for a in asymmetries(records) if a.metric == "sway_velocity"]
    assert [(a.week, a.conditions.eyes, a.asymmetric) for a in sym] == [(w, e, w == 1) for w in WEEKS for e in EYES]
    assert all(a.weaker == "left" for a in sym if a.asymmetric)
    text = "\n".join(view_lines(view))
    assert f"      left: 14.9 s (held to the end of the test): {OPEN_REFERENCE}" in text


def test_balance_history_prints_references_like_with_like_trends_and_asymmetry(
    history: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "Sam", "--db", history]) == 0
    out = capsys.readouterr().out
    assert "like with like: eyes open, floor / eyes closed, floor are compared only among themselves" in out
    for eyes in EYES:
        assert re.search(rf"\n  left leg, eyes {eyes}, floor: sway velocity -[\d.]+ %leg/s .* real improvement\n", out)
        assert re.search(rf"\n  right leg, eyes {eyes}, floor: sway velocity \+0\.00 %leg/s .* no real change\n", out)
        week1 = re.search(rf"\n  \S+ \(week 1, eyes {eyes}, floor\): sway velocity left .*\n", out)
        assert week1 and "below the 90 % threshold: the left leg is weaker" in week1[0]
    view = out[out.index("Programme view, weeks 1-6") :]
    assert view.count(f"(held to the end of the test): {OPEN_REFERENCE}") == 6  # 3 weeks x 2 legs
    assert view.count(f"(held to the end of the test): {CLOSED_REFERENCE}") == 6
    assert "    week 2: left not tested; right not tested\n" in view
    assert "week 1: left best 14.9+ s of 2" in view and "both held to the end of the test" in view
    assert view.count("hold-time gap (right - left)") == 2
    assert "  Next: the 6-week programme has finished: start a new one to keep testing" in view


def test_the_person_page_in_chromium_shows_the_programme_view(
    history: str,
    browser: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    with serve(tmp_path, db=history) as (url, _proc):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "/person?name=Sam")
        plan = page.inner_text("#programme-view")
        assert "eyes open, floor" in plan and "eyes closed, floor" in plan
        assert plan.count(OPEN_REFERENCE) == 6 and plan.count(CLOSED_REFERENCE) == 6  # 3 weeks x 2 legs
        assert plan.count("not tested") == 2 * 2 * 3  # weeks 2, 4, 5: both legs, both conditions
        assert "hold-time gap (right - left)" in plan and "a hold ran to the end of the test" in plan
        assert "Next: week 6 is done" in plan or "Next: the 6-week programme has finished" in plan
        trend_items = page.locator("ul.trends li").all_inner_texts()
        assert any(t.startswith("left leg, eyes closed, floor: sway velocity") for t in trend_items)
        assert any(t.startswith("left leg, eyes open, floor: sway velocity") for t in trend_items)
        assert any(
            "(week 1, eyes closed, floor): sway velocity left" in t and "left leg is weaker" in t for t in trend_items
        )
        assert "eyes closed, floor" in page.inner_text("table.history:not(.plan)")
        shot(page, "person-programme-desktop")
        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
        phone.goto(url + "/person?name=Sam")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "the person page scrolls sideways"
        shot(phone, "person-programme-phone")
        # The age form: 75 this year moves the references to the 70-79 band.
        page.fill("#age-form input[name=age]", "75")
        page.click("#age-form button")
        page.wait_for_url("**/person?name=Sam")
        plan = page.inner_text("#programme-view")
        assert "the average for 70-79" in plan and "50-59" not in plan
        assert page.input_value("#age-form input[name=age]") == "75"
        assert not errors, errors
    with Store(history) as store:
        assert store.birth_year("Sam") == date.today().year - 75
