"""The operator console: the live board, the intake form used while the parent is on the phone, a request's
page and the operator's actions on it, the SMS outbox, providers, the map and the monthly figures.
Server-rendered HTML with small progressive enhancement (api/static/console.js); the work is done by
hotline.console and the offer loop. Sign-in opens a server-side session (HttpOnly, SameSite=Strict cookie)
that sign-out revokes; every console page is `Cache-Control: no-store`."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import MutableHeaders
from sqlmodel import col, select

from api.deps import ClockDep, GeocoderDep, MaybeDay, OfferCtx, SessionDep, SettingsDep, actor, client_address
from api.pages import render
from api.problems import translate
from hotline import intake, offers
from hotline.clock import local, local_day_bounds
from hotline.console import actions, intake_form, labels, read, sessions
from hotline.errors import DomainError, FieldProblem, Forbidden, InvalidInput
from hotline.models import Assignment, CareRequest, OutboxMessage, Provider, Role, User
from hotline.phones import mask, to_e164
from hotline.reports import month_figures
from hotline.schemas import CareRequestCreate
from hotline.security import TooManyAttempts, Unauthorized, sign_in


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
    user = sessions.user_for(session, request.cookies.get(COOKIE) or "", now=clock.now())
    if user is None or user.role not in (Role.operator, Role.admin):
        raise LoginRequired
    return user


Operator = Annotated[User, Depends(console_user)]


def install(app) -> None:
    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.startswith(("/console/board/", "/console/callers")):
            return PlainTextResponse("로그인이 필요합니다.", status_code=401)
        return RedirectResponse("/console/login", status_code=303)

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


def wants_problem(request: Request) -> bool:
    """A script or API client (not a browser form) gets problem+json instead of a page."""
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


# --- sign-in ---------------------------------------------------------------------------------------------

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


# --- the board -------------------------------------------------------------------------------------------

def _filters(q: str, status: str, city: str, day: date | None, need: str) -> read.Filters:
    return read.Filters(q=q.strip()[:40], status=status if status in labels.STATUS else "",
                        city=city.strip()[:20], day=day, need=need if need in labels.NEED else "")


def _typed_day(typed: str, day: date | None, clock) -> date | None:
    """A day typed as on the intake form ("1125", "내일"), or the ISO `date` parameter."""
    if typed.strip():
        return intake_form.parse_day(typed, local(clock.now()).date()) or day
    return day


Q = Annotated[str, Query(max_length=40)]
Short = Annotated[str, Query(max_length=20)]


def _board_context(session, clock, geocoder, filters: read.Filters) -> dict[str, Any]:
    now = clock.now()
    groups = read.board(session, now=now, places=geocoder, filters=filters)
    return {"groups": groups, "now": now, "filters": filters, "version": read.board_version(session),
            "total": sum(len(g.rows) for g in groups)}


@router.get("", response_class=HTMLResponse)
def board(request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, user: Operator,
          q: Q = "", status: Short = "", city: Short = "", need: Short = "", day: MaybeDay = None,
          when: Short = "") -> HTMLResponse:
    context = _board_context(session, clock, geocoder, _filters(q, status, city, _typed_day(when, day, clock), need))
    cities = sorted({p.city_ko for p in geocoder.places})
    paused = [p for p in session.exec(select(Provider).where(Provider.active == True))  # noqa: E712
              if p.paused_until and p.paused_until > clock.now()]
    return render(request, "console/board.html", {
        "user": user, **context, "cities": cities, "statuses": labels.STATUS, "needs": labels.NEED,
        "paused": paused, "query": request.url.query, "today": local(clock.now()).date()})


@router.get("/board/groups", response_class=HTMLResponse)
def board_groups(request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, user: Operator,
                 q: Q = "", status: Short = "", city: Short = "", need: Short = "",
                 day: MaybeDay = None, when: Short = "") -> HTMLResponse:
    """The board's groups alone: what the page fetches when the version changes."""
    context = _board_context(session, clock, geocoder, _filters(q, status, city, _typed_day(when, day, clock), need))
    return render(request, "console/_groups.html", {"user": user, **context})


@router.get("/board/version", response_class=PlainTextResponse)
def board_version(session: SessionDep, user: Operator) -> str:
    """Polled every two seconds by each open board: any worker answers from the same database."""
    return read.board_version(session)


# --- intake ----------------------------------------------------------------------------------------------

def _intake_context(geocoder, clock, form: dict[str, Any] | None = None,
                    errors: list[dict] | None = None, **extra) -> dict[str, Any]:
    form = form or {}
    rows = intake_form.child_rows(form) or [0]
    by_input: dict[str, list[str]] = {}
    for e in errors or []:
        by_input.setdefault(e.get("input") or "", []).append(e["message"])
    today = local(clock.now())
    return {"form": form, "errors": errors or [], "by_input": by_input, "child_rows": rows,
            # a key per form: a double-submitted form (or a retried POST) logs one request
            "new_key": secrets.token_urlsafe(12), "places": geocoder.places, "max_children": 5,
            "today": today.date(), "now_hm": today.strftime("%H%M"), "reasons": labels.REASON, **extra}


