"""Real servers for the tests, started on 127.0.0.1 in temporary folders and stopped after: a throw-away
PostgreSQL cluster (initdb + pg_ctl) and a Dask scheduler with worker processes.

Each starter is a context manager yielding the address; where the software is missing it raises
pytest.skip with the reason and the command that installs it.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_INSTALL = "bash scripts/install_postgresql.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        pytest.skip(f"PostgreSQL tests skipped: no /usr/lib/postgresql/*/bin/pg_ctl ({PG_INSTALL} installs it)")
    return Path(found[-1]).parent


def _as_postgres() -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its programs as the unprivileged `postgres` user."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("PostgreSQL tests skipped: running as root and no runuser to start the server as postgres")
    try:
        subprocess.run(["id", "postgres"], check=True, capture_output=True)
    except subprocess.CalledProcessError:
        pytest.skip(f"PostgreSQL tests skipped: running as root and no `postgres` user ({PG_INSTALL} creates it)")
    return [runuser, "-u", "postgres", "--"]


@contextmanager
def postgres_server() -> Iterator[str]:
    """A fresh PostgreSQL cluster on 127.0.0.1 (trust auth, superuser `postgres`); yields its base URL
    `postgresql://postgres@127.0.0.1:PORT` (append /DATABASE)."""
    bin_dir = _pg_bin()
    prefix = _as_postgres()
    home = Path(tempfile.mkdtemp(prefix="balance-pg-"))  # not under pytest's root-only tmp folder
    data, sockets = home / "data", home / "sockets"
    sockets.mkdir()
    if prefix:
        shutil.chown(home, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    run = [*prefix]
    try:
        subprocess.run(
            [*run, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c max_connections=60"
        started = subprocess.run(
            [*run, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(home / "log"), "-w", "start"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if started.returncode != 0:
            log = (home / "log").read_text() if (home / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {started.stderr}\n{log}")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}"
        finally:
            subprocess.run(
                [*run, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
            )
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


# `dask scheduler` / `dask worker`, run by this interpreter so they import this environment's balance.
DASK = [sys.executable, "-m", "dask"]


@contextmanager
def dask_cluster(workers: int, tmp: Path, env: dict[str, str]) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """`dask scheduler` and `workers` single-threaded `dask worker` processes on 127.0.0.1.

    Yields the scheduler address and the worker processes (a test may kill one). `env` is their environment.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: list[subprocess.Popen[bytes]] = []
    logs = []

    def start(cmd: list[str], name: str) -> subprocess.Popen[bytes]:
        log = (tmp / f"{name}.log").open("wb")
        logs.append(log)
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        procs.append(proc)
        return proc

    try:
        scheduler = start(
            [*DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0", "--no-show"],
            "scheduler",
        )
        _wait_for_port(port, scheduler, "dask scheduler")
        worker_procs = [
            start(
                [
                    *DASK,
                    "worker",
                    address,
                    "--host",
                    "127.0.0.1",
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                    "--local-directory",
                    str(tmp / f"worker{i}"),
                    "--name",
                    f"worker{i}",
                ],
                f"worker{i}",
            )
            for i in range(workers)
        ]
        yield address, worker_procs
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for log in logs:
            log.close()
