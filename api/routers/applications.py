"""Parents' online application (public, phone-sized): the form, the one-time SMS code (send it again, change
the number), and the parent's one status page for every request (cancel, call-back, survey), reached by a
signed link and refreshing itself from `/live`. The work is in hotline.applications; a browser gets Korean
pages (the status page in the guardian's language), a script asking for JSON gets problem+json.

On an error each input is marked (aria-invalid, its message beside it through aria-describedby), a summary
at the top links to each, the first marked input takes the focus, and the form keeps what was typed."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import ClockDep, OfferCtx, SessionDep, SettingsDep, client_address
from api.pages import render, templates
from api.problems import translate
from hotline.applications import form as app_form
from hotline.applications import service
from hotline.applications.views import status_view
from hotline.core import links
from hotline.core.clock import local
from hotline.core.errors import DomainError, FieldProblem, InvalidInput
from hotline.models import CareRequest
from hotline.requests.schemas import CareRequestCreate

router = APIRouter(prefix="/apply", tags=["applications"], include_in_schema=False)
CODE, STATUS = "apply-code", "apply-status"
RESUME = "dolbom_apply"  # the browser's half of the key to the form as typed (hotline.applications.service)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def _named(label: str, message: str) -> str:
    """A summary line names its field, unless the message already does."""
    return message if label in message else f"{label}: {message}"


def _errors(exc: DomainError, form: dict | None = None, inputs: dict[str, str] | None = None) -> dict:
    """The page's view of an error: a summary in page order linking to each input, the message beside each
    input (by id), and the input that takes the focus. Korean on Korean pages: English is the problem+json's."""
    by_input: dict[str, list[FieldProblem]] = {}
    loose: list[dict] = []
    for problem in exc.errors:
        if ident := app_form.input_id(problem.field, form or {}, inputs):
            by_input.setdefault(ident, []).append(problem)
        else:
            loose.append({"id": None, "ko": problem.message_ko, "en": problem.message_en})
    if not exc.errors:
        loose.append({"id": None, "ko": exc.detail_ko, "en": exc.detail_en})
    order = {ident: n for n, ident in enumerate(app_form.INPUTS)}
    marked = sorted(by_input, key=lambda ident: order.get(ident, len(order)))
    messages = {ident: " ".join(dict.fromkeys(p.message_ko for p in by_input[ident])) for ident in marked}
    messages_en = {ident: " ".join(dict.fromkeys(p.message_en for p in by_input[ident])) for ident in marked}
    summary = [{"id": ident, "ko": _named(app_form.INPUT_LABELS.get(ident, "입력값"), messages[ident]),
                "en": messages_en[ident]} for ident in marked] + loose
    return {"errors": summary, "error_title": (exc.title_ko, exc.title_en), "errs": messages,
            "errs_en": messages_en, "first": marked[0] if marked else None}


def _form_page(request: Request, settings, clock, form: dict, errors: dict | None = None, status_code: int = 200,
               **extra) -> HTMLResponse:
    return render(request, "apply/form.html", {"form": form, "rows": range(app_form.CHILD_ROWS),
                                               "hotline": settings.hotline_number,
                                               "today": f"{local(clock.now()):%Y-%m-%d}", **(errors or {}), **extra},
                  status_code=status_code)


@router.get("", response_class=HTMLResponse)
def form_page(request: Request, settings: SettingsDep, clock: ClockDep) -> HTMLResponse:
    return _form_page(request, settings, clock, {})


def _body(form: dict, settings) -> CareRequestCreate:
    try:
        return CareRequestCreate.model_validate(app_form.to_body(form, max_hours=settings.max_window_hours))
    except ValidationError as exc:
        raise InvalidInput(*[FieldProblem(e["field"], e["message"], e["message_en"]) for e in translate(exc.errors())])


def _to_code_page(settings, ticket, resume: str, *, sent: bool = False) -> RedirectResponse:
    token = links.sign(settings.secret_key, CODE, ticket.id, ticket.expires_at)
    response = RedirectResponse(f"/apply/code/{token}" + ("?sent=1" if sent else ""), status_code=303)
    response.set_cookie(RESUME, resume, max_age=service.CODE_MINUTES * 60, path="/apply/code/", httponly=True,
                        samesite="strict", secure=settings.public_url.startswith("https"))
    return response