def _form_errors(problems: list[dict]) -> list[dict]:
    return [{**p, "label": intake_form.field_label(p["field"]), "input": intake_form.field_input(p["field"])}
            for p in problems]


@router.get("/new", response_class=HTMLResponse)
def new_request(request: Request, geocoder: GeocoderDep, clock: ClockDep, user: Operator) -> HTMLResponse:
    return render(request, "console/new.html", {"user": user, **_intake_context(geocoder, clock)})


async def form_fields(request: Request) -> dict[str, str]:
    return {k: str(v)[:600] for k, v in (await request.form()).items()}


def _overlap_check(session, body: dict, now, geocoder) -> dict | None:
    """Open requests from the same number whose window overlaps the one typed (a double booking?)."""
    from datetime import datetime

    try:
        phone = to_e164(body["guardian"]["phone"], "guardian.phone")
    except InvalidInput:
        return None
    if not body.get("start_at") or not body.get("end_at"):
        return None
    history = read.caller_history(session, phone, start=datetime.fromisoformat(body["start_at"]),
                                  end=datetime.fromisoformat(body["end_at"]), now=now, places=geocoder)
    return history if history["overlaps"] else None


@router.post("/new", response_class=HTMLResponse)
def create_request(request: Request, form: Annotated[dict[str, str], Depends(form_fields)], session: SessionDep,
                   clock: ClockDep, ctx: OfferCtx, geocoder: GeocoderDep, user: Operator) -> Response:
    # a plain def: FastAPI runs it in a worker thread, so the solve never blocks the event loop
    now = clock.now()
    body, problems = intake_form.body_from_form(form, now)

    def refuse(found: list[dict], status: int = 422, **extra) -> HTMLResponse:
        session.rollback()
        return render(request, "console/new.html", {"user": user, **_intake_context(
            geocoder, clock, form, _form_errors(found), **extra)}, status_code=status)

    place = geocoder.lookup(body["location"]["place"]) if body["location"]["place"] else None
    if place and (wrong := intake_form.place_mismatch(place.city_ko, body["location"]["address"],
                                                      {p.city_ko for p in geocoder.places})):
        problems.append(FieldProblem("location.place", wrong, "The address names another city than the place."))
    if problems:
        return refuse([p.as_dict() for p in problems])
    try:
        data = CareRequestCreate.model_validate(body)
    except ValidationError as exc:
        return refuse(translate(exc.errors()))
    key = form.get("idempotency_key") or None
    replay = key is not None and session.exec(select(CareRequest.id).where(CareRequest.idempotency_key == key)).first()
    if not replay and not form.get("confirm_overlap"):
        if overlap := _overlap_check(session, body, now, geocoder):
            problem = FieldProblem("overlap", "같은 번호로 시간이 겹치는 접수가 이미 있습니다. 중복이 아니면 확인란에 표시하고 다시 접수하세요.",
                                   "An open request from this number overlaps this window; tick to confirm.")
            return refuse([problem.as_dict()], status=409, overlap=overlap)
    try:
        created = offers.take_call(session, data, actor=actor(user), now=now, ctx=ctx, idempotency_key=key)
        target = f"/console/requests/{created.request.ref}"
        session.commit()
    except InvalidInput as exc:
        return refuse([e.as_dict() for e in exc.errors])
    return RedirectResponse(target, status_code=303)


@router.get("/callers", response_class=HTMLResponse)
def caller_panel(request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, user: Operator,
                 phone: Annotated[str, Query(max_length=30)] = "", day: Short = "", start: Short = "",
                 end: Short = "") -> HTMLResponse:
    """The duplicate-caller panel of the intake form: open and recent requests of the number being typed."""
    try:
        e164 = to_e164(phone, "phone")
    except InvalidInput:
        return render(request, "console/_caller.html", {"history": None})
    s, e, problems = intake_form.window({"day": day, "start_time": start, "end_time": end}, clock.now())
    history = read.caller_history(session, e164, start=None if problems else s, end=None if problems else e,
                                  now=clock.now(), places=geocoder)
    if history["known"]:
        intake.log_access(session, actor=actor(user), action="console_caller_history", request=None, now=clock.now())
        session.commit()
    return render(request, "console/_caller.html", {"history": history, "phone_masked": mask(e164)})


# --- a request -------------------------------------------------------------------------------------------

