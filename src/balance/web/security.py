"""Who may use the app and what a request may do: access token and session cookie, CSRF, body size limits,
and the guard that serves a job's result files and nothing outside its results folder.

Bound to 127.0.0.1 the app trusts the machine's own user; bound to any other address every request needs the
access token once (as `?token=` in the URL `balance serve` prints, or `Authorization: Bearer`), after which a
session cookie carries it. Every state-changing request (any method but GET/HEAD) must carry the session's
CSRF token (`X-CSRF-Token` header, or `?csrf=` in the form's action) and, when the browser sends one, an
Origin of this server.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from balance.web.settings import WebSettings

COOKIE = "balance_session"
MAX_SESSIONS = 10_000  # a client without cookies makes a new session per request: memory stays bounded
SAFE_METHODS = ("GET", "HEAD")
UPLOAD_PATHS = ("/upload",)
CHUNK_PREFIX = "/record/uploads/"  # a recording's chunks: each route holds them to its own limit
# A result file's name: letters, digits, _ - . and no leading dot (no hidden or partial files, no folders).
SAFE_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,100}$")


class BodyTooLarge(Exception):
    """The request body grew past its limit while streaming in (no or a false Content-Length)."""

    def __init__(self, limit: int) -> None:
        super().__init__(too_large(limit))


def csrf_token(settings: WebSettings, session: str) -> str:
    return hmac.new(settings.secret.encode(), session.encode(), hashlib.sha256).hexdigest()


def session_of(scope: Scope) -> str:
    return str(scope.get("state", {}).get("session", ""))


class Guard:
    """ASGI middleware: token, session cookie, CSRF, and request body limits, before any route runs."""

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app = app
        self.settings = settings
        # Sessions that have shown the token (or all, on localhost); the oldest go first past MAX_SESSIONS.
        self.sessions: OrderedDict[str, None] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookie = _cookie(headers.get("cookie", ""))
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        new_session = None
        if cookie not in self.sessions:
            cookie = None
        if self.settings.needs_token and cookie is None:
            given = (query.get("token") or [""])[0] or _bearer(headers.get("authorization", ""))
            if not given:
                await _refuse(401, "this server needs its access token: open the URL balance serve printed", headers)(
                    scope, receive, send
                )
                return
            if not hmac.compare_digest(given.encode(), (self.settings.token or "").encode()):
                await _refuse(403, "wrong access token: open the URL balance serve printed", headers)(
                    scope, receive, send
                )
                return
        if cookie is None:
            new_session = secrets.token_urlsafe(24)
            self.sessions[new_session] = None
            while len(self.sessions) > MAX_SESSIONS:
                self.sessions.popitem(last=False)
            cookie = new_session
            if "token" in query and scope["method"] in SAFE_METHODS:
                # Take the token out of the address bar (and history) once the cookie carries it.
                rest = {k: v for k, v in query.items() if k != "token"}
                url = scope["path"] + (f"?{urlencode(rest, doseq=True)}" if rest else "")
                await self._with_cookie(RedirectResponse(url, status_code=303), new_session)(scope, receive, send)
                return
        scope.setdefault("state", {})["session"] = cookie
        scope["state"]["csrf"] = csrf_token(self.settings, cookie)
        if scope["method"] not in SAFE_METHODS:
            problem = self._csrf_problem(scope, headers, query, cookie)
            if problem:
                await _refuse(403, problem, headers)(scope, receive, send)
                return
        upload = scope["path"] in UPLOAD_PATHS or scope["path"].startswith(CHUNK_PREFIX)
        limit = self.settings.max_upload_bytes if upload else self.settings.max_form_bytes
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _refuse(413, too_large(limit), headers)(scope, receive, send)
            return
        await self._call_limited(scope, receive, send, limit, new_session)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket needs a session that has passed the checks above (its page set the cookie) and this
        server's own Origin: another site's page cannot open one with the user's cookie."""
        headers = Headers(scope=scope)
        cookie = _cookie(headers.get("cookie", ""))
        origin = headers.get("origin")
        if cookie not in self.sessions or (origin and urlsplit(origin).netloc != headers.get("host", "")):
            await receive()  # the connect message, then refuse the handshake
            await send({"type": "websocket.close", "code": 1008})
            return
        scope.setdefault("state", {})["session"] = cookie
        await self.app(scope, receive, send)

    def _csrf_problem(self, scope: Scope, headers: Headers, query: dict[str, list[str]], session: str) -> str:
        given = headers.get("x-csrf-token") or (query.get("csrf") or [""])[0]
        if not hmac.compare_digest(given.encode(), csrf_token(self.settings, session).encode()):
            return "the form is out of date (missing or wrong CSRF token): reload the page and send it again"
        origin = headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != headers.get("host", ""):
            return f"requests from {origin} are refused: use the app's own pages"
        return ""

    def _with_cookie(self, response: Response, session: str) -> Response:
        response.set_cookie(
            COOKIE, session, httponly=True, samesite="strict", secure=self.settings.secure_cookies, path="/"
        )
        return response

    async def _call_limited(self, scope: Scope, receive: Receive, send: Send, limit: int, new: str | None) -> None:
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if new is not None:
                    cookie = self._with_cookie(Response(), new).headers["set-cookie"]
                    message.setdefault("headers", [])
                    message["headers"] = [*message["headers"], (b"set-cookie", cookie.encode("latin-1"))]
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except BodyTooLarge:
            if not started:
                await _refuse(413, too_large(limit), Headers(scope=scope))(scope, receive, send)


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    # Every script and style is the app's own file: no inline script, nothing from elsewhere.
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
        b"script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    ),
]


def too_large(limit: int) -> str:
    size = f"{limit / 1024**3:.1f} GB" if limit >= 1024**3 else f"{limit / 1024**2:.2g} MB"
    return f"the request is larger than this server accepts ({size}). Send a shorter clip or fewer at once"


def _refuse(status: int, message: str, headers: Headers) -> Response:
    """Refused before any route ran: the same one line, as JSON for scripts, as text otherwise."""
    extra = dict(_h(SECURITY_HEADERS))
    if "application/json" in headers.get("accept", ""):
        return JSONResponse({"error": message}, status_code=status, headers=extra)
    return PlainTextResponse(f"balance: {message}\n", status_code=status, headers=extra)


def _h(pairs: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(k.decode(), v.decode()) for k, v in pairs]


def _cookie(header: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == COOKIE and value:
            return value
    return None


def _bearer(header: str) -> str:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def result_file(results: Path, name: str) -> Path | None:
    """The file `name` directly inside `results`, or None for anything else: another folder (`../`, encoded
    or not), an absolute path, a hidden or partial file, a symlink (even one pointing inside)."""
    if not SAFE_NAME.match(name) or not results.is_dir():
        return None
    path = results / name
    if path.is_symlink() or not path.is_file():
        return None
    try:
        path.resolve(strict=True).relative_to(results.resolve(strict=True))
    except (OSError, ValueError):
        return None
    return path


def form_value(form: Any, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""
