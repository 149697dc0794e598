"""The web app's routes: home, upload, jobs (progress, cancel, result, downloads) and the person pages.

Every route is a thin call into `services` or the `jobs` manager; library errors become the same one-line
message as on the command line, with the error's HTTP status, as a page (browsers) or JSON (scripts).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import StreamingResponse

from balance import __version__
from balance.assess.catalogue import flag_words
from balance.errors import BalanceError, UsageError, VideoError
from balance.web import people, record, services
from balance.web.jobs import Job, JobManager
from balance.web.security import BodyTooLarge, Guard, form_value, result_file, session_of
from balance.web.settings import WebSettings

HERE = Path(__file__).resolve().parent
CHUNK = 1024 * 1024  # uploads are copied to disk a megabyte at a time, never held whole in memory
MAX_NAME, MAX_NOTES = 100, 2000
ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
ENV.filters["q"] = lambda s: quote(str(s), safe="")
ENV.globals.update(version=__version__, flag_words=flag_words)


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    page = ENV.get_template(template).render(csrf=request.scope["state"]["csrf"], request=request, **context)
    return HTMLResponse(page, status_code=status)


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def problem(request: Request, status: int, message: str) -> Response:
    """A user-facing error: one line, the same as the CLI's, with its status."""
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    return render(request, "error.html", status, message=message)