@router.post("")
async def submit(request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep, ctx: OfferCtx) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    resume = secrets.token_urlsafe(24)
    try:
        ticket = service.send_code(session, _body(form, settings), client=client_address(request), now=clock.now(),
                                   ctx=ctx, secret=settings.secret_key, form=form, resume=resume)
    except DomainError as exc:
        session.rollback()
        if _wants_json(request):
            raise
        return _form_page(request, settings, clock, form, _errors(exc, form), status_code=exc.status)
    session.commit()
    return _to_code_page(settings, ticket, resume)


def _ticket(token: str, settings, clock) -> int | None:
    return links.verify(settings.secret_key, CODE, token, clock.now())


def _code_page(request: Request, token: str, settings, errors: dict | None = None, status_code: int = 200,
               **extra) -> HTMLResponse:
    return render(request, "apply/code.html", {"token": token, "hotline": settings.hotline_number,
                                               "first": "code", **(errors or {}), **extra}, status_code=status_code)


def _gone(request: Request, settings, errors: dict | None = None, status_code: int = 410) -> HTMLResponse:
    return render(request, "apply/gone.html", {"hotline": settings.hotline_number, **(errors or {})},
                  status_code=status_code)


@router.get("/code/{token}", response_class=HTMLResponse)
def code_page(token: str, request: Request, settings: SettingsDep, clock: ClockDep,
              sent: Annotated[str | None, Query(max_length=2)] = None) -> HTMLResponse:
    if _ticket(token, settings, clock) is None:
        return _gone(request, settings)
    return _code_page(request, token, settings, sent=bool(sent))


@router.post("/code/{token}")
def confirm(token: str, code: Annotated[str, Form(max_length=20)], request: Request, session: SessionDep,
            settings: SettingsDep, clock: ClockDep, ctx: OfferCtx) -> Response:
    ticket_id = _ticket(token, settings, clock)
    try:
        if ticket_id is None:
            raise service.CodeGone()
        care = service.confirm_code(session, ticket_id, code, now=clock.now(), ctx=ctx, secret=settings.secret_key)
    except (service.WrongCode, service.CodeGone) as exc:
        session.commit()  # the try counts even though it failed
        if _wants_json(request):
            raise
        if isinstance(exc, service.CodeGone):
            return _gone(request, settings, status_code=exc.status)
        return _code_page(request, token, settings, _errors(exc), status_code=exc.status)
    except DomainError as exc:  # the window passed meanwhile, say: the draft is refused as on the form
        session.rollback()
        if _wants_json(request):
            raise
        return _gone(request, settings, _errors(exc), status_code=exc.status)
    url = _status_url(settings, care)
    session.commit()
    response = RedirectResponse(url, status_code=303)
    response.delete_cookie(RESUME, path="/apply/code/")
    return response


class _NoTypedForm(DomainError):
    def __init__(self, hotline: str) -> None:
        super().__init__("처음부터 다시 신청해 주세요", "Please apply again",
                         f"이 브라우저에서 입력하신 내용을 찾을 수 없습니다. 처음부터 다시 신청하시거나 상담 전화({hotline})로 "
                         "신청해 주세요.", f"The form typed in this browser is gone. Apply again or call {hotline}.",
                         status=409, type="/problems/form-gone")


def _typed(token: str, request: Request, session, settings, clock) -> tuple[int | None, dict | None]:
    ticket_id = _ticket(token, settings, clock)
    if ticket_id is None:
        return None, None
    return ticket_id, service.typed_form(session, ticket_id, request.cookies.get(RESUME), now=clock.now(),
                                         secret=settings.secret_key)


@router.post("/code/{token}/resend")
def resend(token: str, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep,
           ctx: OfferCtx) -> Response:
    """A new code for the same form (the old one stops working), within the same hourly limits."""
    ticket_id, form = _typed(token, request, session, settings, clock)
    if ticket_id is None:
        return _gone(request, settings)
    resume = secrets.token_urlsafe(24)
    try:
        if form is None:
            raise _NoTypedForm(settings.hotline_number)
        body = _body(form, settings)
        service.retire(session, ticket_id)
        ticket = service.send_code(session, body, client=client_address(request), now=clock.now(), ctx=ctx,
                                   secret=settings.secret_key, form=form, resume=resume)
    except (service.TooManyCodes, _NoTypedForm) as exc:
        session.rollback()
        if _wants_json(request):
            raise
        return _code_page(request, token, settings, _errors(exc), status_code=exc.status)
    except DomainError as exc:  # the form no longer passes (the start went by): back to it, as typed
        session.rollback()
        if _wants_json(request):
            raise
        return _form_page(request, settings, clock, form, _errors(exc, form), status_code=exc.status)
    session.commit()
    return _to_code_page(settings, ticket, resume, sent=True)


