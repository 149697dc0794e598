"""The history database: people, programmes, sessions and trials in one SQLite file, with versioned migrations.
Every write is one transaction; a clip is stored once per analysis version; damaged files are never rewritten.

Where it lives: `db` argument > `BALANCE_DB` > `<platformdirs user_data_dir("balance")>/balance.db`.
Concurrency: WAL journal (readers never block the writer) plus a busy timeout, and writes start with
`BEGIN IMMEDIATE`, so two `balance` processes queue for the write lock instead of failing or losing rows.

PostgreSQL: the schema is portable SQL (INTEGER/REAL/TEXT, CHECK, UNIQUE, foreign keys, ON CONFLICT ... DO
NOTHING, RETURNING). To run it there one would swap this module's connection layer for psycopg: `%s`
placeholders, `BIGINT GENERATED ALWAYS AS IDENTITY` for the `INTEGER PRIMARY KEY` ids, plain `BEGIN`
(row locks and the UNIQUE constraints do what `BEGIN IMMEDIATE` does here), and no PRAGMAs. That is not
built: one person's or one coach's history fits one file, and an untested second backend would be worse
than none. Testing it would mean running tests/test_store.py against a throwaway server (a CI service
container) through the same `Store` API.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from balance.config import DB_ENV, settings
from balance.errors import StoreError
from balance.history.model import EYES, Conditions, ImportResult, Programme, TrialRecord, Tripod, programme_week
from balance.pose.landmarks import SIDES

# Long enough to wait out another process's import (a few ms per transaction), short enough to report
# a stuck writer (e.g. a database on a hung network share) instead of hanging.
BUSY_TIMEOUT_S = 30.0
SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[sqlite3.Connection], None]


def _script(*statements: str) -> Callable[[sqlite3.Connection], None]:
    def run(conn: sqlite3.Connection) -> None:
        for sql in statements:  # one by one: executescript() would COMMIT the open transaction
            conn.execute(sql)

    return run


_V1 = _script(
    """CREATE TABLE people (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL)""",
    """CREATE TABLE programmes (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people(id),
        start_date TEXT NOT NULL,
        weeks INTEGER NOT NULL CHECK (weeks BETWEEN 1 AND 52),
        created_at TEXT NOT NULL)""",
    """CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people(id),
        recorded_on TEXT NOT NULL,
        week INTEGER CHECK (week BETWEEN 1 AND 52),
        eyes TEXT NOT NULL DEFAULT '' CHECK (eyes IN ('', 'open', 'closed')),
        surface TEXT NOT NULL DEFAULT '',
        footwear TEXT NOT NULL DEFAULT '',
        notes TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        UNIQUE (person_id, recorded_on, eyes, surface, footwear))""",
    """CREATE TABLE analyses (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        clip_sha256 TEXT NOT NULL CHECK (length(clip_sha256) = 64),
        clip_path TEXT NOT NULL,
        analysis_version TEXT NOT NULL,
        document TEXT NOT NULL,
        imported_at TEXT NOT NULL,
        UNIQUE (clip_sha256, analysis_version))""",
    """CREATE TABLE trials (
        id INTEGER PRIMARY KEY,
        analysis_id INTEGER NOT NULL REFERENCES analyses(id),
        trial_index INTEGER NOT NULL,
        stance_leg TEXT NOT NULL CHECK (stance_leg IN ('left', 'right')),
        lift_off_s REAL NOT NULL,
        touch_down_s REAL,
        hold_s REAL NOT NULL CHECK (hold_s >= 0),
        ended_by TEXT NOT NULL,
        view TEXT,
        horizontal_axis TEXT,
        unit TEXT NOT NULL,
        sway_velocity REAL,
        sway_rms REAL,
        metrics TEXT NOT NULL,
        UNIQUE (analysis_id, trial_index))""",
    "CREATE INDEX sessions_person ON sessions(person_id, recorded_on)",
    "CREATE INDEX analyses_session ON analyses(session_id)",
    "CREATE INDEX trials_analysis ON trials(analysis_id)",
)


def _v2(conn: sqlite3.Connection) -> None:
    """Score, its MDC, flags, tripod split and segment decomposition (the stability analysis, issue 4).

    Existing trials are back-filled from their stored analysis documents, so nothing is re-analysed.
    """
    _script(
        "ALTER TABLE trials ADD COLUMN score REAL CHECK (score BETWEEN 0 AND 100)",
        "ALTER TABLE trials ADD COLUMN score_mdc REAL CHECK (score_mdc >= 0)",
        "ALTER TABLE trials ADD COLUMN flags TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE trials ADD COLUMN tripod_inner_ball REAL CHECK (tripod_inner_ball BETWEEN 0 AND 1)",
        "ALTER TABLE trials ADD COLUMN tripod_outer_ball REAL CHECK (tripod_outer_ball BETWEEN 0 AND 1)",
        "ALTER TABLE trials ADD COLUMN tripod_big_toe REAL CHECK (tripod_big_toe BETWEEN 0 AND 1)",
        "ALTER TABLE trials ADD COLUMN tripod TEXT",
        "ALTER TABLE trials ADD COLUMN decomposition TEXT",
    )(conn)
    rows = conn.execute(
        "SELECT t.id, t.trial_index, a.document FROM trials t JOIN analyses a ON a.id = t.analysis_id"
    ).fetchall()
    for trial_id, index, document in rows:
        trial = json.loads(document)["trials"][index]
        conn.execute(
            f"UPDATE trials SET {', '.join(f'{c} = ?' for c in _V2_COLUMNS)} WHERE id = ?",
            (*_v2_values(trial), trial_id),
        )


_V2_COLUMNS = (
    "score",
    "score_mdc",
    "flags",
    "tripod_inner_ball",
    "tripod_outer_ball",
    "tripod_big_toe",
    "tripod",
    "decomposition",
)

MIGRATIONS = (
    Migration(1, "people, programmes, sessions, analyses, trials", _V1),
    Migration(2, "trial score, score MDC, flags, tripod split, decomposition", _v2),
)
LATEST_VERSION = MIGRATIONS[-1].version


def default_db_path() -> Path:
    """Where the history lives unless told otherwise: BALANCE_DB, else the platform's user data folder."""
    config = settings()
    return Path(config.db).expanduser() if config.db else config.default_db_path


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _clean_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean:
        raise StoreError("the person's name is empty", 'Give a name, e.g. --name "Sam"')
    return clean


