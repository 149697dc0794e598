"""Routes for uploads and jobs: the home page, the upload form and its week lookup, queueing clips, the
job list, a job's page (progress, or its result), its event stream and cancelling it."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import StreamingResponse

from balance.errors import BalanceError, UsageError, VideoError
from balance.pipeline import AnalysisOptions
from balance.web import results
from balance.web.deps import Client, HistoryDep, JobDep, Jobs, Settings
from balance.web.forms import form_value, job_fields, number
from balance.web.jobs import Job, JobManager, JobState
from balance.web.pages import problem, render, wants_json

CHUNK = 1024 * 1024  # uploads are copied to disk a megabyte at a time, never held whole in memory

router = APIRouter()


class BusyError(BalanceError):
    """One client has as many clips waiting as the server allows."""

    http_status = 429


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, history: HistoryDep, jobs: Jobs) -> Response:
    found = await run_in_threadpool(history.people)
    return render(request, "home.html", people=found, jobs=jobs.list()[:10])


@router.get("/upload", response_class=HTMLResponse)
async def upload_form(request: Request, settings: Settings, history: HistoryDep, name: str = "") -> Response:
    known = [p.name for p in await run_in_threadpool(history.people)]
    week = await run_in_threadpool(history.week_now, name) if name else None
    return render(request, "upload.html", known=known, name=name, week=week, settings=settings)


@router.get("/upload/week")
async def upload_week(history: HistoryDep, name: str = "") -> Response:
    return JSONResponse({"week": await run_in_threadpool(history.week_now, name) if name else None})


@router.post("/upload")
async def upload(request: Request, settings: Settings, jobs: Jobs, client: Client) -> Response:
    form = await request.form(max_files=settings.max_files_per_upload, max_fields=20, max_part_size=64 * 1024)
    try:
        fields = job_fields(form)
        clips = [f for f in form.getlist("clips") if isinstance(f, UploadFile) and f.filename]
        if not clips:
            raise VideoError("no clip was sent", "Choose one or more video files")
        side = form.get("side")
        side = side if isinstance(side, UploadFile) and side.filename else None
        min_trial_s = number(form_value(form, "min_trial_s"), "shortest hold", float, "min_trial_s")
        if min_trial_s is not None:
            fields["min_trial_s"] = AnalysisOptions(min_trial_s=min_trial_s).min_trial_s
        if side is not None and len(clips) != 1:
            raise UsageError(
                f"a side view pairs with one front view, and {len(clips)} clips were chosen",
                "Choose one front clip with the side clip, or leave the side view out",
                option="side",
            )
        if jobs.active_for(client) + len(clips) > settings.max_jobs_per_client:
            raise BusyError(
                f"{len(clips)} more clip(s) would give you {jobs.active_for(client) + len(clips)} waiting or "
                f"being analysed, over the limit of {settings.max_jobs_per_client}",
                "Wait for some to finish, or cancel some",
            )
        if jobs.active_for() + len(clips) > settings.max_jobs_total:
            raise BusyError(
                f"the server has {jobs.active_for()} clips waiting or being analysed and takes at most "
                f"{settings.max_jobs_total}",
                "Try again in a few minutes",
            )
        staged: list[tuple[str, str, str]] = []
        try:
            for clip in clips:
                staged.append(await _store(jobs, clip))
            if side is not None:
                fields["side_filename"] = await _copy(side, jobs.folder(staged[0][0]) / "side")
                fields["side"] = "side"
        except BaseException:
            for job_id, _, _ in staged:  # one refused clip refuses the whole upload: nothing half-queued
                shutil.rmtree(jobs.folder(job_id), ignore_errors=True)
            raise
    except BalanceError as exc:
        return problem(request, exc.http_status, str(exc))
    finally:
        await form.close()
    made = [
        jobs.submit(
            Job(id=job_id, client=client, filename=filename, clip=clip, pose_workers=settings.pose_workers, **fields)
        )
        for job_id, filename, clip in staged
    ]
    if wants_json(request):
        return JSONResponse({"jobs": [{"id": j.id, "url": f"/jobs/{j.id}"} for j in made]}, status_code=202)
    return RedirectResponse(f"/jobs/{made[0].id}" if len(made) == 1 else "/jobs", status_code=303)


@router.get("/jobs", response_class=HTMLResponse)
async def job_list(request: Request, jobs: Jobs) -> Response:
    return render(request, "jobs.html", jobs=jobs.list())


@router.get("/jobs/{job_id}")
async def job_page(request: Request, job: JobDep, jobs: Jobs) -> Response:
    """The job as JSON (scripts); as a page: its progress, why it failed, or its result."""
    if wants_json(request):
        return JSONResponse(job.public(), status_code=job.status if job.state is JobState.FAILED else 200)
    if job.state is JobState.FAILED:
        return render(request, "job.html", job.status, job=job)
    if job.state is not JobState.DONE:
        return render(request, "job.html", job=job, ahead=jobs.position(job.id) if job.active else 0)
    return await results.result_page(request, job, jobs)


@router.get("/jobs/{job_id}/events")
async def job_events(request: Request, job: JobDep, jobs: Jobs) -> Response:
    """The job's state as server-sent events, one each time it changes, until it is no longer active."""

    async def stream() -> AsyncIterator[str]:
        last = None
        while not await request.is_disconnected():
            now = jobs.get(job.id)
            assert now is not None
            state = json.dumps(now.public())
            if state != last:
                yield f"data: {state}\n\n"
                last = state
            if not now.active:
                return
            await asyncio.sleep(0.25)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"cache-control": "no-store"})


@router.post("/jobs/{job_id}/cancel")
async def cancel(request: Request, job: JobDep, jobs: Jobs) -> Response:
    cancelled = await run_in_threadpool(jobs.cancel, job.id)
    if wants_json(request):
        return JSONResponse(cancelled.public())
    return RedirectResponse(f"/jobs/{cancelled.id}", status_code=303)


async def _store(jobs: JobManager, upload: UploadFile) -> tuple[str, str, str]:
    """Copy one uploaded clip into a new job folder under a name the server chooses (see _copy); a refused clip
    leaves nothing. Returns (job id, the name shown, the file's name)."""
    job_id = jobs.new_id()
    folder = jobs.folder(job_id)
    try:
        filename = await _copy(upload, folder / "clip")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return job_id, filename, "clip"


async def _copy(upload: UploadFile, target: Path) -> str:
    """Copy an uploaded clip to `target` and check it is a video the library can read (the same check and
    message as `balance analyze`); returns the client's name for it, only ever displayed (escaped)."""
    from balance.video.reader import probe

    # Control characters out, length capped; never part of a path.
    filename = "".join(c for c in (upload.filename or "clip") if c.isprintable())[:200]
    with target.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            await run_in_threadpool(out.write, chunk)
    try:
        await run_in_threadpool(probe, target)
    except VideoError as exc:
        raise VideoError(exc.what.replace(str(target), filename), exc.todo) from exc
    return filename
