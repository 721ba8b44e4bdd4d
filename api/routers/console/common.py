"""What every console page shares: the router (prefix /console, same-origin POSTs), the signed-in operator
dependency, the error pages in Korean, and `no-store` on personal pages. Sign-in opens a server-side
session (HttpOnly, SameSite=Strict cookie) that sign-out revokes."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, unquote, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.datastructures import MutableHeaders

from api.deps import ClockDep, SessionDep
from api.pages import render
from hotline.console import sessions
from hotline.core.errors import DomainError, Forbidden
from hotline.models import Role, User




def same_origin(request: Request) -> None:
    """Console POSTs come from console pages: a browser's Origin must be ours (SameSite=Strict is the
    first line, this the second)."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != f"{request.url.scheme}://{request.url.netloc}":
        raise Forbidden("다른 사이트에서 보낸 요청은 처리하지 않습니다.", "Cross-site request refused.")


router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False,
                   dependencies=[Depends(same_origin)])
COOKIE = "dolbom_console"
PRIVATE_PREFIXES = ("/console", "/o/", "/s/", "/apply", "/p/")


class LoginRequired(Exception):
    pass


def console_user(request: Request, session: SessionDep, clock: ClockDep) -> User:
    found = sessions.signed_in(session, request.cookies.get(COOKIE) or "", now=clock.now())
    if found is None or found[0].role not in (Role.operator, Role.admin):
        raise LoginRequired
    # every console page carries the server's time and the sign-in's end (console.js warns before it) and
    # the menu's counts of waiting work, counted only when a page is drawn (not on the board's polls)
    request.state.now, request.state.session_ends = clock.now(), found[1]
    request.state.work_counts = lambda: work_counts(session)
    return found[0]


def work_counts(session) -> dict[str, int]:
    """What waits beside the requests: adjustment requests to decide, follow-up cases to close."""
    from hotline.aftercare import service as aftercare
    from hotline.records import adjustments

    return {"adjustments": adjustments.waiting_count(session), "followups": aftercare.open_count(session)}


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a console page of ours, never another site (`//evil`, `/\\evil`)."""
    value = (value or "").strip()
    if (not (value.split("?")[0] == "/console" or value.startswith("/console/"))
            or value.startswith(("/console/login", "/console/logout"))
            or "//" in value or "\\" in value or len(value) > 300 or any(ord(c) < 33 for c in value)):
        return "/console"
    return value


def _return_to(request: Request) -> str:
    """The page to come back to after a forced sign-in: the page itself, or for a form's POST the page
    that held the form (what was typed is kept in the tab by console.js and filled in again)."""
    if request.method == "GET":
        query = f"?{request.url.query}" if request.url.query else ""
        return safe_next(request.url.path + query)
    referer = urlsplit(request.headers.get("referer", ""))  # its query is a past outcome (?done=…): left off
    return safe_next(referer.path) if referer.netloc in ("", request.url.netloc) else "/console"


Operator = Annotated[User, Depends(console_user)]


def install(app) -> None:
    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.startswith(("/console/board/", "/console/callers")):
            return PlainTextResponse("로그인이 필요합니다.", status_code=401)
        back = _return_to(request)
        return RedirectResponse("/console/login" if back == "/console" else
                                f"/console/login?next={quote(back, safe='/')}", status_code=303)

    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    for kind in (DomainError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(kind, _korean_page(app.exception_handlers.get(kind)))

    app.add_middleware(NoStore)


class NoStore:
    """Personal pages on shared call-centre PCs are never kept by the browser or a proxy: the console and
    the SMS link pages answer `Cache-Control: no-store` (a plain ASGI middleware: it leaves the body alone)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(PRIVATE_PREFIXES):
            return await self.app(scope, receive, send)

        async def send_no_store(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Cache-Control"] = "no-store"
                headers["Pragma"] = "no-cache"
            await send(message)

        await self.app(scope, receive, send_no_store)


def _korean_page(fallback):
    """A browser on a console or link page gets a Korean page for an error (an unknown ref, a mistyped
    address), not JSON; scripts and the API keep problem+json (api.problems)."""

    async def handler(request: Request, exc: Exception) -> Response:
        if not (request.url.path.startswith(PRIVATE_PREFIXES) and "text/html" in request.headers.get("accept", "")):
            return await fallback(request, exc)
        status = getattr(exc, "status", None) or getattr(exc, "status_code", None) or 422
        # our own words for a missing page ("돌봄 요청을(를) …" reads badly)
        detail = {404: "찾는 화면이나 요청이 없습니다. 접수번호를 확인해 주세요.",
                  405: "이 주소로는 그렇게 할 수 없습니다."}.get(status) or getattr(exc, "detail_ko", "") \
            or "입력값을 확인해 주세요."
        return render(request, "console/error.html", {"status": status, "detail": detail}, status_code=status)

    return handler


FLASH = "dolbom_flash"


def flash(response: Response, message: str) -> Response:
    """A one-time message for the page the response leads to, when its address must stay as it is (a new
    request's page is `/console/requests/<ref>`: bookmarked, shared, read by scripts)."""
    response.set_cookie(FLASH, quote(message[:200]), max_age=120, httponly=True, samesite="strict", path="/console")
    return response


def take_flash(request: Request) -> str | None:
    return unquote(request.cookies.get(FLASH) or "")[:300] or None


def wants_problem(request: Request) -> bool:
    """A script or API client (not a browser form) gets problem+json instead of a page."""
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept
