"""balance.history.store on temporary databases, SQLite files and a real PostgreSQL server (tests/servers.py):
migrations (empty and v1), one transaction per write, duplicates refused by the database itself, several
processes writing at once, damaged/foreign/newer databases refused and left untouched, the default path.

Tests taking `database` run once per backend; the SQLite-file specifics (bytes left untouched, WAL, busy
timeout, the v1 file as shipped) run on SQLite only.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from balance.errors import StoreError
from balance.history.model import Conditions
from balance.history.store import LATEST_VERSION, MIGRATIONS, Store, default_db_path
from balance.results.document import to_json

from .conftest import SAMPLES, analysed
from .servers import free_port, postgres_server

POSE_1 = SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4"
DAY = date(2024, 3, 4)


def real_document() -> dict[str, Any]:
    """The analysis document of the 4 s left-leg sample clip (pose model run once per test session)."""
    result = analysed(POSE_1)
    assert not isinstance(result, Exception), result
    return to_json(result)


def relabel(document: dict[str, Any], tag: str) -> dict[str, Any]:
    """A copy standing for a different recording: the store dedupes by clip hash, so each stored copy of
    the same real analysis needs its own (derived) hash."""
    doc = copy.deepcopy(document)
    doc["clip"]["sha256"] = hashlib.sha256(f"{document['clip']['sha256']}:{tag}".encode()).hexdigest()
    return doc


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    with postgres_server() as base:
        yield base


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty history database: an SQLite file path, or a PostgreSQL URL naming a fresh database."""
    if request.param == "sqlite":
        return str(tmp_path / "h.db")
    base = request.getfixturevalue("postgres")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(f"{base.replace('postgresql', 'postgresql+psycopg', 1)}/postgres", poolclass=sa.NullPool)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return f"{base}/{name}"


def engine(db: str | Path) -> sa.Engine:
    url = str(db).replace("postgresql", "postgresql+psycopg", 1) if "://" in str(db) else f"sqlite:///{db}"
    return sa.create_engine(url, poolclass=sa.NullPool)


def sql(db: str | Path, statement: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement on the database directly (not through Store), committed; its rows."""
    eng = engine(db)
    try:
        with eng.begin() as conn:
            result = conn.execute(sa.text(statement), params or {})
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        eng.dispose()


def counts(db: str | Path) -> dict[str, int]:
    return {t: sql(db, f"SELECT count(*) FROM {t}")[0][0] for t in ("people", "sessions", "analyses", "trials")}


def columns(db: Path) -> dict[str, list[tuple[str, str]]]:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: [(c[1], c[2]) for c in conn.execute(f"PRAGMA table_info({t})")] for t in tables}


def test_empty_database_is_created_at_the_latest_schema(database: str) -> None:
    with Store(database) as store:
        assert store.schema_version() == LATEST_VERSION
    applied = [r[0] for r in sql(database, "SELECT version FROM schema_migrations ORDER BY version")]
    assert applied == list(range(1, LATEST_VERSION + 1))
    tables = set(sa.inspect(engine(database)).get_table_names())
    assert tables >= {"people", "programmes", "sessions", "analyses", "trials", "schema_migrations"}
    with Store(database) as store:  # reopening an up-to-date database applies nothing
        assert store.schema_version() == LATEST_VERSION
    assert len(sql(database, "SELECT * FROM schema_migrations")) == LATEST_VERSION


def test_a_new_sqlite_file_is_in_wal_mode_in_a_new_folder(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "history.db"
    Store(f"sqlite:///{db}").close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# The schema as version 1 shipped it, written out by hand (not taken from balance.history.store), so the test
# notices if migration 1 is ever edited instead of adding a migration.
V1_SQL = """
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);
CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL);
CREATE TABLE programmes (id INTEGER PRIMARY KEY, person_id INTEGER NOT NULL REFERENCES people(id),
    start_date TEXT NOT NULL, weeks INTEGER NOT NULL CHECK (weeks BETWEEN 1 AND 52), created_at TEXT NOT NULL);
