"""Parents' online application (public, phone-sized): the form, the one-time SMS code, and the parent's
own status page (cancel, call-back, survey), reached by a signed link. The work is in
hotline.applications; a browser gets Korean pages, a script asking for JSON gets problem+json."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import ClockDep, OfferCtx, SessionDep, SettingsDep, client_address
from api.pages import render
from api.problems import translate
from hotline.core import links
from hotline.applications import form as app_form
from hotline.applications import service
from hotline.core.errors import DomainError, FieldProblem, InvalidInput
from hotline.models import CareRequest
from hotline.requests.schemas import CareRequestCreate
from hotline.applications.views import status_view

router = APIRouter(prefix="/apply", tags=["applications"], include_in_schema=False)
CODE, STATUS = "apply-code", "apply-status"


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def _errors(exc: DomainError) -> list[dict]:
    return [{"field": e.field, "label": app_form.label(e.field), "message": e.message_ko, "message_en": e.message_en}
            for e in exc.errors] or [{"field": "", "label": "", "message": exc.detail_ko, "message_en": exc.detail_en}]


@router.get("", response_class=HTMLResponse)
def form_page(request: Request) -> HTMLResponse:
    return render(request, "apply/form.html", {"form": {}, "rows": range(app_form.CHILD_ROWS)})


@router.post("")
async def submit(request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep, ctx: OfferCtx) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        try:
            body = CareRequestCreate.model_validate(app_form.to_body(form))
        except ValidationError as exc:
            raise InvalidInput(*[FieldProblem(e["field"], e["message"], e["message_en"]) for e in translate(exc.errors())])
        ticket = service.send_code(session, body, client=client_address(request), now=clock.now(), ctx=ctx,
                                   secret=settings.secret_key)
    except DomainError as exc:
        session.rollback()
        if _wants_json(request):
            raise
        return render(request, "apply/form.html", {"form": form, "rows": range(app_form.CHILD_ROWS),
                                                   "errors": _errors(exc)}, status_code=exc.status)
    token = links.sign(settings.secret_key, CODE, ticket.id, ticket.expires_at)
    session.commit()
    return RedirectResponse(f"/apply/code/{token}", status_code=303)


def _ticket(token: str, settings, clock) -> int | None:
    return links.verify(settings.secret_key, CODE, token, clock.now())


@router.get("/code/{token}", response_class=HTMLResponse)
def code_page(token: str, request: Request, settings: SettingsDep, clock: ClockDep) -> HTMLResponse:
    if _ticket(token, settings, clock) is None:
        return render(request, "apply/gone.html", {}, status_code=410)
    return render(request, "apply/code.html", {"token": token})


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
            return render(request, "apply/gone.html", {}, status_code=exc.status)
        return render(request, "apply/code.html", {"token": token, "errors": _errors(exc)}, status_code=exc.status)
    except DomainError as exc:  # the window passed meanwhile, say: the draft is refused as on the form
        session.rollback()
        if _wants_json(request):
            raise
        return render(request, "apply/gone.html", {"errors": _errors(exc)}, status_code=exc.status)
    url = _status_url(settings, care)
    session.commit()
    return RedirectResponse(url, status_code=303)


def _status_url(settings, care: CareRequest) -> str:
    from datetime import timedelta

    return "/apply/s/" + links.sign(settings.secret_key, STATUS, care.id, care.end_at + timedelta(days=14))


def _care(token: str, session, settings, clock) -> CareRequest | None:
    request_id = links.verify(settings.secret_key, STATUS, token, clock.now())
    return session.get(CareRequest, request_id) if request_id else None


@router.get("/s/{token}", response_class=HTMLResponse)
def status(token: str, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep,
           done: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    care = _care(token, session, settings, clock)
    if care is None:
        return render(request, "apply/gone.html", {}, status_code=404)
    return render(request, "apply/status.html", {**status_view(session, care, now=clock.now()), "token": token,
                                                 "done": done})


@router.post("/s/{token}/{action}")
def act(token: str, action: str, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep,
        ctx: OfferCtx, score: Annotated[int | None, Form(ge=1, le=5)] = None,
        day: Annotated[str, Form(max_length=20)] = "", start_time: Annotated[str, Form(max_length=10)] = "",
        end_time: Annotated[str, Form(max_length=10)] = "") -> Response:
    care = _care(token, session, settings, clock)
    if care is None:
        return render(request, "apply/gone.html", {}, status_code=404)
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
            return render(request, "apply/gone.html", {}, status_code=404)
    except DomainError as exc:
        session.rollback()
        if _wants_json(request):
            raise
        view = status_view(session, care, now=now)
        if action == "change":  # what the parent typed stays in the form
            view["change"] = {"day": day, "start_time": start_time, "end_time": end_time}
        return render(request, "apply/status.html", {**view, "token": token, "errors": _errors(exc)},
                      status_code=exc.status)
    session.commit()
    return RedirectResponse(f"/apply/s/{token}?done={action}", status_code=303)
