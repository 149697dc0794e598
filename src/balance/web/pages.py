"""How the routes answer: a page from the templates, or JSON for a script (an `Accept: application/json`
request); a user-facing error as one line, the same as the CLI's, with its HTTP status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from balance import __version__
from balance.assess.catalogue import HOLD_ENDED, WOBBLE_NOT_JUDGED, flag_words, no_flags
from balance.history import save
from balance.live import options as live
from balance.pipeline import MAX_HEIGHT_CM, MIN_HEIGHT_CM

HERE = Path(__file__).resolve().parent
ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
ENV.filters["q"] = lambda s: quote(str(s), safe="")
# The forms' input limits, so the browser refuses what the library would (the library still checks).
LIMITS = {
    "name": save.MAX_NAME,
    "notes": save.MAX_NOTES,
    "week": (save.MIN_WEEK, save.MAX_WEEK),
    "age": (save.MIN_AGE, save.MAX_AGE),
    "height_cm": (MIN_HEIGHT_CM, MAX_HEIGHT_CM),
    "duration_s": (live.MIN_DURATION_S, live.MAX_DURATION_S),
    "default_duration_s": live.DEFAULT_DURATION_S,
}
ENV.globals.update(
    version=__version__,
    flag_words=flag_words,
    no_flags=no_flags,
    hold_ended=HOLD_ENDED,
    wobble_not_judged=WOBBLE_NOT_JUDGED,
    limits=LIMITS,
)


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


def q(text: str) -> str:
    """`text` as one URL query value."""
    return quote(text, safe="")