CREATE TABLE sessions (id INTEGER PRIMARY KEY, person_id INTEGER NOT NULL REFERENCES people(id),
    recorded_on TEXT NOT NULL, week INTEGER CHECK (week BETWEEN 1 AND 52),
    eyes TEXT NOT NULL DEFAULT '' CHECK (eyes IN ('', 'open', 'closed')), surface TEXT NOT NULL DEFAULT '',
    footwear TEXT NOT NULL DEFAULT '', notes TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,
    UNIQUE (person_id, recorded_on, eyes, surface, footwear));
CREATE TABLE analyses (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
    clip_sha256 TEXT NOT NULL CHECK (length(clip_sha256) = 64), clip_path TEXT NOT NULL,
    analysis_version TEXT NOT NULL, document TEXT NOT NULL, imported_at TEXT NOT NULL,
    UNIQUE (clip_sha256, analysis_version));
CREATE TABLE trials (id INTEGER PRIMARY KEY, analysis_id INTEGER NOT NULL REFERENCES analyses(id),
    trial_index INTEGER NOT NULL, stance_leg TEXT NOT NULL CHECK (stance_leg IN ('left', 'right')),
    lift_off_s REAL NOT NULL, touch_down_s REAL, hold_s REAL NOT NULL CHECK (hold_s >= 0), ended_by TEXT NOT NULL,
    view TEXT, horizontal_axis TEXT, unit TEXT NOT NULL, sway_velocity REAL, sway_rms REAL, metrics TEXT NOT NULL,
    UNIQUE (analysis_id, trial_index));
CREATE INDEX sessions_person ON sessions(person_id, recorded_on);
CREATE INDEX analyses_session ON analyses(session_id);
CREATE INDEX trials_analysis ON trials(analysis_id);
INSERT INTO schema_migrations VALUES (1, 'people, programmes, sessions, analyses, trials', '2024-01-01T00:00:00+00:00');
"""


def test_version_1_database_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    doc = real_document()
    doc["trials"][0]["score"] = {"value": 61.5, "mdc": 4.2}  # what v2 must back-fill from the stored document
    doc["trials"][0]["tripod"] = {"split": {"inner_ball": 0.3, "outer_ball": 0.5, "big_toe": 0.2}}
    trial = doc["trials"][0]
    metrics = trial["metrics"]
    velocity = metrics["observed"]["centre_of_mass"]["mean_velocity"]
    old = tmp_path / "v1.db"
    with sqlite3.connect(old) as conn:
        conn.executescript(V1_SQL)
        conn.execute("INSERT INTO people VALUES (1, 'Sam', 'sam', '2024-01-01')")
        conn.execute("INSERT INTO programmes VALUES (1, 1, '2024-03-04', 6, '2024-01-01')")
        conn.execute(
            "INSERT INTO sessions VALUES (1, 1, '2024-03-05', NULL, 'open', 'floor', '', 'first', '2024-01-01')"
        )
        conn.execute(
            "INSERT INTO analyses VALUES (1, 1, ?, ?, ?, ?, '2024-01-01')",
            (doc["clip"]["sha256"], doc["clip"]["path"], doc["tool"]["version"], json.dumps(doc)),
        )
        conn.execute(
            "INSERT INTO trials VALUES (1, 1, 0, 'left', ?, NULL, ?, ?, 'front', 'ml', '%leg', ?, 1.0, ?)",
            (trial["lift_off_s"], trial["hold_s"], trial["ended_by"], velocity, json.dumps(metrics)),
        )
    fresh = tmp_path / "fresh.db"
    Store(fresh).close()

    with Store(old) as store:
        assert store.schema_version() == LATEST_VERSION
        [record] = store.trials("Sam")
        programme = store.programme("sam")
    assert columns(old) == columns(fresh)  # migrated schema == a new database's schema
    assert programme is not None and (programme.start_date, programme.weeks) == (date(2024, 3, 4), 6)
    assert (record.person, record.recorded_on, record.week, record.notes) == ("Sam", date(2024, 3, 5), 1, "first")
    assert (record.stance_leg, record.hold_s, record.sway_velocity, record.sway_rms) == (
        "left",
        trial["hold_s"],
        velocity,
        1.0,
    )
    assert record.metrics == metrics
    assert (record.score, record.score_mdc) == (61.5, 4.2)  # back-filled, not left NULL
    assert record.tripod is not None and record.tripod.outer_ball == 0.5
    assert counts(old) == {"people": 1, "sessions": 1, "analyses": 1, "trials": 1}


def test_same_clip_twice_is_stored_once(database: str) -> None:
    db = database
    doc = real_document()
    with Store(db) as store:
        first = store.add_analysis(doc, name="Sam", recorded_on=DAY, week=1)
        again = store.add_analysis(doc, name="Sam", recorded_on=DAY + timedelta(days=3), week=2)
        other = store.add_analysis(doc, name="Alex", recorded_on=DAY, week=1)
        assert first.stored and not again.stored and not other.stored
        assert (again.person, again.recorded_on, again.week) == ("Sam", DAY, 1)  # where it already is
        assert other.person == "Sam"
        assert len(store.trials("Sam")) == len(doc["trials"])
        assert store.person("Alex") is None  # the refused import left no trace
        # The same clip analysed by a newer balance is stored (a new analysis), but counts once in the history.
        newer = copy.deepcopy(doc)
        newer["tool"]["version"] = "9.9.9"
        assert store.add_analysis(newer, name="Sam", recorded_on=DAY, week=1).stored
        assert [r.analysis_version for r in store.trials("Sam")] == ["9.9.9"] * len(doc["trials"])
    assert counts(db) == {"people": 1, "sessions": 1, "analyses": 2, "trials": 2 * len(doc["trials"])}


def test_the_database_itself_refuses_a_second_copy_of_a_clip(database: str) -> None:
    """Uniqueness is a constraint in the database, so it holds for any writer, not only for Store's check."""
    doc = real_document()
    with Store(database) as store:
        store.add_analysis(doc, name="Sam", recorded_on=DAY)
    insert = (
        "INSERT INTO analyses (session_id, clip_sha256, clip_path, analysis_version, document, imported_at) "
        "SELECT session_id, clip_sha256, 'again.mp4', analysis_version, document, imported_at FROM analyses"
    )
    with pytest.raises(sa.exc.IntegrityError):
        sql(database, insert)
    assert counts(database)["analyses"] == 1


