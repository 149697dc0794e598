"""The `history`, `programme start` and `export` commands, and saving an analysis to a person's history.

Thin wrappers: one balance.history.store / balance.history.progress call plus formatting; problems raise StoreError.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from balance.config import DB_ENV, settings
from balance.errors import StoreError
from balance.files import write_atomic
from balance.history.model import EYES, Conditions, Programme, TrialRecord
from balance.spreadsheet import safe_row

# The store (SQLAlchemy) and the progress maths (SciPy) are imported by the commands that use them: building
# the parser for `balance analyze` then costs no second of imports before the pose model starts.
if TYPE_CHECKING:
    from balance.history.store import Store

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


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _int_in(lo: int, hi: int, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number, not {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{what} {value} is outside {lo}-{hi}")
        return value

    return parse


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH_OR_URL",
        help=f"history database: a file, sqlite:///FILE or postgresql://USER@HOST/DB (default: ${DB_ENV} or "
        f"{settings().default_db_path})",
    )


def add_commands(subparsers: Any) -> None:
    """Register `history`, `programme start` and `export` on the `balance` parser's subparsers.

    Each sets `handler`: the caller runs `args.handler(args)`, which prints and returns the exit code.
    """
    h = subparsers.add_parser("history", help="a person's trials, trend per leg and left/right symmetry")
    h.add_argument("name", help="the person, as given to --name")
    h.add_argument("--plot", type=Path, metavar="PNG", help="also draw the progress chart into this PNG file")
    _db_option(h)
    h.set_defaults(handler=cmd_history)

    p = subparsers.add_parser("programme", help="set a person's programme: week numbers count from its start")
    actions = p.add_subparsers(dest="programme_action", required=True)
    s = actions.add_parser("start", help="start (or restart) a programme today or on --start")
    s.add_argument("name", help="the person")
    s.add_argument("--weeks", type=_int_in(1, 52, "--weeks"), required=True, help="programme length (4-6 typical)")
    s.add_argument("--start", type=_date, default=None, help="first day, YYYY-MM-DD (default today)")
    _db_option(s)
    s.set_defaults(handler=cmd_programme_start)

    e = subparsers.add_parser("export", help="write a person's trials as CSV or JSON")
    e.add_argument("name", help="the person")
    fmt = e.add_mutually_exclusive_group(required=True)
    fmt.add_argument("--csv", type=Path, metavar="FILE", help="one row per trial")
    fmt.add_argument("--json", type=Path, metavar="FILE", help="trials with full metrics, trends and symmetry")
    _db_option(e)
    e.set_defaults(handler=cmd_export)


def add_save_options(parser: argparse.ArgumentParser) -> None:
    """The options with which `balance analyze` saves its result to a history (pass them to save_analysis)."""
    g = parser.add_argument_group("history (save this analysis to a person's progress)")
    g.add_argument("--name", help="save the analysis to this person's history")
    g.add_argument("--week", type=_int_in(1, 52, "--week"), help="programme week (default: from the programme start)")
    g.add_argument("--date", type=_date, help="day it was filmed, YYYY-MM-DD (default today)")
    g.add_argument("--eyes", choices=EYES, help="eyes open or closed")
    g.add_argument("--surface", default="", help='e.g. "floor", "foam"')
    g.add_argument("--footwear", default="", help='e.g. "barefoot", "trainers"')
    g.add_argument("--notes", default="", help="free text kept with the session")
    _db_option(parser)


def save_from_args(analysis_json: Mapping[str, Any], args: argparse.Namespace) -> str:
    """save_analysis with the options add_save_options put on `balance analyze`."""
    return save_analysis(
        analysis_json,
        name=args.name,
        week=args.week,
        db=args.db,
        recorded_on=args.date,
        eyes=args.eyes,
        surface=args.surface,
        footwear=args.footwear,
        notes=args.notes,
    )


def save_analysis(
    analysis_json: Mapping[str, Any],
    *,
    name: str,
    week: int | None,
    db: str | None,
    recorded_on: date | None = None,
    eyes: str | None = None,
    surface: str = "",
    footwear: str = "",
    notes: str = "",
) -> str:
    """Store a `report.to_json` document in `name`'s history (one transaction) and say what happened."""
    from balance.history.progress import programme_week
    from balance.history.store import Store

    on = recorded_on or date.today()
    with Store(db) as store:
        result = store.add_analysis(
            analysis_json,
            name=name,
            recorded_on=on,
            week=week,
            conditions=Conditions(eyes or "", surface.strip(), footwear.strip()),
            notes=notes.strip(),
        )
        programme = store.programme(result.person)
        where = store.where
    if not result.stored:
        other = "" if result.person.casefold() == " ".join(name.split()).casefold() else f" (not {name}'s)"
        return (
            f"Not saved again: this clip ({result.clip_sha256[:12]}) analysed by balance {result.analysis_version} "
            f"is already in {result.person}'s history{other}, from {result.recorded_on.isoformat()}"
        )
    week_now = result.week
    if week_now is None and programme is not None:
        week_now = programme_week(programme.start_date, on)
    when = (
        f"week {week_now}"
        if week_now is not None
        else f"no programme week (give --week, or: balance programme start {name!r} --weeks 6)"
    )
    return (
        f"Saved {result.trials} trial{'s' if result.trials != 1 else ''} to {result.person}'s history "
        f"({on.isoformat()}, {when}) in {where}"
    )


