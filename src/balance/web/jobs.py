"""Analysis jobs: a queue, a bounded pool of worker processes, progress, cancel, and recovery after a restart.

Each job is a folder `jobs/<id>/` holding `job.json` (its state, rewritten atomically on every change), the
uploaded clip, and `results/` once done. Analyses run in `balance.web.worker` processes, never in the server;
the history write after a successful analysis happens here, in the server, through the one writer
(`services.History.save`), and the results folder appears only after it succeeded: nothing is half-saved.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from balance.errors import BalanceError
from balance.files import write_atomic
from balance.history.model import Conditions
from balance.history.save import SaveOptions
from balance.stance.trials import MIN_TRIAL_S
from balance.web import services
from balance.web.worker import ERROR, STAGING

RESULTS = "results"


class JobState(StrEnum):
    """Where a job is: queued -> running -> done, failed or cancelled (a cancel may come while queued)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self in (JobState.QUEUED, JobState.RUNNING)


STAGE_WORDS = {
    "queued": "waiting for a free worker",
    "starting": "starting the analysis",
    "pose": "finding the body in each frame",
    "results": "measuring sway and drawing the annotated video and plots",
    "history": "saving to the history",
}
INTERRUPTED = "the server stopped while this clip was being analysed. Upload the clip again"


@dataclass(frozen=True)
class Job:
    id: str
    client: str  # the session that uploaded it: per-client queue limits
    filename: str  # as the client named it: shown (escaped), never used as a path
    clip: str  # the server's own file name inside the job folder
    name: str = ""
    week: int | None = None
    height_cm: float | None = None
    notes: str = ""
    eyes: str = ""  # the test's conditions, as the form gave them ("" not recorded)
    surface: str = ""
    birth_year: int | None = None  # from the form's age: the person's, for the age references
    pose_workers: int | None = None
    legs: tuple[str, ...] = ()  # the legs a recorded test asked for (the analysis notes a disagreement)
    side: str = ""  # two cameras: the side view's file name inside the job folder ("" one camera)
    side_filename: str = ""  # as the client named the side clip
    min_trial_s: float = MIN_TRIAL_S
    state: JobState = JobState.QUEUED
    stage: str = "queued"
    done: int = 0
    total: int = 0
    message: str = ""  # the one-line error, or what the history said
    status: int = 200  # the HTTP status of a failed job's message
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None

    def __post_init__(self) -> None:
        # job.json holds plain strings and lists: the types come back here.
        object.__setattr__(self, "state", JobState(self.state))
        object.__setattr__(self, "legs", tuple(self.legs))

    @property
    def active(self) -> bool:
        return self.state.active

    def save_options(self) -> SaveOptions:
        """Whose history the result goes into (the job has a name: checked when it was queued)."""
        return SaveOptions(
            self.name,
            self.week,
            conditions=Conditions(self.eyes, self.surface),
            notes=self.notes,
            birth_year=self.birth_year,
        )

    def public(self) -> dict[str, Any]:
        """What the page and the event stream show (no client id)."""
        hidden = ("client", "clip", "pose_workers", "legs", "side")
        out = {k: v for k, v in asdict(self).items() if k not in hidden}
        out["stage_words"] = STAGE_WORDS.get(self.stage, self.stage)
        return out