def _number(value: Any, what: str, lo: float, hi: float) -> float | None:
    """A finite number in [lo, hi], or None when absent; anything else is refused, never stored as NULL."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise StoreError(f"the analysis has an invalid {what} ({value!r})", "Re-run balance analyze on the clip")
    if not lo <= value <= hi:
        raise StoreError(f"the analysis has {what} = {value}, outside {lo}-{hi}", "Re-run balance analyze on the clip")
    return float(value)


def _score(trial: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """The trial's stability score and its MDC: {"score": {"value", "mdc"}} as report.to_json writes them,
    or the flat {"score", "score_mdc"} form."""
    score = trial.get("score")
    if isinstance(score, Mapping):
        value, mdc = score.get("value"), score.get("mdc")
    else:
        value, mdc = score, trial.get("score_mdc")
    return _number(value, "score", 0.0, 100.0), _number(mdc, "score MDC", 0.0, 100.0)


def _tripod_shares(tripod: Any) -> list[float | None]:
    """Inner-ball, outer-ball and big-toe shares, from {"split": {...}} or the flat form; None when absent."""
    if not isinstance(tripod, Mapping):
        return [None, None, None]
    split = tripod.get("split", tripod)
    if not isinstance(split, Mapping):
        raise StoreError("the analysis has a malformed tripod split", "Re-run balance analyze on the clip")
    return [_number(split.get(k), f"tripod {k} share", 0.0, 1.0) for k in ("inner_ball", "outer_ball", "big_toe")]


def _v2_values(trial: Mapping[str, Any]) -> tuple[Any, ...]:
    tripod = trial.get("tripod")
    flags = trial.get("flags") or []
    if not isinstance(flags, list) or not all(isinstance(f, Mapping) for f in flags):
        raise StoreError("the analysis has malformed flags (expected a list of objects)", "Re-run balance analyze")
    decomposition = trial.get("decomposition")
    return (
        *_score(trial),
        json.dumps(flags),
        *_tripod_shares(tripod),
        None if tripod is None else json.dumps(tripod),
        None if decomposition is None else json.dumps(decomposition),
    )


def _trial_values(index: int, trial: Mapping[str, Any]) -> tuple[Any, ...]:
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
            "Store only documents written by balance analyze",
        ) from exc
    if leg not in SIDES:
        raise StoreError(f"trial {index + 1} has stance leg {leg!r}", "Store only documents written by balance analyze")
    return row + _v2_values(trial)


_TRIAL_COLUMNS = (
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
    *_V2_COLUMNS,
)


def _document_key(analysis: Mapping[str, Any]) -> tuple[str, str, str, list[Any]]:
    try:
        sha = str(analysis["clip"]["sha256"])
        path = str(analysis["clip"]["path"])
        version = str(analysis["tool"]["version"])
        trials = analysis["trials"]
    except (KeyError, TypeError) as exc:
        raise StoreError(
            f"not a balance analysis document (missing {exc})", "Store the JSON written by balance analyze"
        ) from exc
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise StoreError(f"the analysis has an invalid clip SHA-256 ({sha!r})", "Re-run balance analyze on the clip")
    if not isinstance(trials, list) or not trials:
        raise StoreError("the analysis has no trials to store", "Analyse a clip with at least one single-leg stance")
    return sha, path, version, trials


class Store:
    """An open history database. Use as a context manager, or call close()."""

    def __init__(self, db: Path | str | None = None) -> None:
        self.path = Path(db).expanduser() if db is not None else default_db_path()
        self._refuse_non_sqlite()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the history database {self.path} ({exc})",
                f"Check the folder is writable, or choose another file with --db or {DB_ENV}",
            ) from exc
        try:
            self._open()
        except BaseException:
            self._conn.close()
            raise

    # --- opening, integrity, migrations -------------------------------------------------------------

    def _refuse_non_sqlite(self) -> None:
        """Reject a non-empty file that is not SQLite before SQLite touches it (it must stay byte-for-byte)."""
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder, not a database file", "Give --db a file path")
        try:
            with self.path.open("rb") as fh:
                head = fh.read(len(SQLITE_HEADER))
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(
                f"cannot read the history database {self.path} ({exc.strerror})", "Check its permissions"
            ) from exc
        if head and head != SQLITE_HEADER:
            raise StoreError(
                f"{self.path} is not a balance history database (not an SQLite file: damaged or something else); "
                "it was left untouched",
                f"Restore it from a backup, or point --db / {DB_ENV} at a new file",
            )

    def _damaged(self, detail: str) -> StoreError:
        return StoreError(
            f"the history database {self.path} is damaged ({detail}); it was left untouched",
            f"Restore it from a backup, or point --db / {DB_ENV} at a new file",
        )

    def _open(self) -> None:
        conn = self._conn
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
        except sqlite3.DatabaseError as exc:
            raise self._damaged(str(exc)) from exc
        if problems != ["ok"]:
            lines = [line for row in problems for line in row.splitlines() if not line.startswith("***")]
            more = f", and {len(lines) - 1} more problems" if len(lines) > 1 else ""
            raise self._damaged(f"{lines[0].strip()}{more}")
        # Read-only checks first: a foreign or newer file must not be switched to WAL or migrated.
        version = self._schema_version()
        with self._errors():
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
        if version < LATEST_VERSION:
            self._migrate()

    def _schema_version(self) -> int:
        with self._errors():
            tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables - {"sqlite_sequence"}:
                return 0
            if "schema_migrations" not in tables:
                raise StoreError(
                    f"{self.path} is an SQLite database but not a balance history (tables: "
                    f"{', '.join(sorted(tables))}); it was left untouched",
                    f"Point --db / {DB_ENV} at the balance history file or a new file",
                )
            version = int(self._conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0])
        if version > LATEST_VERSION:
            raise StoreError(
                f"the history database {self.path} was written by a newer balance (schema version {version}; "
                f"this one reads up to {LATEST_VERSION}); it was left untouched",
                "Upgrade balance (pip install -U balance)",
            )
        return version

    def _migrate(self) -> None:
        with self._transaction() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            # Re-read under the write lock: another process may have migrated while we waited for it.
            current = self._schema_version()
            for m in MIGRATIONS[current:]:
                m.apply(conn)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (m.version, m.name, _now()),
                )

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """sqlite3 exceptions as one-line StoreErrors."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreError(
                    f"the history database {self.path} stayed locked by another balance process for "
                    f"{BUSY_TIMEOUT_S:.0f} s",
                    "Try again when the other command has finished",
                ) from exc
            raise StoreError(
                f"database error in {self.path} ({exc})", "Check the disk and the file's permissions"
            ) from exc
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"the history database refused the data ({exc})", "Nothing was stored") from exc
        except sqlite3.DatabaseError as exc:
            if type(exc) is not sqlite3.DatabaseError:  # ProgrammingError etc.: a bug here, not a damaged file
                raise
            raise self._damaged(str(exc)) from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is stored, or (on any exception) none of it.

        BEGIN IMMEDIATE takes the write lock up front; a deferred transaction that later upgrades to
        write can fail at once with SQLITE_BUSY in WAL mode, bypassing the busy timeout.
        """
        with self._errors():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:  # SQLite itself rolls back after some errors (e.g. disk full)
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def schema_version(self) -> int:
        return self._schema_version()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- writes -----------------------------------------------------------------------------------

    def _person(self, conn: sqlite3.Connection, name: str) -> tuple[int, str]:
        """The person's id and stored spelling, adding them if new."""
        clean = _clean_name(name)
        conn.execute(
            "INSERT INTO people (name, name_key, created_at) VALUES (?, ?, ?) ON CONFLICT (name_key) DO NOTHING",
            (clean, _name_key(clean), _now()),
        )
        person_id, stored = conn.execute(
            "SELECT id, name FROM people WHERE name_key = ?", (_name_key(clean),)
        ).fetchone()
        return int(person_id), str(stored)

    def add_analysis(
        self,
        analysis: Mapping[str, Any],
        *,
        name: str,
        recorded_on: date,
        week: int | None = None,
        conditions: Conditions = Conditions(),
        notes: str = "",
    ) -> ImportResult:
        """Store one analysis document (balance.results.document.to_json) in `name`'s history, in one transaction.

        The session is the person's on that date under those conditions (several clips, e.g. one per leg,
        share it). A clip already stored by the same analysis version is not stored again.
        """
        sha, path, version, trials = _document_key(analysis)
        rows = [_trial_values(i, t) for i, t in enumerate(trials)]
        if week is not None and not 1 <= week <= 52:
            raise StoreError(f"week {week} is outside 1-52", "Give the programme week, e.g. --week 1")
        if conditions.eyes not in ("", *EYES):
            raise StoreError(f"eyes must be open or closed, not {conditions.eyes!r}", "Use --eyes open or closed")
        document = json.dumps(analysis, allow_nan=False)
        with self._transaction() as conn:
            existing = conn.execute(
                "SELECT p.name, s.recorded_on, s.week, (SELECT count(*) FROM trials t WHERE t.analysis_id = a.id) "
                "FROM analyses a JOIN sessions s ON s.id = a.session_id JOIN people p ON p.id = s.person_id "
                "WHERE a.clip_sha256 = ? AND a.analysis_version = ?",
                (sha, version),
            ).fetchone()
            if existing is not None:
                owner, on, stored_week, n = existing
                return ImportResult(False, owner, date.fromisoformat(on), stored_week, n, sha, version)
            person_id, person = self._person(conn, name)
            session_id, session_week = self._session(conn, person_id, recorded_on, week, conditions, notes)
            analysis_id = conn.execute(
                "INSERT INTO analyses (session_id, clip_sha256, clip_path, analysis_version, document, imported_at) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (session_id, sha, path, version, document, _now()),
            ).fetchone()[0]
            conn.executemany(
                f"INSERT INTO trials (analysis_id, {', '.join(_TRIAL_COLUMNS)}) "
                f"VALUES (?, {', '.join('?' * len(_TRIAL_COLUMNS))})",
                [(analysis_id, *row) for row in rows],
            )
        return ImportResult(True, person, recorded_on, session_week, len(rows), sha, version)

    def _session(
        self,
        conn: sqlite3.Connection,
        person_id: int,
        recorded_on: date,
        week: int | None,
        conditions: Conditions,
        notes: str,
    ) -> tuple[int, int | None]:
        key = (person_id, recorded_on.isoformat(), conditions.eyes, conditions.surface, conditions.footwear)
        conn.execute(
            "INSERT INTO sessions (person_id, recorded_on, week, eyes, surface, footwear, notes, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (person_id, recorded_on, eyes, surface, footwear) DO NOTHING",
            (*key[:2], week, *key[2:], notes, _now()),
        )
        session_id, stored_week = conn.execute(
            "SELECT id, week FROM sessions WHERE person_id = ? AND recorded_on = ? AND eyes = ? AND surface = ? "
            "AND footwear = ?",
            key,
        ).fetchone()
        if week is not None and stored_week is not None and week != stored_week:
            raise StoreError(
                f"the session of {recorded_on.isoformat()} ({conditions.words()}) is already week {stored_week}, "
                f"not week {week}",
                "Give the same --week for clips recorded on the same day, or leave --week out",
            )
        if week is not None and stored_week is None:
            conn.execute("UPDATE sessions SET week = ? WHERE id = ?", (week, session_id))
        if notes:
            conn.execute(
                "UPDATE sessions SET notes = CASE WHEN notes = '' THEN ? ELSE notes || '; ' || ? END WHERE id = ?",
                (notes, notes, session_id),
            )
        return int(session_id), week if week is not None else stored_week

    def start_programme(self, name: str, *, start: date, weeks: int) -> Programme:
        """Start (or restart) `name`'s programme; sessions without an explicit week count from `start`."""
        if not 1 <= weeks <= 52:
            raise StoreError(f"a {weeks}-week programme is outside 1-52 weeks", "Give --weeks, e.g. --weeks 6")
        with self._transaction() as conn:
            person_id, _ = self._person(conn, name)
            conn.execute(
                "INSERT INTO programmes (person_id, start_date, weeks, created_at) VALUES (?, ?, ?, ?)",
                (person_id, start.isoformat(), weeks, _now()),
            )
        programme = self.programme(name)
        assert programme is not None
        return programme

    # --- reads ------------------------------------------------------------------------------------

    def person(self, name: str) -> str | None:
        """The stored spelling of `name` (matched ignoring case and extra spaces), or None."""
        with self._errors():
            row = self._conn.execute("SELECT name FROM people WHERE name_key = ?", (_name_key(name),)).fetchone()
        return None if row is None else str(row[0])

    def people(self) -> list[str]:
        with self._errors():
            return [r[0] for r in self._conn.execute("SELECT name FROM people ORDER BY name_key")]

    def programme(self, name: str) -> Programme | None:
        """The person's current programme: the one started last."""
        with self._errors():
            row = self._conn.execute(
                "SELECT p.name, g.start_date, g.weeks FROM programmes g JOIN people p ON p.id = g.person_id "
                "WHERE p.name_key = ? ORDER BY g.id DESC LIMIT 1",
                (_name_key(name),),
            ).fetchone()
        return None if row is None else Programme(row[0], date.fromisoformat(row[1]), int(row[2]))

    def trials(self, name: str) -> list[TrialRecord]:
        """Every trial in `name`'s history, oldest first.

        When one clip was stored by several analysis versions, only the latest import counts, so a
        re-analysed clip never appears twice in a trend.
        """
        programme = self.programme(name)
        with self._errors():
            rows = self._conn.execute(
                "SELECT p.name, s.recorded_on, s.week, s.id, s.eyes, s.surface, s.footwear, s.notes, "
                "a.clip_sha256, a.clip_path, a.analysis_version, "
                f"{', '.join('t.' + c for c in _TRIAL_COLUMNS)} "
                "FROM trials t JOIN analyses a ON a.id = t.analysis_id JOIN sessions s ON s.id = a.session_id "
                "JOIN people p ON p.id = s.person_id "
                "WHERE p.name_key = ? "
                "AND a.id = (SELECT max(a2.id) FROM analyses a2 WHERE a2.clip_sha256 = a.clip_sha256) "
                "ORDER BY s.recorded_on, s.id, a.id, t.trial_index",
                (_name_key(name),),
            ).fetchall()
        return [_record(row, programme) for row in rows]


def _record(row: Sequence[Any], programme: Programme | None) -> TrialRecord:
    (person, on, week, session_id, eyes, surface, footwear, notes, sha, path, version, *t) = row
    trial = dict(zip(_TRIAL_COLUMNS, t, strict=True))
    recorded_on = date.fromisoformat(on)
    if week is None and programme is not None:
        week = programme_week(programme.start_date, recorded_on)
    shares = (trial["tripod_inner_ball"], trial["tripod_outer_ball"], trial["tripod_big_toe"])
    return TrialRecord(
        person=person,
        recorded_on=recorded_on,
        week=week,
        session_id=session_id,
        conditions=Conditions(eyes, surface, footwear),
        notes=notes,
        clip_sha256=sha,
        clip_path=path,
        analysis_version=version,
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
