"""Progress over a programme: per-leg weekly trends, change against the week-1 baseline judged by the MDC.

Also left/right asymmetry per session (limb symmetry index) and the programme week of a date. Pure functions.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date

from balance.assess.flags import SYMMETRY_INDEX
from balance.assess.norms import HOLD_MDC_SOURCE, hold_mdc_words, published_hold_mdc
from balance.history.model import Conditions, Programme, TrialRecord, programme_week
from balance.pose.landmarks import SIDES

# Minimal detectable change at 95 % confidence: MDC95 = 1.96 x sqrt(2) x SEM (Weir 2005, J Strength Cond
# Res 19:231-240), the sqrt(2) because a change is the difference of two noisy measurements. The SEM is the
# within-subject SD of repeat trials of the same leg in the same session (Bland & Altman 1996, BMJ 312:1654).
# Same-session repeats miss day-to-day variation, so this MDC is a lower bound; the score brings its own MDC.
Z95 = 1.959964

# Limb symmetry index, LSI = 100 x weaker / stronger leg, applied to the leg means of each session; the
# cut-off and its sources are balance.assess.flags.SYMMETRY_INDEX's.
LSI_THRESHOLD_PCT = 100 * SYMMETRY_INDEX

# The tripod split is judged against an even three-way share: the programme asks for weight "balanced
# and centred within the forefoot" over the tripod.
EVEN_SHARE_PCT = 100.0 / 3.0


@dataclass(frozen=True)
class Metric:
    """One tracked quantity: how to read it from a trial, its unit, which direction is better."""

    key: str
    label: str
    better: str | None  # "higher", "lower", or None where neither direction is better
    value: Callable[[TrialRecord], float | None]
    unit: Callable[[TrialRecord], str]
    # Trials are only compared when these agree: eyes open vs closed, cm vs %leg, a front vs a side view.
    comparable: Callable[[TrialRecord], Hashable]


def _tripod(part: str) -> Callable[[TrialRecord], float | None]:
    def share(r: TrialRecord) -> float | None:
        return None if r.tripod is None else 100.0 * float(getattr(r.tripod, part))

    return share


def _as_is(unit: str) -> Callable[[TrialRecord], str]:
    return lambda r: unit


def _conditions(r: TrialRecord) -> Conditions:
    return r.conditions


HOLD = Metric("hold_s", "hold time", "higher", lambda r: r.hold_s, _as_is("s"), _conditions)
SCORE = Metric("score", "score", "higher", lambda r: r.score, _as_is("points"), _conditions)
SWAY = Metric(
    "sway_velocity",
    "sway velocity",
    "lower",
    lambda r: r.sway_velocity,
    lambda r: f"{r.unit}/s",
    lambda r: (r.conditions, r.unit, r.horizontal_axis),
)
TRIPOD_INNER = Metric("tripod_inner_ball", "inner-ball share", None, _tripod("inner_ball"), _as_is("%"), _conditions)
TRIPOD_OUTER = Metric("tripod_outer_ball", "outer-ball share", None, _tripod("outer_ball"), _as_is("%"), _conditions)
TRIPOD_TOE = Metric("tripod_big_toe", "big-toe share", None, _tripod("big_toe"), _as_is("%"), _conditions)
METRICS = (HOLD, SCORE, SWAY, TRIPOD_INNER, TRIPOD_OUTER, TRIPOD_TOE)
# Asymmetry needs a direction (which leg is weaker), so the tripod shares are left out.
SYMMETRY_METRICS = (HOLD, SCORE, SWAY)
DIGITS = {HOLD.key: 1, SWAY.key: 2}  # decimals shown; scores and shares in whole points


@dataclass(frozen=True)
class WeekPoint:
    week: int
    n: int
    mean: float
    values: tuple[float, ...]


@dataclass(frozen=True)
class Trend:
    leg: str
    metric: str
    label: str
    unit: str
    points: tuple[WeekPoint, ...]
    baseline_week: int
    baseline: float
    latest_week: int
    latest: float
    change: float  # latest - baseline, in unit
    mdc: float | None  # None: no repeat trials (and no score MDC) to estimate it from
    mdc_source: str
    slope_per_week: float | None  # least-squares slope of the weekly means
    verdict: str  # improvement, decline, change, no detectable change, unknown, baseline only, ceiling
    excluded: int  # trials left out as not comparable with the baseline (conditions, unit, view)
    words: str
    conditions: Conditions  # of the trials in the trend (like with like)


@dataclass(frozen=True)
class Asymmetry:
    session_id: int
    recorded_on: date
    week: int | None
    metric: str
    label: str
    unit: str
    left: float
    right: float
    lsi_pct: float
    weaker: str | None  # None when the legs are equal
    asymmetric: bool
    words: str
    conditions: Conditions


def programme_status(programme: Programme, today: date) -> str:
    """Where the person is in their programme, in words."""
    week = programme_week(programme.start_date, today)
    start = programme.start_date.isoformat()
    if week is None:
        return f"{programme.weeks}-week programme starts on {start} (in {(programme.start_date - today).days} days)"
    if week > programme.weeks:
        return f"the {programme.weeks}-week programme that started {start} has finished (this is week {week})"
    return f"week {week} of {programme.weeks} (programme started {start})"


def limb_symmetry_index(left: float, right: float) -> float:
    """100 x the smaller / the larger leg value: 100 % is perfect symmetry (the weaker leg depends on the metric)."""
    big = max(left, right)
    return 100.0 if big == 0 else 100.0 * min(left, right) / big


def _weaker(metric: Metric, left: float, right: float) -> str | None:
    if left == right:
        return None
    left_worse = left < right if metric.better == "higher" else left > right
    return "left" if left_worse else "right"


def _fmt(metric: Metric, unit: str, value: float, *, signed: bool = False, digits: int | None = None) -> str:
    if digits is None:
        digits = DIGITS.get(metric.key, 0)
    text = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    if unit == "points" or unit == "%":
        return text  # the caller says "points" / "%" where it reads better
    return f"{text} {unit}"


def _mdc_words(metric: Metric, unit: str, mdc: float) -> str:
    usual = DIGITS.get(metric.key, 0)
    digits = usual if mdc <= 0 else max(usual, -math.floor(math.log10(mdc)))  # a tiny MDC is never shown as 0
    text = _fmt(metric, unit, mdc, digits=digits)
    return f"the {text}-point MDC" if unit in ("points", "%") else f"the {text} MDC"


def _change_words(metric: Metric, unit: str, change: float, baseline: float) -> str:
    if unit in ("points", "%"):
        return f"{metric.label} {_fmt(metric, unit, change, signed=True)}{' points' if unit == '%' else ''}"
    pct = f" ({100 * change / baseline:+.0f} %)" if baseline else ""
    return f"{metric.label} {_fmt(metric, unit, change, signed=True)}{pct}"


def within_session_mdc(records: Sequence[TrialRecord], metric: Metric) -> tuple[float | None, str]:
    """MDC95 from repeat trials of the same leg in the same session, pooled (see Z95), with its source in words."""
    groups: dict[tuple[int, str], list[float]] = defaultdict(list)
    for r in records:
        v = metric.value(r)
        if v is not None:
            groups[(r.session_id, r.stance_leg)].append(v)
    repeats = [g for g in groups.values() if len(g) >= 2]
    dof = sum(len(g) - 1 for g in repeats)
    if dof == 0:
        return None, "no session has two trials of this leg to estimate it from"
    ss = sum((v - statistics.fmean(g)) ** 2 for g in repeats for v in g)
    sem = math.sqrt(ss / dof)
    return Z95 * math.sqrt(2.0) * sem, f"MDC95 from repeat trials in {len(repeats)} session(s) (Weir 2005)"


def _mdc(rows: Sequence[TrialRecord], metric: Metric, age: int | None = None) -> tuple[float | None, str]:
    """The metric's MDC95 and its source: the score's own; for hold time the larger of the repeat trials' and
    the published one where it was measured for this age (Goldberg et al. 2011, 60-89); else the repeats'."""
    if metric is SCORE:
        own = [r.score_mdc for r in rows if r.score_mdc is not None]
        if own:
            return statistics.median(own), "the score's own MDC, from the analysis"
    mdc, source = within_session_mdc(rows, metric)
    published = published_hold_mdc(age) if metric is HOLD else None
    if published is not None and (mdc is None or published > mdc):
        return published, HOLD_MDC_SOURCE
    return mdc, source


