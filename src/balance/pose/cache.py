"""The pose cache: landmarks of clips already seen, one file per clip, model and setting, in a folder.

A cache is disposable: an entry that cannot be read is a miss (and is replaced), and a folder that cannot
be used turns the cache off for the run, with one warning, rather than failing an analysis.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class PoseCache:
    folder: Path

    @classmethod
    def open(cls, folder: Path) -> PoseCache | None:
        """The cache in `folder` (created if missing), or None, with one warning, if it cannot be written."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # os.access trusts permission bits only (and says yes to root): try a real file instead.
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            log.warning("the pose cache folder %s cannot be used (%s); running without the cache", folder, _why(exc))
            return None
        return cls(folder)

    def get(self, key: str, load: Callable[[Path], T]) -> T | None:
        """The stored value, or None when there is none or it is damaged (then it is removed)."""
        path = self.folder / key
        if not path.is_file():
            return None
        try:
            return load(path)
        except Exception as exc:  # noqa: BLE001 - truncated zip, garbage, pickled data, missing arrays: all a miss
            log.debug("pose cache entry %s is unreadable (%s); computing it again", path, exc)
            with contextlib.suppress(OSError):
                path.unlink()
            return None

    def put(self, key: str, save: Callable[[Path], None]) -> None:
        """Store a value; a failure (disk full, folder removed) costs only the cache, with one warning."""
        try:
            save(self.folder / key)
        except OSError as exc:
            log.warning("the pose result could not be cached in %s (%s)", self.folder, _why(exc))


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
