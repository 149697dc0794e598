"""The web app: `create_app(settings)` builds it from its routers (uploads and jobs, results, people, the
Record page), puts the one settings object, job queue and history on `app.state` for the routes'
dependencies (balance.web.deps), and wraps it in the Guard (token, session, CSRF, body limits).

Every route is a thin call into `services` or the job queue; library errors become the same one-line message
as on the command line, with the error's HTTP status, as a page (browsers) or JSON (scripts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from balance.errors import BalanceError
from balance.web import people, record, results, upload
from balance.web.jobs import JobManager
from balance.web.pages import HERE, problem
from balance.web.security import BodyTooLarge, Guard
from balance.web.services import History
from balance.web.settings import WebSettings


def create_app(settings: WebSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.jobs.close()

    app = FastAPI(title="balance", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.history = History(settings.db)
    app.state.jobs = JobManager(settings.data_dir / "jobs", workers=settings.workers, history=app.state.history)
    app.state.live = record.LiveSlots()
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in (upload.router, results.router, people.router, record.router):
        app.include_router(router)

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge) -> Response:
        return problem(request, 413, str(exc))

    @app.exception_handler(BalanceError)
    async def balance_error(request: Request, exc: BalanceError) -> Response:
        return problem(request, exc.http_status, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        words = {404: "there is nothing at this address", 405: "this address does not take that request"}
        # A route's own detail says more than the status's standard phrase ("Not Found").
        own = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else None
        return problem(request, exc.status_code, own or words.get(exc.status_code, str(exc.detail)))

    return Guard(app, settings)  # type: ignore[return-value]
