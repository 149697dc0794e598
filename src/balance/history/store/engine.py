"""Where the history lives and how to reach it: a path or URL to a SQLAlchemy engine, database errors as
one-line StoreErrors.

`--db` / `BALANCE_DB` take a file path or `sqlite:///path` (SQLite, the default) or
`postgresql://user[:password]@host[:port]/database` (PostgreSQL through psycopg 3).

SQLite: WAL journal (readers never block the writer) plus a busy timeout, and write transactions start with
`BEGIN IMMEDIATE`, so two `balance` processes queue for the write lock instead of failing or losing rows.
PostgreSQL: READ COMMITTED; the UNIQUE constraints decide races (see Store.add_analysis) and deadlocks or
serialisation failures are retried.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from balance.config import settings
from balance.errors import StoreError

# Long enough to wait out another process's import (a few ms per transaction), short enough to report
# a stuck writer (e.g. a database on a hung network share or an unreachable server) instead of hanging.
BUSY_TIMEOUT_S = 30.0
SQLITE_HEADER = b"SQLite format 3\x00"
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def default_db_path() -> Path:
    """Where the history lives unless told otherwise: BALANCE_DB, else the platform's user data folder."""
    config = settings()
    if config.db and "://" not in config.db:
        return Path(config.db).expanduser()
    return config.default_db_path


@dataclass(frozen=True)
class Target:
    """A resolved --db: an SQLite file (path set) or a PostgreSQL server (url set)."""

    path: Path | None
    url: URL

    @property
    def where(self) -> str:
        """For messages: the file, or the URL with its password hidden."""
        if self.path is not None:
            return str(self.path)
        return self.url.set(drivername="postgresql").render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()


def resolve(db: Path | str | None) -> Target:
    """The history named by `db` (argument) > BALANCE_DB > the per-user default file."""
    given = str(db) if db is not None else settings().db
    if given is None:
        path = settings().default_db_path
        return Target(path, URL.create("sqlite+pysqlite", database=str(path)))
    if "://" not in given:
        path = Path(given).expanduser()
        return Target(path, URL.create("sqlite+pysqlite", database=str(path)))
    try:
        url = make_url(given)
    except exc.ArgumentError as error:
        raise StoreError(f"{given!r} is not a database URL ({error})", _todo()) from error
    if url.drivername in ("sqlite", "sqlite+pysqlite"):
        if not url.database:
            raise StoreError(f"{given!r} names no database file", "Give sqlite:///path/to/balance.db")
        path = Path(url.database).expanduser()
        return Target(path, URL.create("sqlite+pysqlite", database=str(path)))
    if url.drivername in POSTGRES_SCHEMES:
        return Target(None, url.set(drivername="postgresql+psycopg"))
    raise StoreError(f"the history cannot be kept in {url.drivername} ({url.render_as_string()})", _todo())


def _todo() -> str:
    return "Give the history database as a file path, sqlite:///path or postgresql://user@host/database"


def refuse_non_sqlite(path: Path) -> None:
    """Reject a non-empty file that is not SQLite before SQLite touches it (it must stay byte-for-byte)."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a database file", "Give a file path for the history", option="db")
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as error:
        raise StoreError(
            f"cannot read the history database {path} ({error.strerror})", "Check its permissions"
        ) from error
    if head and head != SQLITE_HEADER:
        raise StoreError(
            f"{path} is not a balance history database (not an SQLite file: damaged or something else); "
            "it was left untouched",
            "Restore it from a backup, or give a new history file",
            option="db",
        )


def make_engine(target: Target) -> Engine:
    """One engine per open Store; connections are not pooled beyond it (NullPool for the server)."""
    if target.path is None:
        return create_engine(
            target.url,
            poolclass=NullPool,
            connect_args={"connect_timeout": max(1, int(BUSY_TIMEOUT_S)), "application_name": "balance"},
        )
    engine = create_engine(target.url, connect_args={"timeout": BUSY_TIMEOUT_S})
    busy_ms = int(BUSY_TIMEOUT_S * 1000)

    @event.listens_for(engine, "connect")
    def _connect(dbapi: sqlite3.Connection, _record: object) -> None:
        dbapi.isolation_level = None  # the driver's own implicit BEGINs off: `_begin` below says which kind
        dbapi.execute(f"PRAGMA busy_timeout = {busy_ms}")
        dbapi.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _begin(conn: object) -> None:
        # A deferred transaction that later upgrades to write can fail at once with SQLITE_BUSY in WAL mode,
        # bypassing the busy timeout: writes take the write lock up front.
        # `balance_begin`: "BEGIN IMMEDIATE" for writes, "" for statements that must run outside a transaction.
        begin = conn.get_execution_options().get("balance_begin", "BEGIN")  # type: ignore[attr-defined]
        if begin:
            conn.exec_driver_sql(begin)  # type: ignore[attr-defined]

    return engine


def damaged(target: Target, detail: str) -> StoreError:
    return StoreError(
        f"the history database {target.where} is damaged ({detail}); it was left untouched",
        "Restore it from a backup, or give a new history file",
        option="db",
    )


def retryable(error: exc.DBAPIError) -> bool:
    """A PostgreSQL deadlock or serialisation failure: the transaction was rolled back and may simply be rerun."""
    return getattr(error.orig, "sqlstate", None) in ("40001", "40P01")


@contextmanager
def errors(target: Target) -> Iterator[None]:
    """Database exceptions as one-line StoreErrors."""
    try:
        yield
    except exc.OperationalError as error:
        text = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        if target.path is None:
            if retryable(error):
                raise
            raise StoreError(
                f"cannot use the history database {target.where} ({text})",
                "Check the server is running and reachable, and the user, password and database name",
            ) from error
        if "locked" in text or "busy" in text:
            raise StoreError(
                f"the history database {target.where} stayed locked by another balance process for "
                f"{BUSY_TIMEOUT_S:.0f} s",
                "Try again when the other command has finished",
            ) from error
        raise StoreError(
            f"database error in {target.where} ({text})", "Check the disk and the file's permissions"
        ) from error
    except exc.IntegrityError as error:
        text = str(error.orig).strip().splitlines()[0]
        raise StoreError(f"the history database refused the data ({text})", "Nothing was stored") from error
    except exc.DatabaseError as error:
        if _our_bug(error):
            raise
        text = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        if target.path is None:
            raise StoreError(f"database error in {target.where} ({text})", "Nothing was stored") from error
        if type(error.orig) is not sqlite3.DatabaseError:
            raise
        raise damaged(target, text) from error


# PostgreSQL's codes for SQL that is wrong in itself (syntax, unknown column, table or function): a bug in
# this module, to be seen with its traceback. Everything else the server refuses is the database's answer.
_BUG_SQLSTATES = ("42601", "42703", "42P01", "42883")


def _our_bug(error: exc.DatabaseError) -> bool:
    if not isinstance(error, exc.ProgrammingError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate is None or sqlstate in _BUG_SQLSTATES