def create_app(settings: WebSettings) -> FastAPI:
    jobs_root = settings.data_dir / "jobs"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        manager.close()

    manager = JobManager(jobs_root, workers=settings.workers, db=settings.db)
    app = FastAPI(title="balance", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.jobs = manager
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge) -> Response:
        return problem(request, 413, str(exc))

    @app.exception_handler(BalanceError)
    async def balance_error(request: Request, exc: BalanceError) -> Response:
        return problem(request, exc.http_status, str(exc))

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        found = await run_in_threadpool(services.people, settings.db)
        return render(request, "home.html", people=found, jobs=manager.list()[:10])

    @app.get("/upload", response_class=HTMLResponse)
    async def upload_form(request: Request, name: str = "") -> Response:
        known = [p.name for p in await run_in_threadpool(services.people, settings.db)]
        week = await run_in_threadpool(services.week_now, settings.db, name) if name else None
        return render(request, "upload.html", known=known, name=name, week=week, settings=settings)

    @app.get("/upload/week")
    async def upload_week(name: str = "") -> Response:
        return JSONResponse({"week": await run_in_threadpool(services.week_now, settings.db, name) if name else None})

    @app.post("/upload")
    async def upload(request: Request) -> Response:
        client = session_of(request.scope)
        form = await request.form(max_files=settings.max_files_per_upload, max_fields=20, max_part_size=64 * 1024)
        try:
            fields = _fields(form)
            clips = [f for f in form.getlist("clips") if isinstance(f, UploadFile) and f.filename]
            if not clips:
                raise VideoError("no clip was sent", "Choose one or more video files")
            if manager.active_for(client) + len(clips) > settings.max_jobs_per_client:
                raise BusyError(
                    f"{len(clips)} more clip(s) would give you {manager.active_for(client) + len(clips)} waiting or "
                    f"being analysed, over the limit of {settings.max_jobs_per_client}",
                    "Wait for some to finish, or cancel some",
                )
            if manager.active_for() + len(clips) > settings.max_jobs_total:
                raise BusyError(
                    f"the server has {manager.active_for()} clips waiting or being analysed and takes at most "
                    f"{settings.max_jobs_total}",
                    "Try again in a few minutes",
                )
            staged: list[tuple[str, str, str]] = []
            try:
                for clip in clips:
                    staged.append(await _store(manager, clip))
            except BaseException:
                for job_id, _, _ in staged:  # one refused clip refuses the whole upload: nothing half-queued
                    shutil.rmtree(manager.folder(job_id), ignore_errors=True)
                raise
        except BalanceError as exc:
            return problem(request, exc.http_status, str(exc))
        finally:
            await form.close()
        made = [
            manager.submit(
                Job(
                    id=job_id, client=client, filename=filename, clip=clip, pose_workers=settings.pose_workers, **fields
                )
            )
            for job_id, filename, clip in staged
        ]
        if wants_json(request):
            return JSONResponse({"jobs": [{"id": j.id, "url": f"/jobs/{j.id}"} for j in made]}, status_code=202)
        return RedirectResponse(f"/jobs/{made[0].id}" if len(made) == 1 else "/jobs", status_code=303)

    @app.get("/jobs", response_class=HTMLResponse)
    async def job_list(request: Request) -> Response:
        return render(request, "jobs.html", jobs=manager.list())

    def _job(job_id: str) -> Job:
        job = manager.get(job_id) if job_id.isalnum() else None
        if job is None:
            raise HTTPException(404)
        return job

    @app.get("/jobs/{job_id}")
    async def job_page(request: Request, job_id: str) -> Response:
        job = _job(job_id)
        if wants_json(request):
            return JSONResponse(job.public(), status_code=job.status if job.state == "failed" else 200)
        if job.state == "failed":
            return render(request, "job.html", job.status, job=job)
        if job.state != "done":
            return render(request, "job.html", job=job, ahead=manager.position(job.id) if job.active else 0)
        doc = await run_in_threadpool(services.load_document, manager.results(job.id))
        files = {p.name for p in manager.results(job.id).iterdir()}
        return render(request, "result.html", job=job, doc=doc, files=files)

    @app.get("/jobs/{job_id}/events")
    async def job_events(request: Request, job_id: str) -> Response:
        job = _job(job_id)

        async def stream() -> AsyncIterator[str]:
            last = None
            while not await request.is_disconnected():
                now = manager.get(job.id)
                assert now is not None
                state = json.dumps(now.public())
                if state != last:
                    yield f"data: {state}\n\n"
                    last = state
                if not now.active:
                    return
                await asyncio.sleep(0.25)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"cache-control": "no-store"})

    @app.post("/jobs/{job_id}/cancel")
    async def cancel(request: Request, job_id: str) -> Response:
        job = await run_in_threadpool(manager.cancel, _job(job_id).id)
        if wants_json(request):
            return JSONResponse(job.public())
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    @app.get("/jobs/{job_id}/files/{name:path}")
    async def job_file(job_id: str, name: str) -> Response:
        job = _job(job_id)
        path = result_file(manager.results(job.id), name)
        if path is None:
            raise HTTPException(404)
        headers = {}
        if name == "report.html":
            # The report is one self-contained page: its own inline style and embedded images, nothing else.
            headers["content-security-policy"] = (
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; media-src 'self'; frame-ancestors 'none'"
            )
        download = name.endswith((".json", ".csv"))
        return FileResponse(path, headers=headers, filename=name if download else None)

    @app.get("/jobs/{job_id}/report.pdf")
    async def report_pdf(job_id: str) -> Response:
        job = _job(job_id)
        report = result_file(manager.results(job.id), "report.html")
        if report is None:
            raise HTTPException(404)
        pdf = await run_in_threadpool(people.print_pdf, report, manager.folder(job.id) / "report.pdf", settings)
        return FileResponse(pdf, media_type="application/pdf", filename="report.pdf")

    people.add_routes(app, settings, render)
    record.add_routes(app, settings, manager, render, problem, _fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        words = {404: "there is nothing at this address", 405: "this address does not take that request"}
        # A route's own detail says more than the status's standard phrase ("Not Found").
        own = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else None
        return problem(request, exc.status_code, own or words.get(exc.status_code, str(exc.detail)))

    return Guard(app, settings)  # type: ignore[return-value]


class BusyError(BalanceError):
    """One client has as many clips waiting as the server allows."""

    http_status = 429


def _fields(form: Any) -> dict[str, Any]:
    """The upload form's person, week, height and notes, checked as the CLI checks its options."""
    name = " ".join(form_value(form, "name").split())
    notes = form_value(form, "notes")
    if len(name) > MAX_NAME:
        raise UsageError(f"the name is longer than {MAX_NAME} characters", "Give a shorter name", option="name")
    if len(notes) > MAX_NOTES:
        raise UsageError(f"the notes are longer than {MAX_NOTES} characters", "Shorten them", option="notes")
    week = _number(form_value(form, "week"), "week", 1, 52, whole=True)
    height = _number(form_value(form, "height_cm"), "height", 80, 250, whole=False)
    if week is not None and not name:
        raise UsageError(
            "a week needs a name", "Give the person's name: the week belongs to their history", option="week"
        )
    return {"name": name, "week": None if week is None else int(week), "height_cm": height, "notes": notes}


def _number(text: str, what: str, lo: float, hi: float, *, whole: bool) -> float | None:
    if not text:
        return None
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        raise UsageError(f"{what} {text!r} is not a number", f"Give the {what} as a number", option=what) from None
    if not lo <= value <= hi:
        unit = " cm" if what == "height" else ""
        raise UsageError(f"{what} {value:g}{unit} is outside {lo:g}-{hi:g}", f"Give a plausible {what}", option=what)
    return value


async def _store(manager: JobManager, upload: UploadFile) -> tuple[str, str, str]:
    """Copy one uploaded clip into a new job folder under a name the server chooses, and check it is a video
    the library can read (the same check and message as `balance analyze`); a refused clip leaves nothing."""
    from balance.video.reader import probe

    job_id = manager.new_id()
    folder = manager.folder(job_id)
    # Only ever displayed (escaped): control characters out, length capped; never part of a path.
    filename = "".join(c for c in (upload.filename or "clip") if c.isprintable())[:200]
    target = folder / "clip"
    try:
        with target.open("wb") as out:
            while chunk := await upload.read(CHUNK):
                await run_in_threadpool(out.write, chunk)
        try:
            await run_in_threadpool(probe, target)
        except VideoError as exc:
            raise VideoError(exc.what.replace(str(target), filename), exc.todo) from exc
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return job_id, filename, target.name
