"""Analysis documents to table rows and table rows back to TrialRecords: validation, no database access.

Anything malformed is refused with a StoreError, never stored as NULL.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from balance.assess.catalogue import reported_value
from balance.errors import StoreError
from balance.history.model import Conditions, Programme, TrialRecord, Tripod, programme_week
from balance.pose.landmarks import SIDES

V2_COLUMNS = (
    "score",
    "score_mdc",
    "flags",
    "tripod_inner_ball",
    "tripod_outer_ball",
    "tripod_big_toe",
    "tripod",
    "decomposition",
)
TRIAL_COLUMNS = (
    "trial_index",
    "stance_leg",
    "lift_off_s",
    "touch_down_s",
    "hold_s",
    "ended_by",
    "view",
    "horizontal_axis",
    "unit",
    "sway_velocity",
    "sway_rms",
    "metrics",
    *V2_COLUMNS,
)


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def clean_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean:
        raise StoreError("the person's name is empty", "Give the person's name", option="name")
    return clean


def _number(value: Any, what: str, lo: float, hi: float) -> float | None:
    """A finite number in [lo, hi], or None when absent; anything else is refused, never stored as NULL."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise StoreError(f"the analysis has an invalid {what} ({value!r})", "Analyse the clip again")
    if not lo <= value <= hi:
        raise StoreError(f"the analysis has {what} = {value}, outside {lo}-{hi}", "Analyse the clip again")
    return float(value)


def _score(trial: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """The trial's stability score and its MDC: {"score": {"value", "mdc"}} as report.to_json writes them,
    or the flat {"score", "score_mdc"} form."""
    score = trial.get("score")
    if isinstance(score, Mapping):
        value, mdc = reported_value(score), score.get("mdc")  # no number where the score was not judged
    else:
        value, mdc = score, trial.get("score_mdc")
    return _number(value, "score", 0.0, 100.0), _number(mdc, "score MDC", 0.0, 100.0)


def _tripod_shares(tripod: Any) -> list[float | None]:
    """Inner-ball, outer-ball and big-toe shares, from {"split": {...}} or the flat form; None when absent."""
    if not isinstance(tripod, Mapping):
        return [None, None, None]
    split = tripod.get("split", tripod)
    if split is None:  # the answer could not place the weight, so the document gives no split
        return [None, None, None]
    if not isinstance(split, Mapping):
        raise StoreError("the analysis has a malformed tripod split", "Analyse the clip again")
    return [_number(split.get(k), f"tripod {k} share", 0.0, 1.0) for k in ("inner_ball", "outer_ball", "big_toe")]


def v2_values(trial: Mapping[str, Any]) -> tuple[Any, ...]:
    tripod = trial.get("tripod")
    flags = trial.get("flags") or []
    if not isinstance(flags, list) or not all(isinstance(f, Mapping) for f in flags):
        raise StoreError("the analysis has malformed flags (expected a list of objects)", "Analyse the clip again")
    decomposition = trial.get("decomposition")
    return (
        *_score(trial),
        json.dumps(flags),
        *_tripod_shares(tripod),
        None if tripod is None else json.dumps(tripod),
        None if decomposition is None else json.dumps(decomposition),
    )


def trial_row(index: int, trial: Mapping[str, Any]) -> dict[str, Any]:
    """The trials row of one analysis trial: key columns, the full metrics JSON, then the v2 columns."""
    try:
        leg = trial["stance_leg"]
        metrics = trial["metrics"]
        com = metrics.get("observed", {}).get("centre_of_mass", {})
        rms = com.get("rms") or [None]
        row = (
            index,
            leg,
            _number(trial["lift_off_s"], "lift-off time", 0.0, math.inf),
            _number(trial.get("touch_down_s"), "touch-down time", 0.0, math.inf),
            _number(trial["hold_s"], "hold time", 0.0, math.inf),
            str(trial["ended_by"]),
            metrics.get("view"),
            metrics.get("horizontal_axis"),
            str(metrics["unit"]),
            _number(com.get("mean_velocity"), "sway velocity", 0.0, math.inf),
            _number(rms[0], "sway RMS", 0.0, math.inf),
            json.dumps(metrics, allow_nan=False),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise StoreError(
            f"trial {index + 1} of the analysis is incomplete ({type(exc).__name__}: {exc})",
            "Store only analyses written by this tool",
        ) from exc
    if leg not in SIDES:
        raise StoreError(f"trial {index + 1} has stance leg {leg!r}", "Store only analyses written by this tool")
    return dict(zip(TRIAL_COLUMNS, row + v2_values(trial), strict=True))


def side_clip_sha256(analysis: Mapping[str, Any]) -> str | None:
    """A two-camera document's side clip hash (None for one camera), checked like the clip's."""
    two_view = analysis.get("two_view")
    if two_view is None:
        return None
    try:
        sha = str(two_view["side_clip"]["sha256"])
    except (KeyError, TypeError) as exc:
        raise StoreError(
            f"the two-camera analysis is missing {exc}", "Store the analysis.json this tool wrote"
        ) from exc
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise StoreError(f"the analysis has an invalid side clip SHA-256 ({sha!r})", "Analyse the clips again")
    return sha


def document_key(analysis: Mapping[str, Any]) -> tuple[str, str, str, list[Any]]:
    """The clip hash, clip path, tool version and trials of an analysis document, checked."""
    try:
        sha = str(analysis["clip"]["sha256"])
        path = str(analysis["clip"]["path"])
        version = str(analysis["tool"]["version"])
        trials = analysis["trials"]
    except (KeyError, TypeError) as exc:
        raise StoreError(
            f"not a balance analysis document (missing {exc})", "Store the analysis.json this tool wrote"
        ) from exc
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise StoreError(f"the analysis has an invalid clip SHA-256 ({sha!r})", "Analyse the clip again")
    if not isinstance(trials, list) or not trials:
        raise StoreError("the analysis has no trials to store", "Analyse a clip with at least one single-leg stance")
    return sha, path, version, trials


def record(row: Sequence[Any], programme: Programme | None) -> TrialRecord:
    """A TrialRecord from the columns Store.trials selects."""
    (person, on, week, session_id, eyes, surface, footwear, notes, sha, path, version, side, *t) = row
    trial = dict(zip(TRIAL_COLUMNS, t, strict=True))
    recorded_on = date.fromisoformat(on)
    if week is None and programme is not None:
        week = programme_week(programme.start_date, recorded_on)
    shares = (trial["tripod_inner_ball"], trial["tripod_outer_ball"], trial["tripod_big_toe"])
    return TrialRecord(
        person=person,
        recorded_on=recorded_on,
        week=week,
        session_id=int(session_id),
        conditions=Conditions(eyes, surface, footwear),
        notes=notes,
        clip_sha256=sha,
        clip_path=path,
        analysis_version=version,
        side_clip_sha256=side,
        trial_index=trial["trial_index"],
        stance_leg=trial["stance_leg"],
        hold_s=trial["hold_s"],
        ended_by=trial["ended_by"],
        view=trial["view"],
        horizontal_axis=trial["horizontal_axis"],
        unit=trial["unit"],
        sway_velocity=trial["sway_velocity"],
        sway_rms=trial["sway_rms"],
        score=trial["score"],
        score_mdc=trial["score_mdc"],
        flags=tuple(json.loads(trial["flags"])),
        tripod=None if None in shares else Tripod(*shares),
        metrics=json.loads(trial["metrics"]),
    )
