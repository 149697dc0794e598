"""The Store: people, programmes, sessions and trials in one database (SQLite file or PostgreSQL server),
with versioned migrations. Every write is one transaction; a clip is stored once per analysis version (a
UNIQUE constraint, so it holds across processes and machines); damaged files are never rewritten.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Connection, exc, inspect, text

import balance.history.store.engine as eng
from balance.errors import StoreError
from balance.history.model import EYES, SURFACES, Conditions, ImportResult, Programme, TrialRecord, surface_key
from balance.history.store.rows import (
    TRIAL_COLUMNS,
    clean_name,
    document_key,
    name_key,
    record,
    side_clip_sha256,
    trial_row,
)
from balance.history.store.schema import LATEST_VERSION, MIGRATIONS, MIGRATIONS_TABLE

T = TypeVar("T")
# PostgreSQL deadlocks and serialisation failures are rare (two writers, same person, same day) and
# resolve on a rerun; more than a few in a row means something else is wrong.
WRITE_ATTEMPTS = 5
MIGRATION_LOCK = 0x62616C616E6365  # "balance": the advisory lock under which PostgreSQL migrates


class _Raced(Exception):
    """Another writer stored the same clip between our check and our insert: roll back and look again."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    """An open history database. Use as a context manager, or call close().

    `db`: a file path, `sqlite:///path` or `postgresql://...` (None: BALANCE_DB, else the per-user file).
    `create=False` refuses a database that holds no history yet, instead of creating one.
    """

    def __init__(self, db: Path | str | None = None, *, create: bool = True) -> None:
        self.target = db_target = eng.resolve(db)
        self.path = db_target.path  # None for a server
        if db_target.path is not None:
            eng.refuse_non_sqlite(db_target.path)
            if not create and not db_target.path.is_file():
                raise _missing(db_target.where)
            try:
                db_target.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(
                    f"cannot open the history database {db_target.where} ({error})",
                    "Check the folder is writable, or choose another history file",
                    option="db",
                ) from error
        self._engine = eng.make_engine(db_target)
        try:
            self._open(create)
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def where(self) -> str:
        """The file, or the server URL without its password: for messages."""
        return self.target.where

    # --- opening, integrity, migrations -------------------------------------------------------------

    def _open(self, create: bool) -> None:
        if self.target.path is not None:
            self._check_sqlite()
        version = self._schema_version()  # read-only checks first: a foreign or newer database stays untouched
        if version == 0 and not create:
            raise _missing(self.where)
        if self.target.path is not None:
            with self._read() as conn:
                conn.execution_options(balance_begin="")  # SQLite changes the journal mode only outside one
                conn.exec_driver_sql("PRAGMA journal_mode = WAL")
        if version < LATEST_VERSION:
            self._migrate()

    def _check_sqlite(self) -> None:
        try:
            with self._engine.connect() as conn:
                problems = [row[0] for row in conn.exec_driver_sql("PRAGMA quick_check")]
        except exc.OperationalError:
            with eng.errors(self.target):
                raise
        except exc.DatabaseError as error:
            raise eng.damaged(self.target, str(error.orig)) from error
        if problems != ["ok"]:
            lines = [line for row in problems for line in row.splitlines() if not line.startswith("***")]
            more = f", and {len(lines) - 1} more problems" if len(lines) > 1 else ""
            raise eng.damaged(self.target, f"{lines[0].strip()}{more}")

    def _schema_version(self, conn: Connection | None = None) -> int:
        if conn is None:
            with self._read() as fresh:
                return self._schema_version(fresh)
        with eng.errors(self.target):
            tables = set(inspect(conn).get_table_names()) - {"sqlite_sequence"}
            if not tables:
                return 0
            if "schema_migrations" not in tables:
                raise StoreError(
                    f"{self.where} is a database but not a balance history (tables: "
                    f"{', '.join(sorted(tables))}); it was left untouched",
                    "Give the balance history or a new database",
                    option="db",
                )
            version = int(conn.execute(text("SELECT coalesce(max(version), 0) FROM schema_migrations")).scalar_one())
        if version > LATEST_VERSION:
            raise StoreError(
                f"the history database {self.where} was written by a newer balance (schema version {version}; "
                f"this one reads up to {LATEST_VERSION}); it was left untouched",
                "Upgrade balance (pip install -U balance)",
            )
        return version

    def _migrate(self) -> None:
        def migrate(conn: Connection) -> None:
            if conn.dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE already serialises this
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
            conn.exec_driver_sql(MIGRATIONS_TABLE)
            # Re-read under the lock: another process may have migrated while we waited for it.
            current = self._schema_version(conn)
            for m in MIGRATIONS[current:]:
                m.apply(conn)
                conn.execute(
                    text("INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :at)"),
                    {"v": m.version, "n": m.name, "at": _now()},
                )

        self._write(migrate)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with eng.errors(self.target), self._engine.connect() as conn:
            yield conn

    def _write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one write transaction: all of it is stored, or (on any exception) none of it.

        A deadlock, serialisation failure or lost race (PostgreSQL) rolls back and runs `work` again.
        """
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with eng.errors(self.target), self._engine.connect() as conn:
                    conn.execution_options(balance_begin="BEGIN IMMEDIATE")
                    with conn.begin():
                        return work(conn)
            except _Raced:
                continue
            except exc.DBAPIError as error:
                if not eng.retryable(error) or attempt == WRITE_ATTEMPTS - 1:
                    with eng.errors(self.target):
                        raise
                time.sleep(0.01 * 2**attempt)
        raise StoreError(
            f"the history database {self.where} kept rolling back this write ({WRITE_ATTEMPTS} attempts)",
            "Try again; if it keeps happening, fewer writers at once",
        )

    def schema_version(self) -> int:
        return self._schema_version()

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc_value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- writes -----------------------------------------------------------------------------------

    @staticmethod
    def _person(conn: Connection, name: str) -> tuple[int, str]:
        """The person's id and stored spelling, adding them if new."""
        clean = clean_name(name)
        key = name_key(clean)
        conn.execute(
            text(
                "INSERT INTO people (name, name_key, created_at) VALUES (:name, :key, :at) "
                "ON CONFLICT (name_key) DO NOTHING"
            ),
            {"name": clean, "key": key, "at": _now()},
        )
        person_id, stored = conn.execute(text("SELECT id, name FROM people WHERE name_key = :key"), {"key": key}).one()
        return int(person_id), str(stored)

    @staticmethod
    def _stored(conn: Connection, sha: str, version: str) -> ImportResult | None:
        existing = conn.execute(
            text(
                "SELECT p.name, s.recorded_on, s.week, (SELECT count(*) FROM trials t WHERE t.analysis_id = a.id) "
                "FROM analyses a JOIN sessions s ON s.id = a.session_id JOIN people p ON p.id = s.person_id "
                "WHERE a.clip_sha256 = :sha AND a.analysis_version = :version"
            ),
            {"sha": sha, "version": version},
        ).first()
        if existing is None:
            return None
        owner, on, week, n = existing
        return ImportResult(False, owner, date.fromisoformat(on), week, int(n), sha, version)

    def add_analysis(
        self,
        analysis: Mapping[str, Any],
        *,
        name: str,
        recorded_on: date,
        week: int | None = None,
        conditions: Conditions = Conditions(),
        notes: str = "",
        birth_year: int | None = None,
    ) -> ImportResult:
        """Store one analysis document (balance.results.document.to_json) in `name`'s history, in one transaction.

        The session is the person's on that date under those conditions (several clips, e.g. one per leg,
        share it). A clip already stored by the same analysis version is not stored again: the database's
        UNIQUE (clip_sha256, analysis_version) decides between writers that race for it. `birth_year`, when
        given, becomes the person's (in the same transaction).
        """
        sha, path, version, trials = document_key(analysis)
        side_sha = side_clip_sha256(analysis)
        rows = [trial_row(i, t) for i, t in enumerate(trials)]
        if week is not None and not 1 <= week <= 52:
            raise StoreError(f"week {week} is outside 1-52", "Give the programme week, 1 to 52", option="week")
        conditions = checked_conditions(conditions)
        if birth_year is not None:
            check_birth_year(birth_year, recorded_on)
        document = json.dumps(analysis, allow_nan=False)

        def store(conn: Connection) -> ImportResult:
            existing = self._stored(conn, sha, version)
            if existing is not None:
                return existing
            person_id, person = self._person(conn, name)
            if birth_year is not None:
                self._set_birth_year(conn, person_id, birth_year)
            session_id, session_week = self._session(conn, person_id, recorded_on, week, conditions, notes)
            analysis_id = conn.execute(
                text(
                    "INSERT INTO analyses (session_id, clip_sha256, clip_path, analysis_version, document, "
                    "imported_at, side_clip_sha256) VALUES (:session, :sha, :path, :version, :document, :at, :side) "
                    "ON CONFLICT (clip_sha256, analysis_version) DO NOTHING RETURNING id"
                ),
                {
                    "session": session_id,
                    "sha": sha,
                    "path": path,
                    "version": version,
                    "document": document,
                    "at": _now(),
                    "side": side_sha,
                },
            ).scalar()
            if analysis_id is None:  # stored by another writer since our check: undo our person/session rows
                raise _Raced()
            conn.execute(
                text(
                    f"INSERT INTO trials (analysis_id, {', '.join(TRIAL_COLUMNS)}) "
                    f"VALUES (:analysis_id, {', '.join(':' + c for c in TRIAL_COLUMNS)})"
                ),
                [{"analysis_id": analysis_id, **row} for row in rows],
            )
            return ImportResult(True, person, recorded_on, session_week, len(rows), sha, version)

        return self._write(store)

    @staticmethod
    def _session(
        conn: Connection,
        person_id: int,
        recorded_on: date,
        week: int | None,
        conditions: Conditions,
        notes: str,
    ) -> tuple[int, int | None]:
        key = {
            "person": person_id,
            "on": recorded_on.isoformat(),
            "eyes": conditions.eyes,
            "surface": conditions.surface,
            "footwear": conditions.footwear,
        }
        created = conn.execute(
            text(
                "INSERT INTO sessions (person_id, recorded_on, week, eyes, surface, footwear, notes, created_at) "
                "VALUES (:person, :on, :week, :eyes, :surface, :footwear, :notes, :at) "
                "ON CONFLICT (person_id, recorded_on, eyes, surface, footwear) DO NOTHING RETURNING id"
            ),
            {**key, "week": week, "notes": notes, "at": _now()},
        ).scalar()
        if created is not None:
            return int(created), week
        session_id, stored_week = conn.execute(
            text(
                "SELECT id, week FROM sessions WHERE person_id = :person AND recorded_on = :on AND eyes = :eyes "
                "AND surface = :surface AND footwear = :footwear"
            ),
            key,
        ).one()
        if week is not None and stored_week is not None and week != stored_week:
            raise StoreError(
                f"the session of {recorded_on.isoformat()} ({conditions.words()}) is already week {stored_week}, "
                f"not week {week}",
                "Give the same week for clips recorded on the same day, or leave the week out",
                option="week",
            )
        if week is not None and stored_week is None:
            conn.execute(text("UPDATE sessions SET week = :week WHERE id = :id"), {"week": week, "id": session_id})
        if notes:  # a later clip of the same session adds its notes to the earlier ones
            conn.execute(
                text(
                    "UPDATE sessions SET notes = CASE WHEN notes = '' THEN CAST(:notes AS TEXT) "
                    "ELSE notes || '; ' || CAST(:notes AS TEXT) END WHERE id = :id"
                ),
                {"notes": notes, "id": session_id},
            )
        return int(session_id), week if week is not None else stored_week

    @staticmethod
    def _set_birth_year(conn: Connection, person_id: int, year: int | None) -> None:
        conn.execute(text("UPDATE people SET birth_year = :year WHERE id = :id"), {"year": year, "id": person_id})

    def set_birth_year(self, name: str, year: int | None) -> str:
        """Record (or, with None, forget) `name`'s birth year, adding the person if new; their stored name."""
        if year is not None:
            check_birth_year(year, date.today())

        def set_it(conn: Connection) -> str:
            person_id, person = self._person(conn, name)
            self._set_birth_year(conn, person_id, year)
            return person

        return self._write(set_it)

    def start_programme(self, name: str, *, start: date, weeks: int) -> Programme:
        """Start (or restart) `name`'s programme; sessions without an explicit week count from `start`."""
        if not 1 <= weeks <= 52:
            raise StoreError(
                f"a {weeks}-week programme is outside 1-52 weeks",
                "Give the programme's length in weeks, e.g. 6",
                option="weeks",
            )

        def start_it(conn: Connection) -> None:
            person_id, _ = self._person(conn, name)
            conn.execute(
                text(
                    "INSERT INTO programmes (person_id, start_date, weeks, created_at) "
                    "VALUES (:person, :start, :weeks, :at)"
                ),
                {"person": person_id, "start": start.isoformat(), "weeks": weeks, "at": _now()},
            )

        self._write(start_it)
        programme = self.programme(name)
        assert programme is not None
        return programme

    def delete_session(self, name: str, session_id: int) -> int:
        """Delete one of `name`'s sessions with its analyses and trials, in one transaction; the number of
        trials deleted. A session that is not that person's raises StoreError and nothing is deleted."""

        def delete(conn: Connection) -> int:
            owner = conn.execute(
                text(
                    "SELECT 1 FROM sessions s JOIN people p ON p.id = s.person_id "
                    "WHERE s.id = :id AND p.name_key = :key"
                ),
                {"id": session_id, "key": name_key(name)},
            ).first()
            if owner is None:
                raise StoreError(f"{name} has no session {session_id}", "Reload the person's page and try again")
            analyses = "SELECT id FROM analyses WHERE session_id = :id"
            n = conn.execute(text(f"DELETE FROM trials WHERE analysis_id IN ({analyses})"), {"id": session_id})
            conn.execute(text("DELETE FROM analyses WHERE session_id = :id"), {"id": session_id})
            conn.execute(text("DELETE FROM sessions WHERE id = :id"), {"id": session_id})
            return int(n.rowcount)

        return self._write(delete)

    # --- reads ------------------------------------------------------------------------------------

    def person(self, name: str) -> str | None:
        """The stored spelling of `name` (matched ignoring case and extra spaces), or None."""
        with self._read() as conn:
            row = conn.execute(text("SELECT name FROM people WHERE name_key = :key"), {"key": name_key(name)}).first()
        return None if row is None else str(row[0])

    def people(self) -> list[str]:
        with self._read() as conn:
            return [r[0] for r in conn.execute(text("SELECT name FROM people ORDER BY name_key"))]

    def birth_year(self, name: str) -> int | None:
        """The person's birth year, or None when not recorded (or no such person)."""
        with self._read() as conn:
            row = conn.execute(
                text("SELECT birth_year FROM people WHERE name_key = :key"), {"key": name_key(name)}
            ).first()
        return None if row is None or row[0] is None else int(row[0])

    def programme(self, name: str) -> Programme | None:
        """The person's current programme: the one started last."""
        with self._read() as conn:
            row = conn.execute(
                text(
                    "SELECT p.name, g.start_date, g.weeks FROM programmes g JOIN people p ON p.id = g.person_id "
                    "WHERE p.name_key = :key ORDER BY g.id DESC LIMIT 1"
                ),
                {"key": name_key(name)},
            ).first()
        return None if row is None else Programme(row[0], date.fromisoformat(row[1]), int(row[2]))

    def trials(self, name: str) -> list[TrialRecord]:
        """Every trial in `name`'s history, oldest first.

        When one clip was stored by several analysis versions, only the latest import counts, so a
        re-analysed clip never appears twice in a trend.
        """
        programme = self.programme(name)
        with self._read() as conn:
            rows = conn.execute(
                text(
                    "SELECT p.name, s.recorded_on, s.week, s.id, s.eyes, s.surface, s.footwear, s.notes, "
                    "a.clip_sha256, a.clip_path, a.analysis_version, a.side_clip_sha256, "
                    f"{', '.join('t.' + c for c in TRIAL_COLUMNS)} "
                    "FROM trials t JOIN analyses a ON a.id = t.analysis_id JOIN sessions s ON s.id = a.session_id "
                    "JOIN people p ON p.id = s.person_id "
                    "WHERE p.name_key = :key "
                    "AND a.id = (SELECT max(a2.id) FROM analyses a2 WHERE a2.clip_sha256 = a.clip_sha256) "
                    "ORDER BY s.recorded_on, s.id, a.id, t.trial_index"
                ),
                {"key": name_key(name)},
            ).all()
        return [record(row, programme) for row in rows]


def checked_conditions(conditions: Conditions) -> Conditions:
    """The conditions with the surface read as one of SURFACES; StoreError for eyes or a surface it is not."""
    if conditions.eyes not in ("", *EYES):
        raise StoreError(
            f"eyes must be open or closed, not {conditions.eyes!r}",
            "Say whether the eyes were open or closed",
            option="eyes",
        )
    surface = surface_key(conditions.surface)
    if surface is None:
        raise StoreError(
            f"the surface {conditions.surface!r} is none of {', '.join(SURFACES)}",
            f"Give the surface stood on: {', '.join(SURFACES)}",
            option="surface",
        )
    return Conditions(conditions.eyes, surface, conditions.footwear.strip())


def check_birth_year(year: int, on: date) -> None:
    """A birth year that makes the person at least 1 and under 125 on `on`; StoreError otherwise."""
    if not on.year - 125 < year < on.year:
        raise StoreError(
            f"birth year {year} is not a living person's on {on.isoformat()}",
            "Give the year the person was born, e.g. 1974 (or their age)",
            option="birth_year",
        )


def _missing(where: str) -> StoreError:
    return StoreError(
        f"there is no history database at {where}",
        "Save an analysis with a name first, or give the right history database",
        option="db",
    )