FAILING_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER fail BEFORE INSERT ON trials WHEN NEW.trial_index = 1 "
        "BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.trial_index = 1 THEN RAISE EXCEPTION 'simulated write failure'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER fail BEFORE INSERT ON trials FOR EACH ROW EXECUTE FUNCTION fail()",
    ],
}


def test_an_import_is_one_transaction(database: str) -> None:
    db = database
    doc = real_document()
    doc["trials"].append({**copy.deepcopy(doc["trials"][0]), "stance_leg": "right"})
    Store(db).close()
    for statement in FAILING_TRIGGER["postgresql" if "://" in db else "sqlite"]:  # the second trial's insert
        sql(db, statement)  # fails, as a full disk would
    with Store(db) as store, pytest.raises(StoreError, match="simulated write failure"):
        store.add_analysis(doc, name="Sam", recorded_on=DAY, week=1)
    assert counts(db) == {"people": 0, "sessions": 0, "analyses": 0, "trials": 0}


def test_bad_documents_are_refused_not_stored_as_null(database: str) -> None:
    doc = real_document()
    with Store(database) as store:
        bad_score = copy.deepcopy(doc)
        bad_score["trials"][0]["score"] = {"value": "high"}
        with pytest.raises(StoreError, match="invalid score"):
            store.add_analysis(bad_score, name="Sam", recorded_on=DAY)
        with pytest.raises(StoreError, match="not a balance analysis document"):
            store.add_analysis({"clip": {}}, name="Sam", recorded_on=DAY)
        with pytest.raises(StoreError, match="name is empty"):
            store.add_analysis(doc, name="  ", recorded_on=DAY)
        with pytest.raises(StoreError, match="already week 1"):
            store.add_analysis(doc, name="Sam", recorded_on=DAY, week=1)
            store.add_analysis(relabel(doc, "b"), name="Sam", recorded_on=DAY, week=2)
    assert counts(database)["analyses"] == 1