def _slope(points: Sequence[WeekPoint]) -> float | None:
    if len(points) < 2:
        return None
    weeks = [float(p.week) for p in points]
    means = [p.mean for p in points]
    mw, mm = statistics.fmean(weeks), statistics.fmean(means)
    return sum((w - mw) * (m - mm) for w, m in zip(weeks, means, strict=True)) / sum((w - mw) ** 2 for w in weeks)


def weekly(records: Sequence[TrialRecord], metric: Metric) -> tuple[WeekPoint, ...]:
    """Mean per programme week of the trials that have a week and a value, in week order."""
    by_week: dict[int, list[float]] = defaultdict(list)
    for r in records:
        v = metric.value(r)
        if r.week is not None and v is not None:
            by_week[r.week].append(v)
    return tuple(WeekPoint(w, len(vs), statistics.fmean(vs), tuple(vs)) for w, vs in sorted(by_week.items()))


def trend(
    records: Sequence[TrialRecord],
    metric: Metric,
    leg: str,
    *,
    conditions: Conditions | None = None,
    age: int | None = None,
) -> Trend | None:
    """The leg's trend of one metric across weeks and its change from the baseline, or None without data.

    Only trials comparable with the latest one enter (same conditions, and for sway the same unit and view
    axis); among them the baseline is week 1, or the earliest week when there is no week 1. `conditions`:
    only the trials under these (and the words name them); `age`: the person's, for the hold-time MDC.
    """
    rows = [r for r in records if r.stance_leg == leg and r.week is not None and metric.value(r) is not None]
    if conditions is not None:
        rows = [r for r in rows if r.conditions == conditions]
    if not rows:
        return None
    latest = max(rows, key=lambda r: (r.recorded_on, r.session_id))
    key = metric.comparable(latest)  # compare like with the latest: the test as the person does it now
    kept = [r for r in rows if metric.comparable(r) == key]
    points = weekly(kept, metric)
    base, last = points[0], points[-1]
    unit = metric.unit(kept[0])
    mdc, source = _mdc(kept, metric, age)
    change = last.mean - base.mean
    head = f"{leg} leg: " if conditions is None else f"{leg} leg, {conditions.words()}: "
    if len(points) == 1:
        verdict = "baseline only"
        words = (
            f"{head}{metric.label} {_fmt(metric, unit, base.mean)} in week {base.week}, the baseline; no later week yet"
        )
    elif metric is HOLD and all(r.ended_by != "touch_down" for r in kept if r.week in (base.week, last.week)):
        verdict = "ceiling"
        words = (
            f"{head}every hold in weeks {base.week} and {last.week} lasted until the clip ended, so hold time "
            "cannot show change; film longer holds (or until the foot touches down)"
        )
    else:
        span = f" from week {base.week} to week {last.week}"
        said = _change_words(metric, unit, change, base.mean) + span
        if mdc is None:
            verdict = "unknown"
            words = f"{head}{said}; MDC unknown ({source}), so real change cannot be told from noise"
        elif abs(change) <= mdc:
            verdict = "no detectable change"
            words = f"{head}{said}, within {_mdc_words(metric, unit, mdc)}: no real change"
        else:
            if metric.better is None:
                verdict = "change"
                closer = abs(last.mean - EVEN_SHARE_PCT) < abs(base.mean - EVEN_SHARE_PCT)
                tail = f"real change, {'closer to' if closer else 'further from'} an even three-way split"
            else:
                better = (change > 0) == (metric.better == "higher")
                verdict = "improvement" if better else "decline"
                tail = f"real {verdict}"
            words = f"{head}{said}, beyond {_mdc_words(metric, unit, mdc)}: {tail}"
        if metric is HOLD:
            words += f" ({hold_mdc_words(age)})"
    return Trend(
        leg=leg,
        metric=metric.key,
        label=metric.label,
        unit=unit,
        points=points,
        baseline_week=base.week,
        baseline=base.mean,
        latest_week=last.week,
        latest=last.mean,
        change=change,
        mdc=mdc,
        mdc_source=source,
        slope_per_week=_slope(points),
        verdict=verdict,
        excluded=len(rows) - len(kept),
        words=words,
        conditions=latest.conditions,
    )


