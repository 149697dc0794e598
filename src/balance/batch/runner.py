"""The client side of a batch: hash each clip, skip what an earlier run already did, submit one task per
clip to the Dask cluster, and write each result as it arrives.

Each clip's files go to `OUT/<clip stem>-<first 10 hex of its SHA-256>/` (clips with the same stem don't
collide) all or nothing: written into a hidden temporary folder, then renamed into place in one step,
together with `batch.json`, the key that makes a rerun skip the clip (its hash, balance's version and the
options that change the result). A worker that dies is replaced by the scheduler, which reruns its task
on another worker (up to `distributed.scheduler.allowed-failures` times, 3 by default); the client writes
whichever result arrives first, once.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from balance import __version__
from balance.assess.catalogue import reported_value
from balance.batch.inputs import ClipJob, Skipped, clip_sha256
from balance.batch.task import Outcome, analyse_clip
from balance.errors import BalanceError, StoreError
from balance.pipeline import AnalysisOptions
from balance.stance.trials import MIN_TRIAL_S

MARKER = "batch.json"
SHORT_HASH = 10  # hex digits in the folder name: 40 bits, no collision in any real batch
TEMP_SUFFIX = ".batch-tmp"


@dataclass(frozen=True)
class ClipResult:
    """One row of the batch summary."""

    clip: str
    status: str  # ok | skipped | failed
    reason: str = ""
    error: str = ""  # the error's name (StanceError, WorkerCrash, ...); exit_code: what `analyze` returns
    exit_code: int | None = None
    out: str = ""
    sha256: str = ""
    legs: tuple[str, ...] = ()
    holds_s: tuple[float, ...] = ()
    scores: tuple[float | None, ...] = ()
    seconds: float | None = None
    worker: str = ""
    history: str = ""


Progress = Callable[[ClipResult], None]


def result_key(sha: str, options: AnalysisOptions, side_sha: str | None = None) -> dict[str, Any]:
    """What makes a result reusable: the clip (and a two-view row's side clip), the tool's version and the options
    that change the result (not `workers` or `use_cache`, which change only how fast it comes)."""
    key: dict[str, Any] = {
        "clip_sha256": sha,
        "balance_version": __version__,
        "options": {"model": options.model, "height_cm": options.height_cm, "max_fps": options.max_fps},
    }
    if options.min_trial_s != MIN_TRIAL_S:
        key["options"]["min_trial_s"] = options.min_trial_s
    if side_sha is not None:
        key["side_clip_sha256"] = side_sha
    return key


def folder_name(path: Path, sha: str) -> str:
    return f"{path.stem}-{sha[:SHORT_HASH]}"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _document_fields(document: Any) -> dict[str, Any]:
    """Legs, holds and scores for the summary, from an analysis.json."""
    trials = document.get("trials", []) if isinstance(document, dict) else []
    scores = []
    for t in trials:
        score = t.get("score")
        scores.append(reported_value(score) if isinstance(score, dict) else score)
    return {
        "legs": tuple(str(t.get("stance_leg")) for t in trials),
        "holds_s": tuple(float(t.get("hold_s", 0.0)) for t in trials),
        "scores": tuple(scores),
    }


def publish(out: Path, name: str, files: dict[str, bytes], marker: dict[str, Any]) -> Path:
    """Put `files` and the marker into OUT/name as one step; an earlier folder of that name is replaced."""
    final = out / name
    tmp = out / f".{name}.{os.getpid()}{TEMP_SUFFIX}"
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        for rel, data in {**files, MARKER: (json.dumps(marker, indent=2) + "\n").encode()}.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if final.exists():
            old = out / f".{name}.{os.getpid()}.old{TEMP_SUFFIX}"
            os.rename(final, old)
            os.rename(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise StoreError(f"cannot write the results of {name} into {out} ({exc})", "Check the folder") from exc
    return final


def sweep(out: Path) -> None:
    """Remove temporary folders that killed batch processes left in OUT (their process no longer runs)."""
    for entry in out.glob(f".*{TEMP_SUFFIX}"):
        pid = entry.name[: -len(TEMP_SUFFIX)].removesuffix(".old").rsplit(".", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Planned:
    job: ClipJob
    sha: str
    options: AnalysisOptions
    folder: str
    side_sha: str | None = None  # a two-view row's side clip


class History:
    """Saves each named result into the history store, opened once for the batch."""

    def __init__(self, db: str | None, default_name: str | None, default_week: int | None) -> None:
        self.db, self.name, self.week = db, default_name, default_week
        self._store: Any = None

    def open_if_needed(self, jobs: Sequence[ClipJob]) -> None:
        if self.name or any(j.name for j in jobs):
            from balance.history.store import Store

            self._store = Store(self.db)  # a bad --db stops the batch before any clip runs

    def save(self, job: ClipJob, document: dict[str, Any]) -> str:
        name = job.name or self.name
        if not name or self._store is None:
            return ""
        try:
            result = self._store.add_analysis(
                document,
                name=name,
                recorded_on=date.today(),
                week=job.week or self.week,
                conditions=job.conditions,
                birth_year=job.birth_year,
            )
        except StoreError as exc:
            return f"not saved: {exc}"
        if not result.stored:
            return f"already in {result.person}'s history"
        return f"saved to {result.person}'s history ({result.trials} trial{'s' if result.trials != 1 else ''})"

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def plan(
    jobs: Sequence[ClipJob], out: Path, options: AnalysisOptions
) -> tuple[list[Planned], list[ClipResult], list[ClipResult]]:
    """Hash the clips: what to run, what an earlier run already did (skipped), and what cannot be read."""
    todo: list[Planned] = []
    done: list[ClipResult] = []
    unreadable: list[ClipResult] = []
    seen: dict[str, str] = {}
    for job in jobs:
        try:
            sha = clip_sha256(job.path)
            side_sha = None if job.side is None else clip_sha256(job.side)
        except OSError as exc:
            what = exc.filename or job.path
            unreadable.append(
                ClipResult(str(job.path), "failed", f"cannot read {what} ({exc.strerror})", "VideoError", 3)
            )
            continue
        if sha in seen:
            done.append(ClipResult(str(job.path), "skipped", f"the same clip as {seen[sha]}", sha256=sha))
            continue
        seen[sha] = str(job.path)
        clip_options = replace(options, height_cm=job.height_cm) if job.height_cm is not None else options
        name = folder_name(job.path, sha)
        marker = _read_json(out / name / MARKER)
        if marker == result_key(sha, clip_options, side_sha):
            fields = _document_fields(_read_json(out / name / "analysis.json"))
            reason = "already analysed (same clip, balance version and options)"
            done.append(ClipResult(str(job.path), "skipped", reason, out=name, sha256=sha, **fields))
        else:
            todo.append(Planned(job, sha, clip_options, name, side_sha))
    return todo, done, unreadable


def skipped_rows(skipped: Sequence[Skipped]) -> list[ClipResult]:
    return [ClipResult(str(s.path), "skipped", s.reason) for s in skipped]


@contextmanager
def connect(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A Dask client: to the scheduler at `scheduler`, else to a LocalCluster of worker processes (one
    single-threaded worker per core, or `workers`): the pose model is CPU-bound and not thread-safe to share."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise BalanceError(
                f"cannot reach the Dask scheduler at {scheduler} ({exc})",
                "Start one (dask scheduler) and its workers (dask worker ADDRESS), or leave --scheduler out",
            ) from exc
        with client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    with (
        LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield client


def run(
    client: Any,
    todo: Sequence[Planned],
    out: Path,
    *,
    video: bool,
    history: History,
    progress: Progress | None = None,
) -> list[ClipResult]:
    """Run the planned clips on the cluster; one ClipResult per clip, in the order they finish."""
    from distributed import as_completed

    futures = {
        client.submit(
            analyse_clip,
            str(p.job.path),
            replace(p.options, workers=1),  # parallel across clips, not inside one
            name=p.job.name or history.name,
            video=video,
            side=None if p.job.side is None else str(p.job.side),
            key=f"balance-clip-{p.sha[:16]}-{p.folder}-{time.time_ns()}",
            pure=False,
        ): p
        for p in todo
    }
    results = []
    for future in as_completed(futures):
        p = futures[future]
        result = _collect(future, p, out, history)
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def _collect(future: Any, p: Planned, out: Path, history: History) -> ClipResult:
    from distributed import KilledWorker

    clip = str(p.job.path)
    try:
        outcome: Outcome = future.result()
    except KilledWorker as exc:
        return ClipResult(
            clip,
            "failed",
            f"every worker that analysed it died ({exc}); a crash or running out of memory",
            "WorkerCrash",
            sha256=p.sha,
        )
    except Exception as exc:  # a bug or a worker-side failure that is not the input's fault
        line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return ClipResult(clip, "failed", f"{type(exc).__name__}: {line}", "InternalError", 1, sha256=p.sha)
    common: dict[str, Any] = {"sha256": p.sha, "seconds": round(outcome.seconds, 2), "worker": outcome.worker}
    if not outcome.ok:
        return ClipResult(clip, "failed", outcome.reason, outcome.error, outcome.exit_code, **common)
    publish(out, p.folder, outcome.files, result_key(p.sha, p.options, p.side_sha))
    document = json.loads(outcome.files["analysis.json"])
    saved = history.save(p.job, document)
    return ClipResult(clip, "ok", out=p.folder, history=saved, **_document_fields(document), **common)
