"""batch-summary.csv and batch-summary.json: one row per input (ok, skipped or failed, with the reason and
the error's name), the legs, holds and scores of each analysed clip, and the batch's totals."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from balance import __version__
from balance.batch.runner import ClipResult
from balance.files import write_atomic
from balance.spreadsheet import safe_row

CSV = "batch-summary.csv"
JSON = "batch-summary.json"
COLUMNS = (
    "clip",
    "status",
    "reason",
    "error",
    "exit_code",
    "out",
    "sha256",
    "legs",
    "holds_s",
    "scores",
    "seconds",
    "worker",
    "history",
)


def _joined(values: Sequence[Any]) -> str:
    return ";".join("" if v is None else str(v) for v in values)


def csv_text(rows: Sequence[ClipResult]) -> str:
    """Several trials of a clip share a cell, separated by ';' (legs, holds in s, scores 0-100)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        cells = asdict(row)
        for key in ("legs", "holds_s", "scores"):
            cells[key] = _joined(cells[key])
        writer.writerow(safe_row(cells))
    return out.getvalue()


def counts(rows: Sequence[ClipResult]) -> dict[str, int]:
    found = Counter(r.status for r in rows)
    return {status: found.get(status, 0) for status in ("ok", "skipped", "failed")}


def write(out: Path, rows: Sequence[ClipResult], *, options: dict[str, Any], seconds: float) -> list[Path]:
    document = {
        "balance_version": __version__,
        "options": options,
        "wall_time_s": round(seconds, 2),
        "counts": counts(rows),
        "clips": [asdict(r) for r in rows],
        "conventions": {
            "status": "ok: analysed now; skipped: done by an earlier run, a duplicate, or not a video by its name; "
            "failed: see reason, error (the error's name) and exit_code (what balance analyze returns for it)",
            "holds_s": "seconds on one leg per trial",
            "scores": "stability score 0-100 per trial",
            "seconds": "wall time of the clip's analysis on its worker",
        },
    }
    return [
        write_atomic(out / CSV, csv_text(rows)),
        write_atomic(out / JSON, json.dumps(document, indent=2, allow_nan=False) + "\n"),
    ]
