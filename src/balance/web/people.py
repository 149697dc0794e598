"""Routes for the person pages: history table, trend chart, left/right symmetry, programme, exports and
deleting a session."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from balance.errors import UsageError
from balance.history.save import birth_year_for, check_programme_weeks
from balance.web import services
from balance.web.deps import HistoryDep
from balance.web.forms import number
from balance.web.pages import q, render
from balance.web.security import form_value

router = APIRouter(prefix="/person")


async def get_person(history: HistoryDep, name: str = "") -> services.PersonView:
    """The person named in the query, from the history; 404 with what to do when there is no one by that name."""
    view = await run_in_threadpool(history.person, name)
    if view is None:
        raise HTTPException(
            404, f"no one called {' '.join(name.split())!r} in the history. Check the spelling, or start with New test"
        )
    return view


Person = Annotated[services.PersonView, Depends(get_person)]


@router.get("")
async def person_page(request: Request, view: Person) -> Response:
    sessions: dict[int, list[Any]] = {}
    for r in view.records:
        sessions.setdefault(r.session_id, []).append(r)
    return render(request, "person.html", view=view, sessions=sessions, today=date.today())


@router.get("/trend.png")
async def trend(view: Person) -> Response:
    png = await run_in_threadpool(services.trend_png, view)
    return Response(png, media_type="image/png", headers={"cache-control": "no-store"})


@router.get("/export.{fmt}")
async def export(fmt: str, history: HistoryDep, name: str = "") -> Response:
    if fmt not in ("csv", "json"):
        raise HTTPException(404)
    view = await get_person(history, name)
    body = await run_in_threadpool(services.export, view, fmt)
    safe = "".join(c if c.isalnum() else "_" for c in view.name)[:60] or "person"
    media = "text/csv" if fmt == "csv" else "application/json"
    return Response(body, media_type=media, headers={"content-disposition": f'attachment; filename="{safe}.{fmt}"'})


@router.get("/delete")
async def confirm_delete(request: Request, view: Person, session: int = 0) -> Response:
    rows = [r for r in view.records if r.session_id == session]
    if not rows:
        raise HTTPException(404)
    return render(request, "confirm.html", view=view, rows=rows, session=session)


@router.post("/delete")
async def delete(view: Person, history: HistoryDep, session: int = 0) -> Response:
    await run_in_threadpool(history.delete_session, view.name, session)
    return RedirectResponse(f"/person?name={q(view.name)}", status_code=303)


@router.post("/age")
async def age(request: Request, history: HistoryDep, name: str = "") -> Response:
    """The person's age (kept as the birth year) for the age references; a blank age forgets it."""
    form = await request.form()
    born = birth_year_for(number(form_value(form, "age"), "age", int))
    if not " ".join(name.split()):
        raise UsageError("no name was given", "Give the person's name", option="name")
    person = await run_in_threadpool(history.set_birth_year, name, born)
    return RedirectResponse(f"/person?name={q(person)}", status_code=303)


@router.post("/programme")
async def programme(request: Request, history: HistoryDep, name: str = "") -> Response:
    form = await request.form()
    weeks_text, start_text = form_value(form, "weeks"), form_value(form, "start")
    weeks = number(weeks_text, "programme length", int, "weeks")
    if weeks is None:
        raise UsageError("no programme length was given", "Give the number of weeks", option="weeks")
    check_programme_weeks(weeks)
    try:
        start = date.fromisoformat(start_text) if start_text else date.today()
    except ValueError:
        raise UsageError(f"{start_text!r} is not a date", "Give the start as YYYY-MM-DD", option="start") from None
    if not " ".join(name.split()):
        raise UsageError("no name was given", "Give the person's name", option="name")
    started = await run_in_threadpool(history.start_programme, name, weeks, start)
    return RedirectResponse(f"/person?name={q(started.person)}", status_code=303)