class JobManager:
    """Owns every job: create, list, cancel; runs them `workers` at a time."""

    def __init__(self, root: Path, *, workers: int, history: services.History) -> None:
        self.root = root
        self.history = history
        root.mkdir(parents=True, exist_ok=True)
        self._jobs: dict[str, Job] = {}
        self._procs: dict[str, subprocess.Popen[str]] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._recover()
        self._threads = [threading.Thread(target=self._run, daemon=True, name=f"job-{i}") for i in range(workers)]
        for t in self._threads:
            t.start()

    # --- the job folder ---------------------------------------------------------------------------

    def folder(self, job_id: str) -> Path:
        return self.root / job_id

    def results(self, job_id: str) -> Path:
        return self.folder(job_id) / RESULTS

    def _save(self, job: Job) -> Job:
        write_atomic(self.folder(job.id) / "job.json", json.dumps(asdict(job)))
        self._jobs[job.id] = job
        return job

    def _update(self, job_id: str, **changes: Any) -> Job:
        with self._lock:
            return self._save(replace(self._jobs[job_id], **changes))

    def _recover(self) -> None:
        """Read the jobs of an earlier run: an analysis it was running is failed with the reason; its
        queued ones queue again; a half-written results folder is removed."""
        for path in sorted(self.root.glob("*/job.json"), key=lambda p: p.stat().st_mtime):
            try:
                job = Job(**json.loads(path.read_text()))
            except (OSError, ValueError, TypeError):
                continue  # not a job folder this version can read: left alone
            shutil.rmtree(path.parent / STAGING, ignore_errors=True)
            if job.state is JobState.RUNNING:
                job = replace(
                    job, state=JobState.FAILED, stage="failed", message=INTERRUPTED, status=500, finished=time.time()
                )
            self._save(job)
            if job.state is JobState.QUEUED:
                self._queue.put(job.id)

    # --- public ---------------------------------------------------------------------------------------

    def new_id(self) -> str:
        job_id = uuid.uuid4().hex
        self.folder(job_id).mkdir(parents=True)
        return job_id

    def submit(self, job: Job) -> Job:
        with self._lock:
            self._save(job)
        self._queue.put(job.id)
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def list(self) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)

    def active_for(self, client: str | None = None) -> int:
        """Jobs queued or running: one client's, or everyone's."""
        return sum(1 for j in self._jobs.values() if j.active and client in (None, j.client))

    def position(self, job_id: str) -> int:
        """How many queued jobs are ahead of this one."""
        job = self._jobs[job_id]
        return sum(1 for j in self._jobs.values() if j.state is JobState.QUEUED and j.created < job.created)

    def cancel(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs[job_id]
            if not job.active:
                return job
            proc = self._procs.get(job_id)
            job = self._save(replace(job, state=JobState.CANCELLED, stage="cancelled", finished=time.time()))
        if proc is not None:
            _stop(proc)
        return job

    def close(self) -> None:
        """Stop the runners and every analysis still running (server shutdown)."""
        for _ in self._threads:
            self._queue.put(None)
        with self._lock:
            procs = list(self._procs.values())
        for proc in procs:
            _stop(proc)

    # --- the runners ----------------------------------------------------------------------------------

    def _run(self) -> None:
        while (job_id := self._queue.get()) is not None:
            with self._lock:
                job = self._jobs.get(job_id)
                if job is None or job.state is not JobState.QUEUED:
                    continue
                job = self._save(replace(job, state=JobState.RUNNING, stage="starting", started=time.time()))
                with (self.folder(job_id) / "worker.log").open("w") as log:
                    proc = subprocess.Popen(
                        [sys.executable, "-m", "balance.web.worker", str(self.folder(job_id))],
                        stdout=subprocess.PIPE,
                        stderr=log,
                        text=True,
                        start_new_session=True,  # its own process group: cancel stops its pose processes too
                    )
                self._procs[job_id] = proc
            try:
                self._follow(job_id, proc)
            finally:
                with self._lock:
                    self._procs.pop(job_id, None)

    def _follow(self, job_id: str, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                step = json.loads(line)
            except ValueError:
                continue
            if self._jobs[job_id].state is JobState.RUNNING:
                self._update(job_id, stage=step["stage"], done=step["done"], total=step["total"])
        code = proc.wait()
        folder = self.folder(job_id)
        if self._jobs[job_id].state is not JobState.RUNNING:  # cancelled meanwhile
            shutil.rmtree(folder / STAGING, ignore_errors=True)
            return
        if code != 0:
            shutil.rmtree(folder / STAGING, ignore_errors=True)
            self._fail(job_id, folder / ERROR, code)
            return
        self._finish(job_id)

    def _fail(self, job_id: str, error: Path, code: int) -> None:
        try:
            info = json.loads(error.read_text())
            message, status = str(info["message"]), int(info["status"])
        except (OSError, ValueError, KeyError):
            message, status = f"the analysis stopped unexpectedly (exit code {code}). Try again", 500
        self._update(
            job_id, state=JobState.FAILED, stage="failed", message=message, status=status, finished=time.time()
        )

    def _finish(self, job_id: str) -> None:
        job = self._jobs[job_id]
        folder = self.folder(job_id)
        message = ""
        try:
            if job.name:
                self._update(job_id, stage="history")
                doc = services.load_document(folder / STAGING)
                message = self.history.save(doc, job.save_options())
            os.replace(folder / STAGING, folder / RESULTS)  # the whole results folder appears at once
        except BalanceError as exc:
            shutil.rmtree(folder / STAGING, ignore_errors=True)
            self._update(
                job_id,
                state=JobState.FAILED,
                stage="failed",
                message=str(exc),
                status=exc.http_status,
                finished=time.time(),
            )
            return
        self._update(job_id, state=JobState.DONE, stage="done", message=message, finished=time.time())


def _stop(proc: subprocess.Popen[str]) -> None:
    """End a worker and the pose processes it started (its process group)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
