"""What a Dask worker runs for one clip: the analysis, and its result files written by the same writer as
`balance analyze` (into a private temporary folder), returned as bytes.

The worker never writes into the batch's output folder: the client writes each clip's files once, all or
nothing, so a worker that dies half-way (and the retry on another worker) cannot leave a partial result or
write one twice, and the workers need not share a file system with the output.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from balance.errors import BalanceError
from balance.pipeline import AnalysisOptions, analyze, analyze_pair


@dataclass(frozen=True)
class Outcome:
    """One clip's result as it comes back from a worker: files (name -> bytes) or the error."""

    ok: bool
    files: dict[str, bytes] = field(default_factory=dict)
    reason: str = ""  # the error's one line
    error: str = ""  # the error's class name, e.g. StanceError
    exit_code: int | None = None  # what `balance analyze` would have exited with
    seconds: float = 0.0  # wall time of the analysis and its files on the worker
    worker: str = ""  # host:pid, for the summary


def analyse_clip(
    path: str, options: AnalysisOptions, *, name: str | None, video: bool, side: str | None = None
) -> Outcome:
    """Analyse one clip (with `side`, a front and a side clip together) and render its result files; a
    BalanceError is an Outcome, not an exception."""
    # Imported here: the results stage (matplotlib, the video encoder) is needed only on workers.
    from balance.results.folder import write_results

    began = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        analysis = analyze(path, options) if side is None else analyze_pair(path, side, options)
        with tempfile.TemporaryDirectory(prefix="balance-batch-") as tmp:
            out = Path(tmp) / "out"
            written = write_results(analysis, out, video=video, name=name)
            files = {str(p.relative_to(out)): p.read_bytes() for p in written.files}
    except BalanceError as exc:
        return Outcome(
            False,
            reason=str(exc),
            error=type(exc).__name__,
            exit_code=exc.exit_code,
            seconds=time.perf_counter() - began,
            worker=worker,
        )
    return Outcome(True, files=files, seconds=time.perf_counter() - began, worker=worker)
