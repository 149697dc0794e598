"""What the web pages do, as calls into the library: analyse a clip into a results folder, save it to a
person's history, and read the history back for the pages. No numbers are computed, no rule is checked here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from balance.assess.norms import age_in
from balance.history.export import export_csv, export_json
from balance.history.model import Programme, TrialRecord, programme_week
from balance.history.programme import ProgrammeView, programme_view
from balance.history.progress import Asymmetry, Trend, asymmetries, programme_status, trends
from balance.history.save import SaveOptions, save_analysis
from balance.history.store import Store
from balance.live.options import asked_legs_noted
from balance.pipeline import AnalysisOptions
from balance.results.document import Document
from balance.results.document import load_document as read_document


def analyse_clip(
    clip: Path,
    out_dir: Path,
    options: AnalysisOptions,
    *,
    name: str | None,
    legs: tuple[str, ...] = (),
    side: Path | None = None,
    progress: Callable[[str, int, int], None],
) -> dict[str, Any]:
    """Analyse `clip` and write every result file into `out_dir` (all or nothing), as `balance analyze` does;
    a recorded test's `legs` (those it asked for) are noted as `balance record` notes them; with `side`, the two
    clips are analysed together (`balance analyze CLIP --side SIDE`). Returns the
    analysis document. `progress(stage, done, total)` follows the pose model frame by frame."""
    from balance.pipeline import analyze, analyze_pair
    from balance.results.folder import write_results

    def pose(done: int, total: int) -> None:
        progress("pose", done, total)

    if side is None:
        analysis = analyze(clip, options, progress=pose)
    else:
        analysis = analyze_pair(clip, side, options, progress=pose)
    if legs:
        analysis = asked_legs_noted(analysis, legs)
    progress("results", 0, 0)
    return write_results(analysis, out_dir, video=True, name=name).json


def load_document(results: Path) -> Document:
    """The checked analysis document of a results folder (ResultsError, one line, when damaged)."""
    return read_document(results / "analysis.json")


@dataclass(frozen=True)
class PersonSummary:
    name: str
    programme: str  # where they are in the programme, in words
    last_test: date | None
    trend: str  # the score's (else the hold's) change since the baseline, in words


@dataclass(frozen=True)
class PersonView:
    name: str
    programme: Programme | None
    status: str
    records: list[TrialRecord]
    trends: list[Trend]
    symmetry: list[Asymmetry]
    birth_year: int | None
    plan: ProgrammeView  # weeks 1-N, both legs, age references, the gap's trend, the next test

    @property
    def age(self) -> int | None:
        """The age this year, from the birth year (the age the references use)."""
        return None if self.birth_year is None else age_in(date.today().year, self.birth_year)

    @property
    def charted(self) -> bool:
        """The trend chart plots programme weeks: without any, it would be empty."""
        return any(r.week is not None for r in self.records)


def _status(programme: Programme | None) -> str:
    return programme_status(programme, date.today()) if programme else "no programme started"


def _headline(records: list[TrialRecord], found: list[Trend]) -> str:
    if not records:
        return "no tests yet"
    if all(r.week is None for r in records):
        return "no programme week yet: start a programme, or give the week with each test, to see a trend"
    for key in ("score", "hold_s"):
        words = [t.words for t in found if t.metric == key]
        if words:
            return "; ".join(words)
    return "one week of tests so far: the trend shows from the second week"


class History:
    """The server's history database: each call opens the store; every write goes through one lock, one writer
    at a time, as the store expects."""

    def __init__(self, db: str | None) -> None:
        self.db = db
        self._writer = threading.Lock()

    def people(self) -> list[PersonSummary]:
        with Store(self.db) as store:
            out = []
            for name in store.people():
                records = store.trials(name)
                programme = store.programme(name)
                last = max((r.recorded_on for r in records), default=None)
                trend = _headline(records, trends(records))
                out.append(PersonSummary(name, _status(programme), last, trend))
        return out

    def person(self, name: str) -> PersonView | None:
        with Store(self.db) as store:
            stored = store.person(name)
            if stored is None:
                return None
            records = store.trials(stored)
            programme = store.programme(stored)
            born = store.birth_year(stored)
        age = None if born is None else age_in(date.today().year, born)
        return PersonView(
            stored,
            programme,
            _status(programme),
            records,
            trends(records, age=age),
            asymmetries(records),
            born,
            programme_view(stored, records, programme, date.today(), born),
        )

    def week_now(self, name: str) -> int | None:
        """The programme week today for `name`, the upload form's default."""
        with Store(self.db) as store:
            programme = store.programme(name) if store.person(name) else None
        return programme_week(programme.start_date, date.today()) if programme else None

    def save(self, doc: Document, options: SaveOptions) -> str:
        """Store the document in the options' person's history (one transaction); what happened, in words."""
        with self._writer:
            return save_analysis(doc.to_json(), options, self.db).words()

    def set_birth_year(self, name: str, year: int | None) -> str:
        """Record the person's birth year (None: forget it); their stored name."""
        with self._writer, Store(self.db) as store:
            return store.set_birth_year(name, year)

    def start_programme(self, name: str, weeks: int, start: date) -> Programme:
        with self._writer, Store(self.db) as store:
            return store.start_programme(name, start=start, weeks=weeks)

    def delete_session(self, name: str, session_id: int) -> int:
        with self._writer, Store(self.db) as store:
            return store.delete_session(name, session_id)


def trend_png(view: PersonView) -> bytes:
    from balance.history.plots import plot_history

    title = f"{view.name}: {view.status}"
    return plot_history(view.records, title=title, weeks=view.programme.weeks if view.programme else None)


def export(view: PersonView, fmt: str) -> str:
    return export_csv(view.records) if fmt == "csv" else export_json(view.name, view.records, view.programme)