def condition_groups(records: Sequence[TrialRecord]) -> list[Conditions]:
    """The distinct conditions of the records, in the order they were first tested."""
    return list(dict.fromkeys(r.conditions for r in records))


def trends(
    records: Sequence[TrialRecord], metrics: Sequence[Metric] = METRICS, *, age: int | None = None
) -> list[Trend]:
    """Every leg's trend of every metric that has data, leg by leg; one trend per set of conditions (eyes open
    and eyes closed, floor and foam are never mixed), each naming its conditions when there are several."""
    groups = condition_groups([r for r in records if r.week is not None])
    if len(groups) <= 1:
        found = (trend(records, m, leg, age=age) for leg in SIDES for m in metrics)
    else:
        found = (trend(records, m, leg, conditions=c, age=age) for c in groups for leg in SIDES for m in metrics)
    return [t for t in found if t is not None]


def asymmetries(records: Sequence[TrialRecord], metrics: Sequence[Metric] = SYMMETRY_METRICS) -> list[Asymmetry]:
    """Left/right asymmetry of each session that has both legs, per metric, against the LSI threshold."""
    sessions: dict[int, list[TrialRecord]] = defaultdict(list)
    for r in records:
        sessions[r.session_id].append(r)
    out = []
    for session_id, rows in sessions.items():
        for metric in metrics:
            side = {leg: [r for r in rows if r.stance_leg == leg and metric.value(r) is not None] for leg in SIDES}
            if not side["left"] or not side["right"]:
                continue
            if metric.comparable(side["left"][0]) != metric.comparable(side["right"][0]):
                continue  # e.g. one leg filmed front-on, the other side-on: not the same quantity
            left, right = (statistics.fmean(metric.value(r) or 0.0 for r in side[leg]) for leg in SIDES)
            lsi = limb_symmetry_index(left, right)
            weaker = _weaker(metric, left, right)
            if metric is HOLD and any(
                r.ended_by != "touch_down" for leg in ([weaker] if weaker else SIDES) for r in side[leg]
            ):
                continue  # a hold cut by the clip's end is only a lower bound: no evidence either way
            unit = metric.unit(side["left"][0])
            asym = lsi < LSI_THRESHOLD_PCT
            when = f"week {rows[0].week}" if rows[0].week is not None else "no week"
            if rows[0].conditions != Conditions():
                when += f", {rows[0].conditions.words()}"
            verdict = (
                f"below the {LSI_THRESHOLD_PCT:.0f} % threshold: the {weaker} leg is weaker"
                if asym
                else f"within the {LSI_THRESHOLD_PCT:.0f} % threshold: symmetric"
            )
            out.append(
                Asymmetry(
                    session_id=session_id,
                    recorded_on=rows[0].recorded_on,
                    week=rows[0].week,
                    metric=metric.key,
                    label=metric.label,
                    unit=unit,
                    left=left,
                    right=right,
                    lsi_pct=lsi,
                    weaker=weaker,
                    asymmetric=asym,
                    conditions=rows[0].conditions,
                    words=(
                        f"{rows[0].recorded_on.isoformat()} ({when}): {metric.label} left "
                        f"{_fmt(metric, unit, left)}, right {_fmt(metric, unit, right)}: LSI {lsi:.0f} %, {verdict}"
                    ),
                )
            )
    return sorted(out, key=lambda a: (a.recorded_on, a.session_id))