@router.get("/code/{token}/edit", response_class=HTMLResponse)
def change_number(token: str, request: Request, session: SessionDep, settings: SettingsDep,
                  clock: ClockDep) -> HTMLResponse:
    """The form as typed, to change the number (or anything else) and ask for a code again."""
    ticket_id, form = _typed(token, request, session, settings, clock)
    if ticket_id is None:
        return _gone(request, settings)
    if form is None:
        return _code_page(request, token, settings, _errors(_NoTypedForm(settings.hotline_number)), status_code=409)
    return _form_page(request, settings, clock, form, {"first": "guardian_phone"}, editing=True)


def _status_url(settings, care: CareRequest) -> str:
    return "/apply/s/" + status_token(settings, care)


def status_token(settings, care: CareRequest) -> str:
    """The parent's page stays open two weeks after care (the survey, a late look)."""
    return links.sign(settings.secret_key, STATUS, care.id, care.end_at + timedelta(days=14))


def _care(token: str, session, settings, clock) -> CareRequest | None:
    request_id = links.verify(settings.secret_key, STATUS, token, clock.now())
    return session.get(CareRequest, request_id) if request_id else None


def _parts(view: dict) -> dict:
    """The parts of the status page that change, rendered, and a version the page compares."""
    context = {**view, "t": (lambda ko, en: en if view["lang"] == "en" else ko)}
    live = templates.env.get_template("apply/_status_live.html").render(context)
    actions = templates.env.get_template("apply/_status_actions.html").render(context)
    version = hashlib.sha256((live + actions).encode()).hexdigest()[:16]
    label, headline = view["label"], view["headline"]
    announce = context["t"](f"{label[0]}. {headline[0]}", f"{label[1]}. {headline[1]}")
    return {"version": version, "live": live, "actions": actions, "announce": announce, "poll": view["poll"]}


def _status_page(request: Request, view: dict, status_code: int = 200, **extra) -> HTMLResponse:
    return render(request, "apply/status.html", {**view, **_parts(view), **extra}, status_code=status_code)


@router.get("/s/{token}", response_class=HTMLResponse)
def status(token: str, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep, ctx: OfferCtx,
           done: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    care = _care(token, session, settings, clock)
    if care is None:
        return _gone(request, settings, status_code=404)
    return _status_page(request, {**status_view(session, care, now=clock.now(), ctx=ctx), "token": token}, done=done)


@router.get("/s/{token}/live")
def live(token: str, session: SessionDep, settings: SettingsDep, clock: ClockDep, ctx: OfferCtx) -> Response:
    """What the open status page asks every few seconds: the changing parts, rendered, and their version."""
    care = _care(token, session, settings, clock)
    if care is None:
        return JSONResponse({"poll": 0}, status_code=404)
    return JSONResponse(_parts({**status_view(session, care, now=clock.now(), ctx=ctx), "token": token}))


@router.post("/s/{token}/{action}")
def act(token: str, action: str, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep,
        ctx: OfferCtx, score: Annotated[int | None, Form(ge=1, le=5)] = None,
        day: Annotated[str, Form(max_length=20)] = "", start_time: Annotated[str, Form(max_length=10)] = "",
        end_time: Annotated[str, Form(max_length=10)] = "") -> Response:
    care = _care(token, session, settings, clock)
    if care is None:
        return _gone(request, settings, status_code=404)
    now = clock.now()
    try:
        if action == "cancel":
            service.cancel(session, care, now=now)
        elif action == "callback":
            service.ask_call_back(session, care, now=now)
        elif action == "absent":
            service.report_absent(session, care, now=now)
        elif action == "change":
            service.change_window(session, care, {"day": day, "start_time": start_time, "end_time": end_time},
                                  now=now, ctx=ctx)
        elif action == "survey":
            if score is None:
                raise InvalidInput(FieldProblem("score", "만족도를 골라 주세요.", "Choose a score."))
            service.answer_survey(session, care, score, now=now)
        else:
            return _gone(request, settings, status_code=404)
    except DomainError as exc:
        session.rollback()
        if _wants_json(request):
            raise
        view = {**status_view(session, care, now=now, ctx=ctx), "token": token}
        inputs = {**app_form.CHANGE_INPUTS, "score": "score1"} if action in ("change", "survey") else {}
        if action == "change":  # what the parent typed stays in the form
            view["change"] = {"day": day, "start_time": start_time, "end_time": end_time}
        return _status_page(request, {**view, **_errors(exc, inputs=inputs)}, status_code=exc.status)
    session.commit()
    return RedirectResponse(f"/apply/s/{token}?done={action}", status_code=303)
