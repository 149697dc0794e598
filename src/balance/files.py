"""Atomic file writing: a file appears whole under its name or not at all, whatever happens meanwhile.

    write_atomic(path, data)                 # one file
    with staged(folder) as stage:            # several files, all or none
        stage.add("analysis.json", text)
        encoder(stage.reserve("annotated.mp4"))   # a writer that wants a file name of its own
        stage.commit()                       # without commit (an error, Ctrl-C), nothing appears
    with atomic_path(path) as tmp: np.savez(tmp, ...)  # one file written by a library

Each file is written under a hidden temporary name in the target's own folder, `.NAME.PID.TOKEN.partial.EXT`
(same file system, so the final rename is atomic; the extension stays because OpenCV and numpy pick the
format from it), and renamed over the target when complete. A write that fails (disk full, Ctrl-C) removes
its temporary file; a process killed outright (SIGKILL, power loss) leaves one, and the next write into the
same folder sweeps it: its owner process is gone, or it is older than a day.

Files are created with mode 0o666 less the umask (the kernel applies it; nothing changes the process-wide
umask), so the helpers are safe to call from the threads of a web server. Errors are the `OSError` of the
failing call; callers say what could not be written.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

# A temporary file this old is abandoned even if a process with its owner's id exists (ids are reused).
STALE_AFTER_S = 24 * 3600.0
PARTIAL = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.(?P<token>[0-9a-f]{12})\.partial(\.[^.]*)?$")
# The temporary names of the tool's earlier versions (tempfile.mkstemp, no owner id): swept by age only.
LEGACY_PARTIAL = re.compile(r"^\..+\.partial(\.[^.]*)?$")


def partial_name(target: Path) -> Path:
    """A fresh temporary name for `target`, in its folder, naming this process as its owner."""
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(6)}.partial{target.suffix}")


def is_partial(path: Path) -> bool:
    return bool(PARTIAL.match(path.name) or LEGACY_PARTIAL.match(path.name))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def sweep_partials(folder: Path, *, now: float | None = None) -> list[Path]:
    """Remove the temporary files that earlier, killed writers left in `folder`; returns what was removed.

    A temporary file is abandoned when its owner process no longer runs, or when it is older than
    STALE_AFTER_S. Files of live writers (other threads, other processes) are left alone.
    """
    removed: list[Path] = []
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(".") or not is_partial(Path(entry.name)):
            continue
        match = PARTIAL.match(entry.name)
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER_S
            if old or (match is not None and not _alive(int(match["pid"]))):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except FileNotFoundError:  # another sweeper was first
            continue
    return removed


def _create(tmp: Path, data: bytes, mode: int = 0o666) -> None:
    # O_EXCL: a fresh file, never someone else's; `mode` less the umask (0o666: as open() makes ordinary files).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _unlink_all(paths: list[Path]) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def write_atomic(path: Path | str, data: bytes | str, *, mode: int = 0o666) -> Path:
    """Write `data` (str as UTF-8) to `path` all or nothing, replacing any earlier file; `mode` (less the
    umask) from its first byte: 0o600 keeps a private key private while it is written."""
    with staged(Path(path).parent) as stage:
        stage.add(Path(path).name, data, mode=mode)
        return stage.commit()[0]


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """A temporary name for a library that writes `path` itself; renamed to `path` when the block ends
    without an error, removed otherwise."""
    with staged(Path(path).parent) as stage:
        tmp = stage.reserve(Path(path).name)
        yield tmp
        stage.commit()


class Staging:
    """Files staged under temporary names in one folder, published together by `commit` or not at all.

    Use it through `staged(folder)`: leaving the block without `commit` (an error, Ctrl-C) removes every
    temporary file. Each staged path is remembered before its file is created, so a write that fails
    half-way is removed too.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._staged: dict[str, Path] = {}
        self._committed = False

    def reserve(self, name: str) -> Path:
        """A temporary path for `name`, for a writer that creates the file itself (an encoder, numpy)."""
        if self._committed:
            raise RuntimeError("this staging was already committed")
        if name in self._staged:
            _unlink_all([self._staged[name]])
        tmp = partial_name(self.folder / name)
        self._staged[name] = tmp
        return tmp

    def add(self, name: str, data: bytes | str, *, mode: int = 0o666) -> Path:
        """Write `name`'s content to its temporary file now."""
        tmp = self.reserve(name)
        _create(tmp, data.encode() if isinstance(data, str) else data, mode)
        return tmp

    @property
    def names(self) -> list[str]:
        return list(self._staged)

    def commit(self) -> list[Path]:
        """Rename every staged file to its name, in the order staged; returns the final paths.

        A reserved name whose file was never written is an error (nothing is published). Ctrl-C is held
        off during the renames (well under a millisecond), so the folder never mixes old and new files;
        one pressed then is dropped, as the work it meant to stop is complete.
        """
        missing = [name for name, tmp in self._staged.items() if not tmp.exists()]
        if missing:
            raise FileNotFoundError(errno.ENOENT, f"staged file never written: {', '.join(missing)}")
        finals = [self.folder / name for name in self._staged]
        with _signals_held():
            for (_, tmp), final in zip(self._staged.items(), finals, strict=True):
                os.replace(tmp, final)
            self._committed = True
        return finals

    def discard(self) -> None:
        if not self._committed:
            _unlink_all(list(self._staged.values()))
            self._staged.clear()


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    # Only the main thread runs Python's signal handlers; other threads are never interrupted by Ctrl-C.
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        if signal.SIGINT not in old and signal.SIGINT in signal.sigpending():
            signal.sigtimedwait({signal.SIGINT}, 0)
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def staged(folder: Path | str) -> Iterator[Staging]:
    """`with staged(folder) as stage:` creates the folder, sweeps abandoned temporary files, and removes
    every staged file that was not committed when the block ends."""
    stage = Staging(Path(folder))
    stage.folder.mkdir(parents=True, exist_ok=True)
    sweep_partials(stage.folder)
    try:
        yield stage
    finally:
        stage.discard()
