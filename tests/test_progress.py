"""balance.history.progress: weekly trends against the week-1 baseline judged by the MDC, left/right symmetry, programme
weeks; on constructed numbers, and on a six-week history built from real analyses of the sample clips.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import cv2
import pytest

from balance.history.model import Conditions, Programme, TrialRecord, Tripod
from balance.history.progress import (
    HOLD,
    SCORE,
    SWAY,
    TRIPOD_OUTER,
    Z95,
    asymmetries,
    limb_symmetry_index,
    programme_status,
    programme_week,
    trend,
    trends,
    within_session_mdc,
)
from balance.history.store import Store
from balance.pipeline import analyze
from balance.results.document import to_json

from .conftest import SAMPLES
from .test_store import relabel

START = date(2024, 3, 4)  # a Monday: week 1 is 4-10 March


def rec(leg: str = "left", week: int | None = 1, session: int | None = None, **kw: Any) -> TrialRecord:
    """A stored trial with only the fields a test cares about set."""
    base = TrialRecord(
        person="Sam",
        recorded_on=START + timedelta(days=7 * ((week or 1) - 1)),
        week=week,
        session_id=session if session is not None else (week or 0),
        conditions=Conditions(),
        notes="",
        clip_sha256="0" * 64,
        clip_path="clip.mp4",
        analysis_version="0.1.0",
        trial_index=0,
        stance_leg=leg,
        hold_s=30.0,
        ended_by="touch_down",
        view="front",
        horizontal_axis="ml",
        unit="%leg",
        sway_velocity=None,
        sway_rms=None,
        score=None,
        score_mdc=None,
        flags=(),
        tripod=None,
        metrics={},
    )
    return replace(base, **kw)


# --- constructed numbers ---------------------------------------------------------------------------


def test_programme_week_counts_seven_day_weeks_from_the_start() -> None:
    assert programme_week(START, START) == 1
    assert programme_week(START, START + timedelta(days=6)) == 1
    assert programme_week(START, START + timedelta(days=7)) == 2
    assert programme_week(START, START + timedelta(days=41)) == 6
    assert programme_week(START, START - timedelta(days=1)) is None
    six = Programme("Sam", START, 6)
    assert programme_status(six, START + timedelta(days=15)) == "week 3 of 6 (programme started 2024-03-04)"
    assert "starts on 2024-03-04 (in 4 days)" in programme_status(six, START - timedelta(days=4))
    assert "finished" in programme_status(six, START + timedelta(days=60))


def test_score_change_beyond_the_mdc_is_called_real_in_words() -> None:
    records = [rec("right", 1, score=60.0, score_mdc=9.0), rec("right", 3, score=66.0, score_mdc=9.0)]
    records.append(rec("right", 6, score=74.0, score_mdc=9.0))
    t = trend(records, SCORE, "right")
    assert t is not None
    assert t.words == "right leg: score +14 from week 1 to week 6, beyond the 9-point MDC: real improvement"
    assert (t.baseline, t.latest, t.change, t.mdc, t.verdict) == (60.0, 74.0, 14.0, 9.0, "improvement")
    assert t.slope_per_week == pytest.approx(2.7894736842)
    worse = trend([rec("left", 1, score=80.0, score_mdc=9.0), rec("left", 2, score=70.0, score_mdc=9.0)], SCORE, "left")
    assert worse is not None and worse.verdict == "decline" and "-10" in worse.words and "real decline" in worse.words
    same = trend([rec("left", 1, score=80.0, score_mdc=9.0), rec("left", 2, score=75.0, score_mdc=9.0)], SCORE, "left")
    assert same is not None and same.verdict == "no detectable change"
    assert same.words == "left leg: score -5 from week 1 to week 2, within the 9-point MDC: no real change"


def test_mdc_from_repeat_trials_follows_weir_2005() -> None:
    # Two sessions with two left trials each: (1, 2) and (3, 5). Pooled within-session variance =
    # ((1-1.5)^2 + (2-1.5)^2 + (3-4)^2 + (5-4)^2) / 2 = 1.25; MDC95 = 1.96 x sqrt(2) x sqrt(1.25).
    records = [rec(week=1, sway_velocity=1.0), rec(week=1, sway_velocity=2.0)]
    records += [rec(week=2, sway_velocity=3.0), rec(week=2, sway_velocity=5.0)]
    mdc, source = within_session_mdc(records, SWAY)
    assert mdc == pytest.approx(Z95 * math.sqrt(2) * math.sqrt(1.25))
    assert "2 session(s)" in source
    t = trend(records, SWAY, "left")
    assert t is not None and t.verdict == "no detectable change"  # +2.5 %leg/s is within the 3.10 MDC
    assert "sway velocity +2.50 %leg/s (+167 %) from week 1 to week 2, within the 3.10 %leg/s MDC" in t.words
    single = [rec(week=1, sway_velocity=1.0), rec(week=2, sway_velocity=3.0)]
    unknown = trend(single, SWAY, "left")
    assert unknown is not None and unknown.mdc is None and unknown.verdict == "unknown"
    assert "MDC unknown (no session has two trials of this leg" in unknown.words


def test_only_trials_comparable_with_the_latest_enter_a_trend() -> None:
    records = [
        rec(week=1, sway_velocity=9.0, unit="cm"),  # another unit: not the same number
        rec(week=1, sway_velocity=2.0, session=11, conditions=Conditions(eyes="closed")),
        rec(week=2, sway_velocity=1.0),
        rec(week=3, sway_velocity=1.5),
    ]
    t = trend(records, SWAY, "left")
    assert t is not None
    assert (t.baseline_week, t.baseline, t.latest, t.excluded) == (2, 1.0, 1.5, 2)
    assert t.unit == "%leg/s"


def test_holds_cut_by_the_clip_end_cannot_show_change() -> None:
    records = [rec(week=w, hold_s=30.0, ended_by="clip_end") for w in (1, 2)]
    t = trend(records, HOLD, "left")
    assert t is not None and t.verdict == "ceiling" and "lasted until the clip ended" in t.words


def test_tripod_change_is_judged_against_an_even_split() -> None:
    def tri(outer: float) -> Tripod:
        return Tripod(inner_ball=(1 - outer) / 2, outer_ball=outer, big_toe=(1 - outer) / 2)

    records = [rec(week=1, session=1, tripod=tri(0.60)), rec(week=1, session=1, tripod=tri(0.56))]
    records += [rec(week=5, session=5, tripod=tri(0.40)), rec(week=5, session=5, tripod=tri(0.36))]
    t = trend(records, TRIPOD_OUTER, "left")
    assert t is not None and t.verdict == "change"
    assert t.words.startswith("left leg: outer-ball share -20 points from week 1 to week 5, beyond the")
    assert t.words.endswith("real change, closer to an even three-way split")


def test_asymmetry_per_session_against_the_90_percent_lsi() -> None:
    assert limb_symmetry_index(80.0, 100.0) == 80.0 == limb_symmetry_index(100.0, 80.0)
    assert limb_symmetry_index(0.0, 0.0) == 100.0
    records = [
        rec("left", 1, sway_velocity=3.0, score=50.0),
        rec("right", 1, sway_velocity=2.0, score=70.0),
        rec("left", 2, sway_velocity=2.0, score=68.0),
        rec("right", 2, sway_velocity=1.9, score=70.0),
        rec("left", 3, sway_velocity=1.0),  # one leg only: no asymmetry for week 3
    ]
    found = {(a.week, a.metric): a for a in asymmetries(records)}
    assert set(found) == {(1, "hold_s"), (1, "score"), (1, "sway_velocity")} | {
        (2, "hold_s"),
        (2, "score"),
        (2, "sway_velocity"),
    }
    w1 = found[(1, "sway_velocity")]
    assert (w1.lsi_pct, w1.weaker, w1.asymmetric) == (pytest.approx(200 / 3), "left", True)
    assert w1.words == (
        "2024-03-04 (week 1): sway velocity left 3.00 %leg/s, right 2.00 %leg/s: LSI 67 %, "
        "below the 90 % threshold: the left leg is weaker"
    )
    assert found[(1, "score")].weaker == "left" and found[(1, "score")].asymmetric
    w2 = found[(2, "sway_velocity")]
    assert (w2.lsi_pct, w2.weaker, w2.asymmetric) == (pytest.approx(95.0), "left", False)
    assert w2.words.endswith("LSI 95 %, within the 90 % threshold: symmetric")
    assert found[(2, "hold_s")].lsi_pct == 100.0 and found[(2, "hold_s")].weaker is None


def test_hold_asymmetry_needs_the_shorter_hold_to_end_with_the_foot() -> None:
    cut = [rec("left", 1, hold_s=4.0, ended_by="clip_end"), rec("right", 1, hold_s=30.0)]
    assert [a.metric for a in asymmetries(cut)] == []
    fell = [rec("left", 1, hold_s=12.0), rec("right", 1, hold_s=30.0, ended_by="clip_end")]
    [a] = asymmetries(fell)
    assert (a.metric, a.weaker, a.lsi_pct) == ("hold_s", "left", 40.0)


# --- a six-week history from real analyses ------------------------------------------------------------

SYNTHETIC = SAMPLES / "synthetic"
# Each weekly session holds two 15 s trials per leg: the two halves of a 30 s synthetic hold. The left leg
# starts on the large-sway clip (weeks 1-2) and moves to the base-sway clip (weeks 3-6); the right leg stays
# on the mirrored base-sway clip: the left improves, the right is constant, the asymmetry closes at week 3.
LEFT_BEFORE, LEFT_AFTER, RIGHT = "sway_left_large", "sway_left_clean", "sway_right_clean"
HALF_S = 15.0
# Cut at 10 frames/s (every third frame) and run with the lite model: a fifth of the default's pose-model
# time. Sway (below 3 Hz) stays under the 5 Hz Nyquist limit; this test is about the history, not the pose.
STEP = 3
MODEL = "lite"

_documents: dict[tuple[str, int], dict[str, Any]] = {}


def _cut_halves(src: Path, folder: Path) -> tuple[Path, Path]:
    """Write the two 15 s halves of a 30 s clip at a third of its frame rate, in one decoding pass."""
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS)
    paths = (folder / f"{src.stem}_half0.mp4", folder / f"{src.stem}_half1.mp4")
    writers: list[cv2.VideoWriter] = []
    index = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if not writers:
            h, w = frame.shape[:2]
            writers = [cv2.VideoWriter(str(p), cv2.VideoWriter.fourcc(*"mp4v"), fps / STEP, (w, h)) for p in paths]
        half = int(index / fps // HALF_S)
        if index % STEP == 0 and half < 2:
            writers[half].write(frame)
        index += 1
    cap.release()
    for writer in writers:
        writer.release()
    return paths


def half_document(clip: str, half: int, folder: Path) -> dict[str, Any]:
    """The real analysis (report.to_json) of one 15 s half of a synthetic 30 s hold, once per test session."""
    if (clip, half) not in _documents:
        for k, part in enumerate(_cut_halves(SYNTHETIC / f"{clip}.mp4", folder)):
            _documents[(clip, k)] = to_json(analyze(part, model=MODEL, workers=1))
    return _documents[(clip, half)]


def add_six_weeks(store: Store, folder: Path, name: str = "Sam") -> None:
    """Store the six-week history: programme from START, sessions every Wednesday, weeks from the programme."""
    store.start_programme(name, start=START, weeks=6)
    for week in range(1, 7):
        on = START + timedelta(days=7 * (week - 1) + 2)
        left = LEFT_BEFORE if week <= 2 else LEFT_AFTER
        for clip, half in ((left, 0), (left, 1), (RIGHT, 0), (RIGHT, 1)):
            doc = relabel(half_document(clip, half, folder), f"{name}-week{week}")
            store.add_analysis(doc, name=name, recorded_on=on, conditions=Conditions("open", "floor", "barefoot"))


@pytest.fixture(scope="module")
def six_weeks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[TrialRecord]]:
    folder = tmp_path_factory.mktemp("six-weeks")
    with Store(folder / "history.db") as store:
        add_six_weeks(store, folder)
        yield store.trials("Sam")


def velocity(clip: str, half: int) -> float:
    return float(_documents[(clip, half)]["trials"][0]["metrics"]["observed"]["centre_of_mass"]["mean_velocity"])


def test_six_week_history_has_the_constructed_sessions(six_weeks: list[TrialRecord]) -> None:
    assert [r.week for r in six_weeks] == [w for w in range(1, 7) for _ in range(4)]
    assert [r.stance_leg for r in six_weeks[:4]] == ["left", "left", "right", "right"]
    assert all(r.ended_by == "clip_end" and r.hold_s == pytest.approx(14.9, abs=0.1) for r in six_weeks)
    # the clips themselves: the large-sway halves sway far more than the base-sway halves
    assert min(velocity(LEFT_BEFORE, h) for h in (0, 1)) > 1.5 * max(velocity(LEFT_AFTER, h) for h in (0, 1))


def test_six_week_trend_left_improves_beyond_the_mdc_right_is_constant(six_weeks: list[TrialRecord]) -> None:
    left = trend(six_weeks, SWAY, "left")
    right = trend(six_weeks, SWAY, "right")
    assert left is not None and right is not None
    before = statistics.fmean(velocity(LEFT_BEFORE, h) for h in (0, 1))
    after = statistics.fmean(velocity(LEFT_AFTER, h) for h in (0, 1))
    assert [p.mean for p in left.points] == pytest.approx([before] * 2 + [after] * 4)
    # MDC95 from the repeat pairs: each session's two halves (Weir 2005), computed here independently
    pairs = [(LEFT_BEFORE, 2), (LEFT_AFTER, 4)]
    ss = sum(n * (velocity(c, 0) - velocity(c, 1)) ** 2 / 2 for c, n in pairs)
    assert left.mdc == pytest.approx(Z95 * math.sqrt(2) * math.sqrt(ss / 6))
    assert left.verdict == "improvement" and left.change == pytest.approx(after - before)
    assert left.mdc is not None and abs(left.change) > 2 * left.mdc
    pct = 100 * (after - before) / before
    assert left.words == (
        f"left leg: sway velocity {after - before:+.2f} %leg/s ({pct:+.0f} %) from week 1 to week 6, "
        f"beyond the {left.mdc:.2f} %leg/s MDC: real improvement"
    )
    assert left.slope_per_week is not None and left.slope_per_week < 0
    assert right.verdict == "no detectable change" and right.change == 0.0 and right.mdc is not None
    assert right.words.startswith("right leg: sway velocity +0.00 %leg/s (+0 %) from week 1 to week 6, within the")
    for leg in ("left", "right"):
        hold = trend(six_weeks, HOLD, leg)
        assert hold is not None and hold.verdict == "ceiling"  # 15 s clips: every hold ran to the clip's end


def test_six_week_score_follows_the_sway_when_the_analysis_scores_trials(six_weeks: list[TrialRecord]) -> None:
    if any(r.score is None for r in six_weeks):
        pytest.skip("these analyses carry no stability score (issue 4's score is not in report.to_json)")
    left, right = trend(six_weeks, SCORE, "left"), trend(six_weeks, SCORE, "right")
    assert left is not None and left.verdict == "improvement" and left.mdc_source.startswith("the score's own MDC")
    assert right is not None and right.verdict == "no detectable change" and right.change == 0.0


def test_six_week_asymmetry_closes_in_week_3(six_weeks: list[TrialRecord]) -> None:
    sway = [a for a in asymmetries(six_weeks) if a.metric == "sway_velocity"]
    assert [a.week for a in sway] == [1, 2, 3, 4, 5, 6]
    assert [a.asymmetric for a in sway] == [True, True, False, False, False, False]
    assert all(a.weaker == "left" and a.lsi_pct < 70 for a in sway[:2])
    assert all(a.lsi_pct >= 90 for a in sway[2:])
    right = statistics.fmean(velocity(RIGHT, h) for h in (0, 1))
    before = statistics.fmean(velocity(LEFT_BEFORE, h) for h in (0, 1))
    assert sway[0].lsi_pct == pytest.approx(100 * right / before)
    assert "below the 90 % threshold: the left leg is weaker" in sway[0].words
    assert "within the 90 % threshold: symmetric" in sway[5].words


def test_eyes_open_and_closed_are_separate_trends_that_name_their_conditions() -> None:
    open_, closed = Conditions("open", "floor"), Conditions("closed", "floor")
    records = [
        rec("left", 1, session=1, conditions=open_, score=60.0, score_mdc=5.0),
        rec("left", 1, session=2, conditions=closed, score=30.0, score_mdc=5.0),
        rec("left", 3, session=3, conditions=open_, score=70.0, score_mdc=5.0),
        rec("left", 3, session=4, conditions=closed, score=32.0, score_mdc=5.0),
    ]
    found = trends(records, [SCORE])
    assert [(t.conditions, t.baseline, t.latest, t.verdict) for t in found] == [
        (open_, 60.0, 70.0, "improvement"),
        (closed, 30.0, 32.0, "no detectable change"),
    ]
    assert found[0].words.startswith("left leg, eyes open, floor: score +10 from week 1 to week 3")
    assert found[1].words.startswith("left leg, eyes closed, floor: score +2")
    # One set of conditions: the words stay as they were.
    assert trends(records[::2], [SCORE])[0].words.startswith("left leg: score +10")


def test_hold_time_change_is_judged_by_the_published_mdc_for_older_adults() -> None:
    records = [rec("left", 1, hold_s=10.0, session=1), rec("left", 1, hold_s=11.0, session=1)]
    records += [rec("left", 6, hold_s=25.0, session=6), rec("left", 6, hold_s=26.0, session=6)]
    young = trend(records, HOLD, "left", age=35)  # the repeat trials' MDC (about 2 s): +15 s is real
    old = trend(records, HOLD, "left", age=65)  # the published 24.1 s: +15 s is not
    assert young is not None and old is not None
    assert young.verdict == "improvement" and young.mdc is not None and young.mdc < 3
    assert young.words.endswith(
        "(published hold-time MDC: 24.1 s, Goldberg et al. 2011, Gait Posture 33:737, "
        "adults 60-89; none is published for age 35)"
    )
    assert old.verdict == "no detectable change" and old.mdc == 24.1 and "Goldberg" in old.mdc_source
    assert "within the 24.1 s MDC: no real change" in old.words


def test_asymmetry_names_the_session_conditions() -> None:
    closed = Conditions("closed", "foam")
    records = [rec("left", 1, conditions=closed, score=50.0), rec("right", 1, conditions=closed, score=70.0)]
    [a] = asymmetries(records, [SCORE])
    assert a.conditions == closed and "(week 1, eyes closed, foam): score left 50, right 70" in a.words