WRITER = textwrap.dedent(
    """
    import json, sys, time, hashlib
    from datetime import date, timedelta
    from pathlib import Path
    from balance.history.store import Store
    db, doc_file, me, go = sys.argv[1:5]
    doc = json.loads(Path(doc_file).read_text())
    tags = [f"{me}-{i}" for i in range(20)] + [f"shared-{i}" for i in range(10)]
    Path(go + "." + me).touch()
    while not Path(go).exists():
        time.sleep(0.005)
    stored, began = 0, time.time()
    for k, tag in enumerate(tags):
        d = json.loads(json.dumps(doc))
        d["clip"]["sha256"] = hashlib.sha256(tag.encode()).hexdigest()
        with Store(db) as store:  # open per write, as separate balance commands do
            on = date(2024, 3, 4) + timedelta(days=k % 7)
            stored += store.add_analysis(d, name="Sam", recorded_on=on, week=None).stored
    print(stored, began, time.time())
    """
)
WRITERS = ("a", "b", "c")


def test_several_processes_writing_at_once_lose_and_duplicate_nothing(database: str, tmp_path: Path) -> None:
    db, go = database, tmp_path / "go"
    doc_file = tmp_path / "doc.json"
    doc_file.write_text(json.dumps(real_document()))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, db, str(doc_file), me, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me in WRITERS
    ]
    deadline = time.monotonic() + 60
    while not all(Path(f"{go}.{me}").exists() for me in WRITERS):  # all started: the fresh database is
        assert time.monotonic() < deadline, "writers did not start"  # created and migrated by whichever wins
        time.sleep(0.01)
    go.touch()
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    stored, began, ended = zip(*(out.split() for out, _ in outs), strict=True)
    assert max(map(float, began)) < min(map(float, ended))  # the write loops really overlapped
    # 20 own each + 10 shared, each shared clip stored by exactly one writer
    assert sum(map(int, stored)) == 20 * len(WRITERS) + 10
    n_trials = len(real_document()["trials"])
    n = 20 * len(WRITERS) + 10
    assert counts(db) == {"people": 1, "sessions": 7, "analyses": n, "trials": n * n_trials}
    assert sql(db, "SELECT count(DISTINCT clip_sha256) FROM analyses") == [(n,)]
    assert [r[0] for r in sql(db, "SELECT version FROM schema_migrations ORDER BY version")] == list(
        range(1, LATEST_VERSION + 1)
    )
    if "://" not in db:
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def assert_refused(db: Path, *phrases: str) -> None:
    before = db.read_bytes()
    with pytest.raises(StoreError) as info:
        Store(db)
    message = str(info.value)
    assert "\n" not in message
    for phrase in (str(db), "left untouched", *phrases):
        assert phrase in message
    assert db.read_bytes() == before


def test_random_bytes_are_refused_and_left_untouched(tmp_path: Path) -> None:
    db = tmp_path / "balance.db"
    db.write_bytes(random.Random(7).randbytes(64 * 1024))
    assert_refused(db, "not a balance history database", "Restore it from a backup")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["balance.db"]  # no -wal, -shm or journal either


def test_damaged_pages_are_refused_and_left_untouched(tmp_path: Path) -> None:
    db = tmp_path / "balance.db"
    with Store(db) as store:
        for k in range(30):
            store.add_analysis(relabel(real_document(), str(k)), name="Sam", recorded_on=DAY)
    raw = bytearray(db.read_bytes())
    page = int.from_bytes(raw[16:18], "big")
    raw[page * 2 :] = random.Random(8).randbytes(len(raw) - page * 2)  # keep the header and schema page
    db.write_bytes(bytes(raw))
    assert_refused(db, "is damaged")


def test_foreign_and_newer_sqlite_files_are_refused_and_left_untouched(tmp_path: Path) -> None:
    foreign = tmp_path / "photos.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)")
    assert_refused(foreign, "not a balance history", "photos")

    newer = tmp_path / "newer.db"
    Store(newer).close()
    with sqlite3.connect(newer) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (?, 'from the future', '2030-01-01')", (LATEST_VERSION + 1,))
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # into the main file, whose bytes the test compares
    assert_refused(newer, "written by a newer balance", "Upgrade balance")


