"""Atomic file writing (balance.files): whole files or none, after a failed write, a full disk, Ctrl-C or a kill."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from balance.files import STALE_AFTER_S, atomic_path, is_partial, partial_name, staged, sweep_partials, write_atomic

from .conftest import sigint_as_at_a_terminal

ROOT = Path(__file__).resolve().parents[1]
OLD = {"analysis.json": "earlier analysis", "report.html": "earlier report"}


def _partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if is_partial(p))


def _earlier(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in OLD.items():
        (folder / name).write_text(text)


def _intact(folder: Path) -> bool:
    return all((folder / name).read_text() == text for name, text in OLD.items())


def test_write_atomic_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.csv"
    assert write_atomic(target, "one") == target
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.csv"]


def test_files_get_ordinary_permissions_without_touching_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "a.txt", "x")
        assert os.umask(0o027) == 0o027  # the helper left the process's umask alone
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o640


def test_staged_files_appear_together_or_not_at_all(tmp_path: Path) -> None:
    _earlier(tmp_path)
    with pytest.raises(ValueError, match="stop"), staged(tmp_path) as stage:
        stage.add("analysis.json", "new analysis")
        stage.add("report.html", "new report")
        raise ValueError("stop")
    assert _intact(tmp_path) and not _partials(tmp_path)
    with staged(tmp_path) as stage:
        stage.add("analysis.json", "new analysis")
        stage.add("report.html", "new report")
        assert (tmp_path / "analysis.json").read_text() == "earlier analysis"  # not before commit
        written = stage.commit()
    assert [p.name for p in written] == ["analysis.json", "report.html"]
    assert (tmp_path / "report.html").read_text() == "new report" and not _partials(tmp_path)


def test_a_reserved_name_keeps_its_extension_and_must_be_written(tmp_path: Path) -> None:
    with staged(tmp_path) as stage:
        tmp = stage.reserve("annotated.mp4")
        assert tmp.suffix == ".mp4" and tmp.parent == tmp_path and is_partial(tmp)
        with pytest.raises(FileNotFoundError, match="annotated.mp4"):
            stage.commit()
    with atomic_path(tmp_path / "track.npz") as tmp:
        tmp.write_bytes(b"npz")
    assert (tmp_path / "track.npz").read_bytes() == b"npz" and not _partials(tmp_path)


def test_a_write_that_fails_half_way_is_removed(tmp_path: Path) -> None:
    with pytest.raises(TypeError), staged(tmp_path) as stage:
        stage.add("a.bin", b"fine")
        stage.add("b.bin", 5)  # type: ignore[arg-type]  # the file is created, then the write fails
    assert not list(tmp_path.iterdir())


def test_sweep_removes_what_dead_or_old_writers_left_and_spares_live_ones(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    orphan = tmp_path / f".a.csv.{dead_pid}.0123456789ab.partial.csv"
    mine = partial_name(tmp_path / "b.csv")
    legacy = tmp_path / ".frames.csv.k2j4_x9a.partial"
    legacy_new = tmp_path / ".frames.csv.8fj3_k1z.partial"
    for p in (orphan, mine, legacy, legacy_new):
        p.write_text("x")
    day_ago = time.time() - STALE_AFTER_S - 60
    os.utime(legacy, (day_ago, day_ago))
    removed = sweep_partials(tmp_path)
    assert sorted(p.name for p in removed) == sorted([orphan.name, legacy.name])
    assert mine.exists() and legacy_new.exists()
    # A live writer's file is swept once it is a day old (process ids are reused).
    assert sweep_partials(tmp_path, now=time.time() + STALE_AFTER_S + 60) != []
    assert not _partials(tmp_path)


def test_threads_write_the_same_folder_without_losing_a_file(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            for j in range(20):
                with staged(tmp_path) as stage:
                    stage.add(f"t{k}.txt", f"{k}-{j}")
                    stage.add(f"u{k}.txt", f"{k}-{j}")
                    stage.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {
        f"{a}{k}.txt": f"{k}-19" for k in range(6) for a in "tu"
    }


# --- a full disk ----------------------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 kiB tmpfs: a real file system that fills up."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    run = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if run.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {run.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_keeps_the_earlier_result_and_no_partial(tiny_disk: Path) -> None:
    _earlier(tiny_disk)
    with pytest.raises(OSError) as info, staged(tiny_disk) as stage:
        stage.add("analysis.json", "new analysis")
        stage.add("frames.csv", b"0" * 2 * 1024 * 1024)  # twice the disk
        stage.commit()
    assert info.value.errno == 28  # ENOSPC
    assert _intact(tiny_disk)
    assert sorted(p.name for p in tiny_disk.iterdir()) == sorted(OLD)
    # The space came back: the same disk takes a result that fits.
    write_atomic(tiny_disk / "analysis.json", "new analysis")


# --- Ctrl-C and kill at set points ----------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys, time
    from balance.files import staged

    folder, point = sys.argv[1], sys.argv[2]

    def wait(here):
        if point == here:
            print("ready", flush=True)
            time.sleep(60)

    with staged(folder) as stage:
        stage.add("analysis.json", "new analysis")
        wait("staged")
        tmp = stage.reserve("report.html")
        with open(tmp, "w") as fh:
            fh.write("new rep")
            fh.flush()
            wait("writing")
            fh.write("ort")
        stage.commit()
    print("done", flush=True)
    """
)


def _child_at(folder: Path, point: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), point],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        preexec_fn=sigint_as_at_a_terminal,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


@pytest.mark.parametrize("point", ["staged", "writing"])
def test_ctrl_c_while_writing_leaves_the_earlier_result_and_no_partial(tmp_path: Path, point: str) -> None:
    _earlier(tmp_path)
    proc = _child_at(tmp_path, point)
    assert _partials(tmp_path)  # the child really was half-way
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    assert _intact(tmp_path) and not _partials(tmp_path)


@pytest.mark.parametrize("point", ["staged", "writing"])
def test_a_killed_writer_leaves_partials_that_the_next_write_sweeps(tmp_path: Path, point: str) -> None:
    _earlier(tmp_path)
    proc = _child_at(tmp_path, point)
    proc.kill()
    proc.communicate(timeout=30)
    assert _intact(tmp_path) and _partials(tmp_path)
    with staged(tmp_path) as stage:
        stage.add("analysis.json", "new analysis")
        stage.commit()
    assert not _partials(tmp_path)
    assert (tmp_path / "report.html").read_text() == "earlier report"


def test_an_undisturbed_writer_commits_everything(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path), "none"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=60,
    )
    assert run.stdout.strip() == "done", run.stderr
    assert (tmp_path / "report.html").read_text() == "new report" and not _partials(tmp_path)
