"""Console sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ClockDep, SessionDep, SettingsDep, client_address
from api.pages import render
from hotline.console import sessions
from hotline.models import Role
from hotline.accounts.security import TooManyAttempts, Unauthorized, sign_in
from api.routers.console.common import COOKIE, router


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "console/login.html", {})


@router.post("/login")
def login(request: Request, username: Annotated[str, Form(max_length=64)], password: Annotated[str, Form(max_length=200)],
          session: SessionDep, settings: SettingsDep, clock: ClockDep) -> Response:
    try:
        user = sign_in(session, username, password, client=client_address(request),
                       throttle=request.app.state.login_throttle, now=clock.now())
    except Unauthorized:
        return render(request, "console/login.html", {"error": "아이디 또는 비밀번호가 맞지 않습니다."}, status_code=401)
    except TooManyAttempts as exc:
        return render(request, "console/login.html", {"error": exc.detail_ko}, status_code=429)
    if user.role not in (Role.operator, Role.admin):
        return render(request, "console/login.html", {"error": "상담원·관리자 계정만 사용할 수 있습니다."}, status_code=403)
    token = sessions.open_session(session, user, now=clock.now(), minutes=settings.token_minutes)
    response = RedirectResponse("/console", status_code=303)
    session.commit()
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=settings.public_url.startswith("https"), max_age=settings.token_minutes * 60)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, clock: ClockDep) -> Response:
    """Ends the session on the server: the same cookie, copied or cached, no longer opens anything."""
    sessions.revoke(session, request.cookies.get(COOKIE) or "", now=clock.now())
    session.commit()
    response = RedirectResponse("/console/login?out=1", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
