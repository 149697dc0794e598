"""The person pages: history table, trend chart, left/right symmetry, programme, exports, deleting a session;
and the report as PDF (Chromium's print-to-PDF of the report page, with its print CSS).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from balance.errors import ResultsError, UsageError
from balance.web import services
from balance.web.security import form_value
from balance.web.settings import WebSettings

PDF_TIMEOUT_S = 90
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--no-pdf-header-footer",
)


def add_routes(app: FastAPI, settings: WebSettings, render: Callable[..., Response]) -> None:
    db = settings.db

    async def _view(name: str) -> services.PersonView:
        view = await run_in_threadpool(services.person, db, name)
        if view is None:
            raise HTTPException(
                404,
                f"no one called {' '.join(name.split())!r} in the history. Check the spelling, or start with New test",
            )
        return view

    @app.get("/person")
    async def person_page(request: Request, name: str = "") -> Response:
        view = await _view(name)
        sessions: dict[int, list[Any]] = {}
        for r in view.records:
            sessions.setdefault(r.session_id, []).append(r)
        return render(request, "person.html", view=view, sessions=sessions, today=date.today())

    @app.get("/person/trend.png")
    async def trend(name: str = "") -> Response:
        view = await _view(name)
        png = await run_in_threadpool(services.trend_png, view)
        return Response(png, media_type="image/png", headers={"cache-control": "no-store"})

    @app.get("/person/export.{fmt}")
    async def export(fmt: str, name: str = "") -> Response:
        if fmt not in ("csv", "json"):
            raise HTTPException(404)
        view = await _view(name)
        body = await run_in_threadpool(services.export, view, fmt)
        safe = "".join(c if c.isalnum() else "_" for c in view.name)[:60] or "person"
        media = "text/csv" if fmt == "csv" else "application/json"
        return Response(body, media_type=media, headers={"content-disposition": f'attachment; filename="{safe}.{fmt}"'})

    @app.get("/person/delete")
    async def confirm_delete(request: Request, name: str = "", session: int = 0) -> Response:
        view = await _view(name)
        rows = [r for r in view.records if r.session_id == session]
        if not rows:
            raise HTTPException(404)
        return render(request, "confirm.html", view=view, rows=rows, session=session)

    @app.post("/person/delete")
    async def delete(request: Request, name: str = "", session: int = 0) -> Response:
        view = await _view(name)
        await run_in_threadpool(services.delete_session, db, view.name, session)
        return RedirectResponse(f"/person?name={_q(view.name)}", status_code=303)

    @app.post("/person/programme")
    async def programme(request: Request, name: str = "") -> Response:
        form = await request.form()
        weeks_text, start_text = form_value(form, "weeks"), form_value(form, "start")
        if not weeks_text.isdigit() or not 1 <= int(weeks_text) <= 52:
            raise UsageError(f"{weeks_text or 'no'} weeks is not a programme length", "Give 1-52 weeks", option="weeks")
        try:
            start = date.fromisoformat(start_text) if start_text else date.today()
        except ValueError:
            raise UsageError(f"{start_text!r} is not a date", "Give the start as YYYY-MM-DD", option="start") from None
        if not " ".join(name.split()):
            raise UsageError("no name was given", "Give the person's name", option="name")
        started = await run_in_threadpool(services.start_programme, db, name, int(weeks_text), start)
        return RedirectResponse(f"/person?name={_q(started.person)}", status_code=303)


def _q(text: str) -> str:
    return quote(text, safe="")


def print_pdf(report: Path, out: Path, settings: WebSettings) -> Path:
    """The report page printed to PDF by headless Chromium (A4, the report's print CSS); made once per job."""
    if out.is_file():
        return out
    chromium = settings.chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise ResultsError(
            "the PDF needs Chromium, which is not installed on the server",
            "Download the report page and print it from the browser, or install chromium (scripts/install_chromium.sh)",
        )
    with tempfile.TemporaryDirectory(prefix="balance-pdf-") as profile:
        tmp = out.with_name(f".{out.name}.partial")
        cmd = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--print-to-pdf={tmp}",
            report.resolve().as_uri(),
        ]
        try:
            subprocess.run(cmd, capture_output=True, timeout=PDF_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            tmp.unlink(missing_ok=True)
            raise ResultsError("Chromium did not print the report in time", "Try again in a minute") from None
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise ResultsError("Chromium could not print the report", "Download the report page and print it instead")
        os.replace(tmp, out)
    return out