def _open_existing(db: str | None) -> Store:
    from balance.history.store import Store

    return Store(db, create=False)


def _person(store: Store, name: str) -> str:
    person = store.person(name)
    if person is None:
        known = store.people()
        listed = f" (it has: {', '.join(known[:10])})" if known else ""
        raise StoreError(
            f"no one called {name!r} in {store.where}{listed}",
            f"Check the spelling, or save an analysis with: balance analyze CLIP --name {name!r}",
        )
    return person


def _write(path: Path, data: bytes) -> Path:
    try:
        return write_atomic(path, data)
    except OSError as exc:
        raise StoreError(f"cannot write {path} ({exc.strerror})", "Choose another file or folder") from exc


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def history_table(records: Sequence[TrialRecord]) -> str:
    """One line per trial: date, week, leg, hold, sway velocity, score, tripod split, flags (and conditions)."""
    show_conditions = any(r.conditions != Conditions() for r in records)
    header = f"{'date':10}  {'week':>4}  {'leg':5}  {'hold s':>6}  {'sway velocity':>14}  {'score':>5}  "
    header += f"{'tripod in/out/toe %':>19}  flags"
    lines = [header + ("  [conditions]" if show_conditions else "")]
    for r in records:
        hold = f"{r.hold_s:.1f}" + ("+" if r.ended_by != "touch_down" else " ")
        sway = "-" if r.sway_velocity is None else f"{r.sway_velocity:.2f} {r.unit}/s"
        tripod = "-" if r.tripod is None else "/".join(f"{100 * s:.0f}" for s in asdict(r.tripod).values())
        line = (
            f"{r.recorded_on.isoformat():10}  {'-' if r.week is None else r.week:>4}  {r.stance_leg:5}  {hold:>6}  "
            f"{sway:>14}  {_num(r.score, 0):>5}  {tripod:>19}  {', '.join(r.flag_codes) or '-'}"
        )
        lines.append(line + (f"  [{r.conditions.words()}]" if show_conditions else ""))
    return "\n".join(lines)


def history_report(person: str, records: Sequence[TrialRecord], programme: Programme | None, today: date) -> str:
    """The whole `history` text: programme week, the trial table, trends in words and per-session symmetry."""
    from balance.history.progress import LSI_THRESHOLD_PCT, asymmetries, programme_status, trends

    status = (
        programme_status(programme, today)
        if programme
        else f"no programme: weeks are those given with --week (balance programme start {person!r} --weeks 6)"
    )
    lines = [f"{person}: {status}"]
    if not records:
        return "\n".join([*lines, "No trials saved yet."])
    lines += ["", history_table(records), "hold s: + means held until the clip ended (a lower bound)"]
    undated = sum(r.week is None for r in records)
    if undated:
        lines.append(f"{undated} trial(s) have no programme week and are left out of the trends below")
    found = trends(records)
    if found:
        lines += ["", "Change since the baseline week (MDC: minimal detectable change, 95 %):"]
        lines += [f"  {t.words}" for t in found]
        lines += [
            f"  ({t.excluded} {t.leg}-leg {t.label} trial(s) left out: conditions, unit or view differ from baseline)"
            for t in found
            if t.excluded
        ]
    sym = asymmetries(records)
    if sym:
        lines += [
            "",
            f"Left/right symmetry per session (LSI = 100 x weaker / stronger leg; under {LSI_THRESHOLD_PCT:.0f} % "
            "counts as asymmetric, Grindem et al. 2011):",
        ]
        lines += [f"  {a.words}" for a in sym]
    return "\n".join(lines)


def cmd_history(args: argparse.Namespace) -> int:
    from balance.history.progress import programme_status

    with _open_existing(args.db) as store:
        person = _person(store, args.name)
        records = store.trials(person)
        programme = store.programme(person)
    print(history_report(person, records, programme, date.today()))
    if args.plot is not None:
        from balance.history.plots import plot_history

        title = f"{person}: " + (programme_status(programme, date.today()) if programme else "progress")
        png = plot_history(records, title=title, weeks=programme.weeks if programme else None)
        print(f"\nPlot: {_write(args.plot, png)}")
    return 0


def cmd_programme_start(args: argparse.Namespace) -> int:
    from balance.history.progress import programme_status
    from balance.history.store import Store

    start = args.start or date.today()
    with Store(args.db) as store:
        programme = store.start_programme(args.name, start=start, weeks=args.weeks)
        n = len(store.trials(programme.person))
    print(
        f"{programme.person}: {programme.weeks}-week programme from {start.isoformat()}. Now: "
        f"{programme_status(programme, date.today())}. Sessions saved without --week ({n} trial(s) so far) "
        "count their week from this date."
    )
    return 0


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
    from balance.history.progress import LSI_THRESHOLD_PCT, asymmetries, trends

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


def cmd_export(args: argparse.Namespace) -> int:
    with _open_existing(args.db) as store:
        person = _person(store, args.name)
        records = store.trials(person)
        programme = store.programme(person)
    if args.csv is not None:
        path = _write(args.csv, export_csv(records).encode())
    else:
        path = _write(args.json, export_json(person, records, programme).encode())
    print(f"Exported {len(records)} trial(s) of {person} to {path}")
    return 0
