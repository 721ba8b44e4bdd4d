"""The operator console: today's board, the intake form used while the parent is on the phone, a request's
story (explanation, offers, events), the SMS outbox, providers and the monthly figures. Server-rendered
HTML over the same services as the API; sign-in sets an HttpOnly, SameSite=Strict cookie."""

from __future__ import annotations

import secrets
from urllib.parse import quote
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import col, select

from api.deps import ClockDep, GeocoderDep, MaybeDay, OfferCtx, SessionDep, SettingsDep, actor, client_address
from api.pages import render
from api.problems import translate
from hotline import intake, offers
from hotline import providers as providers_service
from hotline.clock import local
from hotline.errors import DomainError, Forbidden, InvalidInput
from hotline.lifecycle import CANCELLABLE, LABELS_KO, OPEN_STATUSES, RequestStatus
from hotline.models import OutboxMessage, Provider, Role, User
from hotline.phones import mask, mask_numbers
from hotline.reports import month_figures
from hotline.schemas import CareRequestCreate
from hotline.security import TooManyAttempts, Unauthorized, create_token, sign_in, user_from_token
from hotline.views import present_request, summarize_request

def same_origin(request: Request) -> None:
    """Console POSTs come from console pages: a browser's Origin must be ours (SameSite=Strict is the
    first line, this the second)."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != f"{request.url.scheme}://{request.url.netloc}":
        raise Forbidden("다른 사이트에서 보낸 요청은 처리하지 않습니다.", "Cross-site request refused.")


router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False,
                   dependencies=[Depends(same_origin)])
COOKIE = "dolbom_console"


class LoginRequired(Exception):
    pass


def console_user(request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep) -> User:
    token = request.cookies.get(COOKIE)
    try:
        user = user_from_token(session, token or "", secret=settings.secret_key, now=clock.now())
    except Unauthorized:
        raise LoginRequired from None
    if user.role not in (Role.operator, Role.admin):
        raise LoginRequired
    return user


Operator = Annotated[User, Depends(console_user)]


def install(app) -> None:
    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/console/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "console/login.html", {})


@router.post("/login")
def login(request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()], session: SessionDep,
          settings: SettingsDep, clock: ClockDep) -> Response:
    try:
        user = sign_in(session, username, password, client=client_address(request),
                       throttle=request.app.state.login_throttle, now=clock.now())
    except Unauthorized:
        return render(request, "console/login.html", {"error": "아이디 또는 비밀번호가 맞지 않습니다."}, status_code=401)
    except TooManyAttempts as exc:
        return render(request, "console/login.html", {"error": exc.detail_ko}, status_code=429)
    if user.role not in (Role.operator, Role.admin):
        return render(request, "console/login.html", {"error": "상담원·관리자 계정만 사용할 수 있습니다."}, status_code=403)
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(COOKIE, create_token(user, secret=settings.secret_key, now=clock.now(),
                                             minutes=settings.token_minutes),
                        httponly=True, samesite="strict", secure=settings.public_url.startswith("https"))
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("", response_class=HTMLResponse)
def board(request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, user: Operator,
          day: MaybeDay = None) -> HTMLResponse:
    today = day or local(clock.now()).date()
    attention, _ = intake.list_requests(session, attention=True, limit=100)
    rows, _ = intake.list_requests(session, day=today, limit=200)
    open_rows, _ = intake.list_requests(session, status=list(OPEN_STATUSES), limit=200)
    paused = providers_service.paused(session, clock.now())
    return render(request, "console/board.html", {
        "user": user, "today": today, "attention": [summarize_request(session, r, geocoder) for r in attention],
        "rows": [summarize_request(session, r, geocoder) for r in rows], "open_count": len(open_rows), "paused": paused,
        "labels": LABELS_KO})


def _intake_context(form: dict[str, Any] | None = None, errors: list[dict] | None = None) -> dict[str, Any]:
    # a key per form: a double-submitted form (or a retried POST) logs one request
    return {"form": form or {}, "errors": errors or [], "new_key": secrets.token_urlsafe(12)}


@router.get("/new", response_class=HTMLResponse)
def new_request(request: Request, geocoder: GeocoderDep, user: Operator) -> HTMLResponse:
    return render(request, "console/new.html", {"user": user, "places": geocoder.places, **_intake_context()})


def _body_from_form(form: dict[str, Any]) -> dict[str, Any]:
    children = []
    for i in range(5):
        name, born = form.get(f"child{i}_name", "").strip(), form.get(f"child{i}_birth", "").strip()
        if name or born:
            children.append({"first_name": name, "birth_date": born or None})
    return {
        "guardian": {"name": form.get("guardian_name", ""), "phone": form.get("guardian_phone", ""),
                     "language": form.get("guardian_language", "ko")},
        "children": children,
        "reason": form.get("reason", ""),
        "notes": form.get("notes", ""),
        "start_at": form.get("start_at") or None,
        "end_at": form.get("end_at") or None,
        "location": {"address": form.get("address", ""), "place": form.get("place") or None},
        "needs": [n for n in ("infant", "special_needs") if form.get(f"need_{n}")],
        "language": form.get("language", "ko"),
        "consent": {"guardian_consent": bool(form.get("consent")), "health_consent": bool(form.get("health_consent"))},
        "health_notes": form.get("health_notes") or None,
    }


async def form_fields(request: Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.form()).items()}


@router.post("/new", response_class=HTMLResponse)
def create_request(request: Request, form: Annotated[dict[str, str], Depends(form_fields)], session: SessionDep,
                   clock: ClockDep, ctx: OfferCtx, user: Operator) -> Response:
    # a plain def: FastAPI runs it in a worker thread, so the solve never blocks the event loop
    try:
        body = CareRequestCreate.model_validate(_body_from_form(form))
        created = offers.take_call(session, body, actor=actor(user), now=clock.now(),
                                   ctx=ctx,
                                   idempotency_key=form.get("idempotency_key") or None)
        session.commit()
    except ValidationError as exc:
        return render(request, "console/new.html", {"user": user, "places": ctx.places.places,
                                                    **_intake_context(form, translate(exc.errors()))}, status_code=422)
    except InvalidInput as exc:
        session.rollback()
        return render(request, "console/new.html", {"user": user, "places": ctx.places.places,
                                                    **_intake_context(form, [e.as_dict() for e in exc.errors])},
                      status_code=422)
    return RedirectResponse(f"/console/requests/{created.request.ref}", status_code=303)


@router.get("/requests/{ref}", response_class=HTMLResponse)
def request_detail(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep,
                   user: Operator, error: Annotated[str | None, Query(max_length=300)] = None) -> HTMLResponse:
    care = intake.get_request(session, ref)
    intake.log_access(session, actor=actor(user), action="console_read_request", request=care, now=clock.now())
    session.commit()
    view = present_request(session, care, places=geocoder)
    everyone = session.exec(select(Provider)).all()
    providers = {p.id: p for p in everyone}
    return render(request, "console/request.html", {
        "user": user, "r": view, "providers": providers, "names": {p.code: p.name for p in everyone},
        "labels": LABELS_KO,
        "can_cancel": RequestStatus(care.status) in CANCELLABLE,
        "can_retry": care.status == RequestStatus.unmatched, "error": error})


@router.post("/requests/{ref}/cancel")
def cancel(ref: str, request: Request, session: SessionDep, clock: ClockDep, user: Operator,
           reason: Annotated[str, Form(max_length=300)] = "") -> Response:
    care = intake.get_request(session, ref)
    try:
        intake.cancel_request(session, care, actor=actor(user), now=clock.now(), reason=reason or "상담원 취소")
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _back(care.ref, exc)
    return _back(care.ref)


@router.post("/requests/{ref}/retry")
def retry(ref: str, session: SessionDep, clock: ClockDep, ctx: OfferCtx, user: Operator) -> Response:
    care = intake.get_request(session, ref)
    try:
        offers.retry(session, care, actor=actor(user), now=clock.now(), ctx=ctx)
        session.commit()
    except DomainError as exc:
        session.rollback()
        return _back(care.ref, exc)
    return _back(care.ref)


def _back(ref: str, error: DomainError | None = None) -> Response:
    """Back to the request's page, with the reason when the action was refused."""
    query = f"?error={quote(error.detail_ko or error.title_ko)}" if error else ""
    return RedirectResponse(f"/console/requests/{ref}{query}", status_code=303)