def test_foreign_and_newer_databases_are_refused_on_either_backend(database: str) -> None:
    sql(database, "CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)")
    with pytest.raises(StoreError, match="not a balance history .*photos.*left untouched"):
        Store(database)
    assert set(sa.inspect(engine(database)).get_table_names()) == {"photos"}
    sql(database, "DROP TABLE photos")

    Store(database).close()
    sql(
        database,
        "INSERT INTO schema_migrations VALUES (:v, 'from the future', '2030-01-01')",
        {"v": LATEST_VERSION + 1},
    )
    with pytest.raises(StoreError, match="written by a newer balance .*left untouched. Upgrade balance"):
        Store(database)
    assert [r[0] for r in sql(database, "SELECT version FROM schema_migrations ORDER BY version")] == [
        *range(1, LATEST_VERSION + 2)
    ]


def test_a_version_1_postgresql_database_is_migrated_and_back_filled(postgres: str) -> None:
    """Migration 2 on a server: columns added, score and tripod back-filled from the stored documents."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    sql(f"{postgres}/postgres", "SELECT 1")  # the server is up
    admin = engine(f"{postgres}/postgres")
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    db = f"{postgres}/{name}"
    doc = real_document()
    doc["trials"][0]["score"] = {"value": 61.5, "mdc": 4.2}
    doc["trials"][0]["tripod"] = {"split": {"inner_ball": 0.3, "outer_ball": 0.5, "big_toe": 0.2}}
    with Store(db) as store:  # a version-2 database, then taken back to version 1 as it shipped
        store.add_analysis(doc, name="Sam", recorded_on=DAY, week=1)
    for column in ("score", "score_mdc", "flags", "tripod_inner_ball", "tripod_outer_ball", "tripod_big_toe"):
        sql(db, f"ALTER TABLE trials DROP COLUMN {column}")
    sql(db, "ALTER TABLE trials DROP COLUMN tripod")
    sql(db, "ALTER TABLE trials DROP COLUMN decomposition")
    sql(db, "ALTER TABLE people DROP COLUMN birth_year")
    sql(db, "ALTER TABLE analyses DROP COLUMN side_clip_sha256")
    sql(db, "DELETE FROM schema_migrations WHERE version > 1")
    with Store(db) as store:
        assert store.schema_version() == LATEST_VERSION
        [record] = store.trials("sam")
    assert (record.score, record.score_mdc) == (61.5, 4.2)
    assert record.tripod is not None and record.tripod.outer_ball == 0.5
    assert counts(db) == {"people": 1, "sessions": 1, "analyses": 1, "trials": 1}
    assert MIGRATIONS[-1].version == LATEST_VERSION == 4


def test_an_unreachable_server_is_one_line(postgres: str) -> None:
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    with pytest.raises(StoreError) as info:
        Store(dead)
    message = str(info.value)
    assert "\n" not in message and "cannot use the history database postgresql://postgres@127.0.0.1" in message
    assert "Check the server is running" in message
    with pytest.raises(StoreError, match="postgresql://postgres:\\*\\*\\*@"):  # the password is never shown
        Store(dead.replace("postgres@", "postgres:secret@"))


def test_urls_name_the_backend(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'u.db'}") as store:
        assert store.path == tmp_path / "u.db" and store.where == str(tmp_path / "u.db")
    with pytest.raises(StoreError, match="cannot be kept in mysql"):
        Store("mysql://x@y/z")


def test_database_path_argument_then_environment_then_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from platformdirs import user_data_dir

    monkeypatch.delenv("BALANCE_DB", raising=False)
    assert default_db_path() == Path(user_data_dir("balance", appauthor=False)) / "balance.db"
    monkeypatch.setenv("BALANCE_DB", str(tmp_path / "env.db"))
    assert default_db_path() == tmp_path / "env.db"
    with Store() as store:
        assert store.path == tmp_path / "env.db"
    with Store(tmp_path / "arg.db") as store:
        assert store.path == tmp_path / "arg.db"
    assert (tmp_path / "env.db").is_file() and (tmp_path / "arg.db").is_file()


def test_a_folder_or_unwritable_place_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="history database .*Not a directory"):
        Store(blocker / "sub" / "h.db")


def test_a_writer_held_up_past_the_busy_timeout_gets_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "h.db"
    Store(db).close()
    monkeypatch.setattr("balance.history.store.engine.BUSY_TIMEOUT_S", 0.2)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process in the middle of its write
    try:
        with Store(db) as store, pytest.raises(StoreError, match="stayed locked by another balance process"):
            store.add_analysis(real_document(), name="Sam", recorded_on=DAY)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    with Store(db) as store:  # nothing half-written; the write goes through once the lock is free
        assert store.add_analysis(real_document(), name="Sam", recorded_on=DAY).stored


def test_delete_a_session_takes_its_analyses_and_trials_and_nothing_else(database: str) -> None:
    db = database
    doc = real_document()
    with Store(db) as store:
        store.add_analysis(relabel(doc, "a"), name="Sam", recorded_on=DAY, week=1)
        store.add_analysis(relabel(doc, "b"), name="Sam", recorded_on=DAY, week=1)  # same session, second clip
        store.add_analysis(relabel(doc, "c"), name="Sam", recorded_on=DAY + timedelta(days=7), week=2)
        store.add_analysis(relabel(doc, "d"), name="Alex", recorded_on=DAY, week=1)
        first = store.trials("Sam")[0].session_id
        alex = store.trials("Alex")[0].session_id
        with pytest.raises(StoreError, match="Sam has no session"):
            store.delete_session("Sam", alex)  # someone else's session: refused, nothing deleted
        assert store.delete_session("Sam", first) == 2 * len(doc["trials"])
        assert [r.week for r in store.trials("Sam")] == [2] * len(doc["trials"])
        assert len(store.trials("Alex")) == len(doc["trials"])
    assert counts(db) == {"people": 2, "sessions": 2, "analyses": 2, "trials": 2 * len(doc["trials"])}


def test_birth_year_and_surface_are_fields_of_the_person_and_the_session(database: str) -> None:
    """Migration 3's birth year, set with an analysis (one transaction) or alone; the surface one of four."""
    doc = real_document()
    with Store(database) as store:
        assert store.birth_year("Sam") is None
        store.add_analysis(
            doc, name="Sam", recorded_on=DAY, week=1, conditions=Conditions("closed", " Bosu  ball"), birth_year=1974
        )
        [record] = store.trials("Sam")
        assert record.conditions == Conditions("closed", "bosu")
        assert record.conditions.words() == "eyes closed, Bosu"
        assert store.birth_year("sam") == 1974
        assert store.set_birth_year("SAM", 1975) == "Sam" and store.birth_year("Sam") == 1975
        store.set_birth_year("Sam", None)
        assert store.birth_year("Sam") is None
        before = counts(database)
        with pytest.raises(StoreError) as bad_surface:
            store.add_analysis(relabel(doc, "x"), name="Sam", recorded_on=DAY, conditions=Conditions("open", "sand"))
        assert bad_surface.value.option == "surface" and "floor, foam, disc, bosu" in str(bad_surface.value)
        with pytest.raises(StoreError) as bad_year:
            store.add_analysis(relabel(doc, "y"), name="Sam", recorded_on=DAY, birth_year=DAY.year + 1)
        assert bad_year.value.option == "birth_year"
        assert counts(database) == before  # refused before anything was written
    # The database itself refuses a year no person has, whatever writes it.
    with pytest.raises(sa.exc.IntegrityError):
        sql(database, "UPDATE people SET birth_year = 1066")


def test_a_version_2_sqlite_file_gains_the_birth_year_and_keeps_its_people(tmp_path: Path) -> None:
    db = tmp_path / "v2.db"
    doc = real_document()
    with Store(db) as store:
        store.add_analysis(doc, name="Sam", recorded_on=DAY, week=1, conditions=Conditions("open", "floor"))
    with sqlite3.connect(db) as conn:  # back to version 2 as it shipped
        conn.execute("ALTER TABLE people DROP COLUMN birth_year")
        conn.execute("ALTER TABLE analyses DROP COLUMN side_clip_sha256")
        conn.execute("DELETE FROM schema_migrations WHERE version > 2")
    with Store(db) as store:
        assert store.schema_version() == LATEST_VERSION
        assert store.birth_year("Sam") is None
        [record] = store.trials("Sam")
    assert record.conditions == Conditions("open", "floor")
    fresh = tmp_path / "fresh.db"
    Store(fresh).close()
    assert columns(db) == columns(fresh)