def _request_context(session, care: CareRequest, clock, geocoder, ctx, user) -> dict[str, Any]:
    now = clock.now()
    page = read.request_page(session, care, now=now, places=geocoder)
    return {"user": user, "r": page, "now": now,
            "choices": actions.choices(session, care, now=now, ctx=ctx),
            "can_cancel": care.status in actions.CANCELLABLE, "can_offer": care.status in actions.OFFERABLE,
            "can_retry": care.status == "unmatched", "suggestions": actions.suggestions(session, care)}


def _show_request(request: Request, session, care, clock, geocoder, ctx, user, *, status_code: int = 200,
                  **extra) -> HTMLResponse:
    intake.log_access(session, actor=actor(user), action="console_read_request", request=care, now=clock.now())
    page = render(request, "console/request.html", {**_request_context(session, care, clock, geocoder, ctx, user),
                                                    **extra}, status_code=status_code)
    session.commit()
    return page


@router.get("/requests/{ref}", response_class=HTMLResponse)
def request_detail(ref: str, request: Request, session: SessionDep,
                   clock: ClockDep, geocoder: GeocoderDep, ctx: OfferCtx, user: Operator,
                   error: Annotated[str | None, Query(max_length=300)] = None,
                   done: Annotated[str | None, Query(max_length=100)] = None) -> HTMLResponse:
    care = intake.get_request(session, ref)
    return _show_request(request, session, care, clock, geocoder, ctx, user, error=error, done=done)


@router.get("/requests/{ref}/print", response_class=HTMLResponse)
def request_print(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep,
                  user: Operator) -> HTMLResponse:
    care = intake.get_request(session, ref)
    intake.log_access(session, actor=actor(user), action="console_print_request", request=care, now=clock.now())
    page = render(request, "console/print.html", {"user": user, "now": clock.now(),
                                                  "r": read.request_page(session, care, now=clock.now(), places=geocoder)})
    session.commit()
    return page


def _refused(request: Request, session, care, clock, geocoder, ctx, user, exc: DomainError) -> Response:
    """All or nothing: roll back, then say why on the request's page (or as problem+json to a script)."""
    session.rollback()
    if wants_problem(request):
        raise exc
    errors = [{"field": e.field, "message": e.message_ko} for e in exc.errors] or \
             [{"field": "", "message": exc.detail_ko or exc.title_ko}]
    session.refresh(care)
    return _show_request(request, session, care, clock, geocoder, ctx, user, status_code=exc.status,
                         action_errors=errors, form=dict(request.query_params))


def _done(care: CareRequest, message: str) -> Response:
    return RedirectResponse(f"/console/requests/{care.ref}?done={quote(message)}", status_code=303)


Reason = Annotated[str, Form(max_length=300)]


@router.post("/requests/{ref}/offer")
def offer_to(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, ctx: OfferCtx,
             user: Operator, provider: Annotated[str, Form(max_length=40)] = "", reason: Reason = "") -> Response:
    care = intake.get_request(session, ref)
    try:
        offer = actions.offer_to(session, care, provider, actor=actor(user), reason=reason, now=clock.now(), ctx=ctx)
        name = session.get(Provider, offer.provider_id).name
        session.commit()
    except DomainError as exc:
        return _refused(request, session, care, clock, geocoder, ctx, user, exc)
    return _done(care, f"{name}에 제안 문자를 보냈습니다.")


@router.post("/requests/{ref}/cancel")
def cancel(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, ctx: OfferCtx,
           user: Operator, reason: Reason = "", confirm: Annotated[str, Form(max_length=10)] = "") -> Response:
    care = intake.get_request(session, ref)
    try:
        actions.cancel(session, care, actor=actor(user), reason=reason, confirmed=bool(confirm), now=clock.now())
        session.commit()
    except DomainError as exc:
        return _refused(request, session, care, clock, geocoder, ctx, user, exc)
    return _done(care, "요청을 취소했습니다. 보호자와 기관에 취소 문자가 갑니다.")


@router.post("/requests/{ref}/reveal", response_class=HTMLResponse)
def reveal(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, ctx: OfferCtx,
           user: Operator, reason: Reason = "") -> Response:
    """The parent's full number for a call-back, on this response only (never in a URL); logged."""
    care = intake.get_request(session, ref)
    try:
        number = actions.reveal_phone(session, care, actor=actor(user), reason=reason, now=clock.now())
    except DomainError as exc:
        return _refused(request, session, care, clock, geocoder, ctx, user, exc)
    return _show_request(request, session, care, clock, geocoder, ctx, user, revealed=number)


@router.post("/requests/{ref}/note")
def note(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, ctx: OfferCtx,
         user: Operator, note: Annotated[str, Form(max_length=400)] = "") -> Response:
    care = intake.get_request(session, ref)
    try:
        actions.add_note(session, care, actor=actor(user), text=note, now=clock.now())
        session.commit()
    except DomainError as exc:
        return _refused(request, session, care, clock, geocoder, ctx, user, exc)
    return _done(care, "메모를 남겼습니다.")