@router.get("/outbox", response_class=HTMLResponse)
def outbox_page(request: Request, session: SessionDep, clock: ClockDep, user: Operator) -> HTMLResponse:
    """Recent texts. Bodies can carry names and numbers (a confirmation does): numbers are masked in them
    too, and every view is an access record."""
    messages = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(100)).all()
    intake.log_access(session, actor=actor(user), action="console_read_outbox", request=None, now=clock.now())
    session.commit()
    return render(request, "console/outbox.html", {"user": user, "messages": messages, "mask": mask,
                                                   "mask_text": mask_numbers})


@router.get("/providers", response_class=HTMLResponse)
def providers_page(request: Request, session: SessionDep, clock: ClockDep, user: Operator) -> HTMLResponse:
    rows = session.exec(select(Provider).order_by(col(Provider.code))).all()
    return render(request, "console/providers.html", {"user": user, "providers": rows, "now": clock.now()})


@router.get("/stats", response_class=HTMLResponse)
def stats(request: Request, session: SessionDep, clock: ClockDep, user: Operator) -> HTMLResponse:
    today = local(clock.now()).date()
    months, year, month = [], today.year, today.month
    for _ in range(6):
        months.append(month_figures(session, year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return render(request, "console/stats.html", {"user": user, "months": months})
