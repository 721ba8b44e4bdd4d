"""Console sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ClockDep, SessionDep, SettingsDep, client_address
from api.pages import render
from hotline.console import sessions
from hotline.models import Role
from hotline.accounts.security import TooManyAttempts, Unauthorized, sign_in
from api.routers.console.common import COOKIE, router, safe_next


Next = Annotated[str, Query(max_length=300)]


def _why(request: Request, session, clock, renew: bool) -> str:
    """Why the sign-in page is shown — `expired` (the 8 hours ran out: console.js keeps what was being typed
    and fills it in again after signing in), `renew` (signing in again before they run out), `out` (signed
    out: console.js forgets every draft in the tab) or `""` (a first sign-in: nothing of another's kept)."""
    if request.query_params.get("out"):
        return "out"
    if sessions.ran_out(session, request.cookies.get(COOKIE) or "", now=clock.now()):
        return "expired"
    return "renew" if renew else ""


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep, next: Next = "",
               renew: Annotated[str, Query(max_length=1)] = "") -> HTMLResponse:
    return render(request, "console/login.html", {"next": safe_next(next), "why": _why(request, session, clock, bool(renew)),
                                                  "hours": settings.token_minutes // 60})


@router.post("/login")
def login(request: Request, username: Annotated[str, Form(max_length=64)], password: Annotated[str, Form(max_length=200)],
          session: SessionDep, settings: SettingsDep, clock: ClockDep,
          next: Annotated[str, Form(max_length=300)] = "") -> Response:
    back = {"next": safe_next(next), "why": "retry", "hours": settings.token_minutes // 60}
    try:
        user = sign_in(session, username, password, client=client_address(request),
                       throttle=request.app.state.login_throttle, now=clock.now())
    except Unauthorized:
        return render(request, "console/login.html", {**back, "error": "아이디 또는 비밀번호가 맞지 않습니다."},
                      status_code=401)
    except TooManyAttempts as exc:
        return render(request, "console/login.html", {**back, "error": exc.detail_ko}, status_code=429)
    if user.role not in (Role.operator, Role.admin):
        return render(request, "console/login.html", {**back, "error": "상담원·관리자 계정만 사용할 수 있습니다."},
                      status_code=403)
    token = sessions.open_session(session, user, now=clock.now(), minutes=settings.token_minutes)
    response = RedirectResponse(safe_next(next), status_code=303)
    session.commit()
    # the browser keeps the cookie a day past the sign-in's end (the server refuses it from then on), so the
    # sign-in page can tell "your 8 hours ran out" from "you signed out"
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=settings.public_url.startswith("https"), max_age=(settings.token_minutes + 24 * 60) * 60)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, clock: ClockDep) -> Response:
    """Ends the session on the server: the same cookie, copied or cached, no longer opens anything."""
    sessions.revoke(session, request.cookies.get(COOKIE) or "", now=clock.now())
    session.commit()
    response = RedirectResponse("/console/login?out=1", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
