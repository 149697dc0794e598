"""The `history`, `programme start` and `export` commands, and saving an analysis to a person's history.

Thin wrappers: one balance.history.store / balance.history.progress call plus formatting; problems raise StoreError.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from balance.config import DB_ENV, settings
from balance.errors import StoreError
from balance.files import write_atomic
from balance.history.model import EYES, SURFACES, Conditions, Programme, TrialRecord
from balance.history.save import MAX_WEEK, MIN_WEEK, SaveOptions, birth_year_for, check_programme_weeks

# The store (SQLAlchemy) and the progress maths (SciPy) are imported by the commands that use them: building
# the parser for `balance analyze` then costs no second of imports before the pose model starts.
if TYPE_CHECKING:
    from balance.history.store import Store


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


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
    s.add_argument("--weeks", type=int, required=True, help="programme length (4-6 typical)")
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
    """The options with which `balance analyze` and `record` save their result to a history (save_options)."""
    g = parser.add_argument_group("history (save this analysis to a person's progress)")
    g.add_argument("--name", help="save the analysis to this person's history")
    g.add_argument(
        "--week", type=int, help=f"programme week, {MIN_WEEK}-{MAX_WEEK} (default: from the programme start)"
    )
    g.add_argument("--date", type=_date, help="day it was filmed, YYYY-MM-DD (default today)")
    g.add_argument("--eyes", choices=EYES, help="eyes open or closed (the age reference differs several-fold)")
    g.add_argument("--surface", choices=SURFACES, default="", help="what the stance foot stood on")
    g.add_argument("--age", type=int, help="the person's age in years: the hold's age reference (kept as birth year)")
    g.add_argument("--footwear", default="", help='e.g. "barefoot", "trainers"')
    g.add_argument("--notes", default="", help="free text kept with the session")
    _db_option(parser)


def save_options(args: argparse.Namespace) -> SaveOptions | None:
    """The history options add_save_options put on the command, checked by the library (UsageError); None
    without --name (nothing is saved)."""
    return SaveOptions.given(
        args.name,
        args.week,
        recorded_on=args.date,
        conditions=Conditions(args.eyes or "", args.surface, args.footwear.strip()),
        notes=args.notes,
        birth_year=birth_year_for(args.age, args.date),
    )


def reference_lines(analysis_json: Mapping[str, Any], args: argparse.Namespace) -> list[str]:
    """Each leg's best hold in the analysis against the age reference, for the --age, --eyes and --surface
    given (nothing without --age): what `balance analyze` and `record` print under the summary."""
    from balance.assess.norms import SOURCE, SOURCE_TEST, hold_reference

    if args.age is None:
        return []
    lines = [f"Age reference ({SOURCE}; {SOURCE_TEST}):"]
    for leg in ("left", "right"):
        trials = [t for t in analysis_json["trials"] if t["stance_leg"] == leg]
        if trials:
            best = max(trials, key=lambda t: (t["hold_s"], t["ended_by"] == "touch_down"))
            ref = hold_reference(
                best["hold_s"], age=args.age, eyes=args.eyes or "", surface=args.surface, ended_by=best["ended_by"]
            )
            lines.append(f"  {leg} leg, best hold {ref.words}")
    return lines


def save_words(analysis_json: Mapping[str, Any], options: SaveOptions, db: str | None) -> str:
    """Save the analysis (balance.history.save) and say what happened, with the commands that would give it a
    programme week."""
    from balance.history.save import save_analysis

    saved = save_analysis(analysis_json, options, db)
    words = saved.words(f"give --week, or: balance programme start {options.name!r} --weeks 6")
    return f"{words} in {saved.where}" if saved.stored else words


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


def history_report(
    person: str,
    records: Sequence[TrialRecord],
    programme: Programme | None,
    today: date,
    birth_year: int | None = None,
) -> str:
    """The whole `history` text: programme week, the trial table, trends in words and per-session symmetry,
    then the programme view (weeks with both legs, the age references, the gap's trend, the next test)."""
    from balance.assess.norms import age_in
    from balance.history.programme import programme_view, view_lines
    from balance.history.progress import LSI_THRESHOLD_PCT, asymmetries, condition_groups, programme_status, trends

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
    found = trends(records, age=None if birth_year is None else age_in(today.year, birth_year))
    groups = condition_groups([r for r in records if r.week is not None])
    if found:
        lines += ["", "Change since the baseline week (MDC: minimal detectable change, 95 %):"]
        if len(groups) > 1:
            lines.append(
                f"  (like with like: {' / '.join(c.words() for c in groups)} are compared only among themselves)"
            )
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
    lines += ["", *view_lines(programme_view(person, records, programme, today, birth_year))]
    return "\n".join(lines)


def cmd_history(args: argparse.Namespace) -> int:
    from balance.history.progress import programme_status

    with _open_existing(args.db) as store:
        person = _person(store, args.name)
        records = store.trials(person)
        programme = store.programme(person)
        born = store.birth_year(person)
    print(history_report(person, records, programme, date.today(), born))
    if args.plot is not None:
        from balance.history.plots import plot_history

        title = f"{person}: " + (programme_status(programme, date.today()) if programme else "progress")
        png = plot_history(records, title=title, weeks=programme.weeks if programme else None)
        print(f"\nPlot: {_write(args.plot, png)}")
    return 0


def cmd_programme_start(args: argparse.Namespace) -> int:
    from balance.history.progress import programme_status
    from balance.history.store import Store

    check_programme_weeks(args.weeks)
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


def cmd_export(args: argparse.Namespace) -> int:
    with _open_existing(args.db) as store:
        person = _person(store, args.name)
        records = store.trials(person)
        programme = store.programme(person)
    from balance.history.export import export_csv, export_json

    if args.csv is not None:
        path = _write(args.csv, export_csv(records).encode())
    else:
        path = _write(args.json, export_json(person, records, programme).encode())
    print(f"Exported {len(records)} trial(s) of {person} to {path}")
    return 0
