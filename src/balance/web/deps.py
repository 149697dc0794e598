"""What the routes are given (FastAPI `Depends`): the settings, the job queue, the history, the caller's
session, and a job looked up from the path. `create_app` puts the one instance of each on `app.state`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from starlette.requests import HTTPConnection

from balance.web.jobs import Job, JobManager
from balance.web.security import session_of
from balance.web.services import History
from balance.web.settings import WebSettings


def get_settings(conn: HTTPConnection) -> WebSettings:
    settings: WebSettings = conn.app.state.settings
    return settings


def get_jobs(conn: HTTPConnection) -> JobManager:
    jobs: JobManager = conn.app.state.jobs
    return jobs


def get_history(conn: HTTPConnection) -> History:
    history: History = conn.app.state.history
    return history


def get_client(conn: HTTPConnection) -> str:
    """The caller's session (set by the Guard): per-client limits, and whose recordings are whose."""
    return session_of(conn.scope)


Settings = Annotated[WebSettings, Depends(get_settings)]
Jobs = Annotated[JobManager, Depends(get_jobs)]
HistoryDep = Annotated[History, Depends(get_history)]
Client = Annotated[str, Depends(get_client)]


def get_job(job_id: str, jobs: Jobs) -> Job:
    """The job named in the path; 404 for an id that is not one (ids are hex: nothing else is looked up)."""
    job = jobs.get(job_id) if job_id.isalnum() else None
    if job is None:
        raise HTTPException(404)
    return job


JobDep = Annotated[Job, Depends(get_job)]
