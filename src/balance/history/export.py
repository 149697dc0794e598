"""A person's history as a file: CSV (one row per trial) or JSON (trials with full metrics, trends, symmetry).
`balance export` and the web app's person page both export through these.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from balance.history.model import Programme, TrialRecord
from balance.history.progress import LSI_THRESHOLD_PCT, asymmetries, trends
from balance.spreadsheet import safe_row

EXPORT_COLUMNS = (
    "person",
    "date",
    "week",
    "leg",
    "trial_index",
    "hold_s",
    "ended_by",
    "sway_velocity",
    "sway_unit",
    "horizontal_axis",
    "view",
    "sway_rms",
    "score",
    "score_mdc",
    "tripod_inner_ball",
    "tripod_outer_ball",
    "tripod_big_toe",
    "flags",
    "eyes",
    "surface",
    "footwear",
    "notes",
    "clip_sha256",
    "clip_path",
    "analysis_version",
)


def _csv_row(r: TrialRecord) -> dict[str, Any]:
    tripod = asdict(r.tripod) if r.tripod is not None else {}
    return {
        "person": r.person,
        "date": r.recorded_on.isoformat(),
        "week": r.week,
        "leg": r.stance_leg,
        "trial_index": r.trial_index,
        "hold_s": r.hold_s,
        "ended_by": r.ended_by,
        "sway_velocity": r.sway_velocity,
        "sway_unit": f"{r.unit}/s",
        "horizontal_axis": r.horizontal_axis,
        "view": r.view,
        "sway_rms": r.sway_rms,
        "score": r.score,
        "score_mdc": r.score_mdc,
        **{f"tripod_{k}": v for k, v in tripod.items()},
        "flags": ";".join(r.flag_codes),
        "eyes": r.conditions.eyes,
        "surface": r.conditions.surface,
        "footwear": r.conditions.footwear,
        "notes": r.notes,
        "clip_sha256": r.clip_sha256,
        "clip_path": r.clip_path,
        "analysis_version": r.analysis_version,
    }


def export_csv(records: Sequence[TrialRecord]) -> str:
    """One row per trial; text cells that a spreadsheet would run as a formula are neutralised."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(safe_row(_csv_row(r)) for r in records)
    return out.getvalue()


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def export_json(person: str, records: Sequence[TrialRecord], programme: Programme | None) -> str:
    """The person's programme, every trial with its full metrics, the trends and the per-session symmetry."""
    document = {
        "person": person,
        "programme": None if programme is None else asdict(programme),
        "trials": [
            {
                **_csv_row(r),
                "flags": list(r.flags),
                "tripod": None if r.tripod is None else asdict(r.tripod),
                "metrics": r.metrics,
            }
            for r in records
        ],
        "trends": [asdict(t) for t in trends(records)],
        "asymmetry": [asdict(a) for a in asymmetries(records)],
        "conventions": {
            "week": "programme week: the session's --week, else counted from the programme start (days 0-6 = week 1)",
            "mdc": "minimal detectable change (95 %): the score's own, else 1.96 x sqrt(2) x the within-session SD "
            "of repeat trials (Weir 2005)",
            "lsi": f"limb symmetry index, 100 x weaker / stronger leg; < {LSI_THRESHOLD_PCT:.0f} % asymmetric "
            "(Grindem et al. 2011)",
        },
    }
    return json.dumps(document, indent=2, default=_jsonable, allow_nan=False) + "\n"
