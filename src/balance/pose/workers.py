"""The pose processes: how many a clip gets, and each time chunk run in its own `python -m balance.pose.estimate`
process (balance.pose.estimate says what a chunk is and assembles their results)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from balance.config import settings

log = logging.getLogger(__name__)

# Two processes from 6 s on (two cores): the second one's start runs beside the first's, and its chunk with its
# warm-up is at most 2/3 of the clip; more CPU, less wait (benchmarks/README.md, issue 20).
MIN_PARALLEL_S = 6.0
# Peak resident memory of one pose process: 345 MiB measured with /usr/bin/time on a 1080p clip, full model.
WORKER_MEMORY = 400 * 2**20


def worker_count(requested: int | None, duration_s: float, *, warn: bool = True) -> int:
    """Pose processes for a clip: as asked, but never more than the cores or the free memory can run at once,
    with a warning when fewer than asked (`warn`: the call that runs them says it, once).

    More processes than cores only queue for them (issue 12: 100 workers ran 10x slower and filled 18 GB).
    """
    cores = os.cpu_count() or 1
    if requested is None:
        return min(2, cores) if duration_s >= MIN_PARALLEL_S else 1
    free = available_memory()
    by_memory = max(1, int(free // WORKER_MEMORY)) if free is not None else requested
    allowed = min(requested, cores, by_memory)
    if allowed < requested and warn:
        why = f"{cores} cores" if allowed == cores or free is None else f"{free / 2**30:.1f} GB of free memory"
        log.warning("running %d pose processes, not %d: this machine has %s", allowed, requested, why)
    return allowed


def available_memory() -> float | None:
    """Bytes of memory the system can still give out (Linux MemAvailable); None where it is not known."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class Workers:
    """Each chunk in its own `python -m balance.pose.estimate` process, its frames counted as they are analysed.

    Plain subprocesses rather than multiprocessing: spawn-based pools re-import the caller's main
    module, which breaks any script without an `if __name__ == "__main__"` guard.
    """

    def __init__(self, chunks: list[str]) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="balance-pose-")
        self._outs = [Path(self._tmp.name) / f"chunk{i}.npz" for i in range(len(chunks))]
        debug = settings().debug
        self._procs = [
            subprocess.Popen(
                [sys.executable, "-m", "balance.pose.estimate", c, str(out)],
                stdout=subprocess.PIPE,
                stderr=None if debug else subprocess.DEVNULL,
                text=True,
            )
            for c, out in zip(chunks, self._outs, strict=True)
        ]
        self._counts = [0] * len(chunks)
        self._readers = [threading.Thread(target=self._follow, args=(i,), daemon=True) for i in range(len(chunks))]
        for r in self._readers:
            r.start()

    def _follow(self, i: int) -> None:
        stream = self._procs[i].stdout
        assert stream is not None
        for _ in stream:  # one line per analysed frame
            self._counts[i] += 1

    def collect(self, expected: int, progress: Callable[[int, int], None] | None) -> list[dict[str, np.ndarray]]:
        """Wait for every chunk and return its arrays, in clip order; the processes and their files go after."""
        try:
            while any(r.is_alive() for r in self._readers):
                for r in self._readers:
                    r.join(timeout=0.25)
                if progress is not None:
                    progress(sum(self._counts), expected)
            codes = [p.wait() for p in self._procs]
            if any(codes):
                raise RuntimeError(f"pose worker failed (exit codes {codes}); rerun with BALANCE_DEBUG=1 to see why")
            parts = []
            for out in self._outs:
                with np.load(out) as data:
                    parts.append({k: data[k] for k in data.files})
            return parts
        finally:
            self.close()

    def close(self) -> None:
        for p in self._procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        self._tmp.cleanup()