@router.post("/requests/{ref}/suggestion")
def apply_suggestion(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep,
                     ctx: OfferCtx, user: Operator, key: Annotated[str, Form(max_length=60)] = "",
                     reason: Reason = "") -> Response:
    care = intake.get_request(session, ref)
    try:
        actions.apply_suggestion(session, care, key, actor=actor(user), reason=reason, now=clock.now(), ctx=ctx)
        session.commit()
    except DomainError as exc:
        return _refused(request, session, care, clock, geocoder, ctx, user, exc)
    return _done(care, "제안을 적용했습니다.")


@router.post("/requests/{ref}/retry")
def retry(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, ctx: OfferCtx,
          user: Operator) -> Response:
    care = intake.get_request(session, ref)
    try:
        offers.retry(session, care, actor=actor(user), now=clock.now(), ctx=ctx)
        session.commit()
    except DomainError as exc:
        return _refused(request, session, care, clock, geocoder, ctx, user, exc)
    return _done(care, "자동 매칭을 다시 시작했습니다.")


# --- outbox, providers, map, stats --------------------------------------------------------------------------

@router.get("/outbox", response_class=HTMLResponse)
def outbox_page(request: Request, session: SessionDep, clock: ClockDep, user: Operator) -> HTMLResponse:
    """Recent texts with the request each belongs to. Bodies can carry names and numbers (a confirmation
    does): numbers are masked in them too, and every view is an access record."""
    rows = session.exec(select(OutboxMessage, CareRequest.ref).join(CareRequest, isouter=True,
                                                                    onclause=CareRequest.id == OutboxMessage.request_id)
                        .order_by(col(OutboxMessage.id).desc()).limit(100)).all()
    messages = [{"id": m.id, "ref": ref, "kind_ko": labels.SMS_KIND.get(m.kind, "안내 문자"), "to": mask(m.to),
                 "status_ko": labels.SMS_STATUS.get(m.status, "기타"), "problem": m.status in ("failed", "undelivered"),
                 "attempts": m.attempts, "at": m.sent_at or m.created_at, "body": read.mask_text(m.body)}
                for m, ref in rows]
    intake.log_access(session, actor=actor(user), action="console_read_outbox", request=None, now=clock.now())
    page = render(request, "console/outbox.html", {"user": user, "messages": messages})
    session.commit()
    return page


@router.get("/providers", response_class=HTMLResponse)
def providers_page(request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, user: Operator,
                   q: Q = "", day: MaybeDay = None, when: Short = "") -> HTMLResponse:
    """The directory and one day's load: children placed per provider, paused or closed, contact."""
    now = clock.now()
    the_day = _typed_day(when, day, clock) or local(now).date()
    lo, hi = local_day_bounds(the_day)
    load: dict[int, int] = {}
    for a in session.exec(select(Assignment).where(Assignment.active == True, Assignment.start_at < hi,  # noqa: E712
                                                   Assignment.end_at > lo)):
        load[a.provider_id] = load.get(a.provider_id, 0) + a.children
    weekday = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][the_day.weekday()]
    rows = []
    for p in session.exec(select(Provider).order_by(col(Provider.name))):
        place = geocoder.get(p.place_code) if p.place_code else None
        area = place.name_ko if place else ""
        if q and q not in p.name and q not in area and q not in p.address:
            continue
        hours = ", ".join(f"{a}–{b}" for a, b in p.weekly_hours.get(weekday, []))
        closed = the_day.isoformat() in p.closures or not hours
        rows.append({"name": p.name, "kind_ko": labels.KIND.get(p.kind, ""), "area": area, "phone": p.phone,
                     "capacity": p.capacity, "ages": f"{p.min_age}–{p.max_age}세", "radius": p.radius_km,
                     "skills": labels.needs(p.skills), "load": load.get(p.id, 0), "hours": hours or "휴무",
                     "closed": closed, "active": p.active, "id": p.id,
                     "paused_until": p.paused_until if p.paused_until and p.paused_until > now else None})
    from hotline.phones import national

    return render(request, "console/providers.html", {"user": user, "rows": rows, "q": q, "day": the_day,
                                                     "national": national})


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, user: Operator) -> HTMLResponse:
    """Active requests and providers on a Gyeonggi map drawn from the place table (no tiles)."""
    from hotline.console.geo_map import draw

    return render(request, "console/map.html", {"user": user, **draw(session, geocoder, now=clock.now())})


@router.get("/stats", response_class=HTMLResponse)
def stats(request: Request, session: SessionDep, clock: ClockDep, user: Operator) -> HTMLResponse:
    today = local(clock.now()).date()
    months, year, month = [], today.year, today.month
    for _ in range(6):
        months.append(month_figures(session, year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return render(request, "console/stats.html", {"user": user, "months": months})
