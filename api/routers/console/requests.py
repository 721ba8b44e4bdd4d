"""A request's page, its printable copy, and the operator's actions on it (offer — to any provider, with an
override reason when it breaks a rule —, cancel, reveal the number, note, apply a suggestion, retry).
Moving a confirmed child and editing the plan are `care_changes`."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ClockDep, GeocoderDep, OfferCtx, SessionDep, actor
from api.pages import render
from hotline.requests import intake
from hotline import offers
from hotline.privacy import access
from hotline.console import actions, read
from hotline.offers import fallthrough
from hotline.core.errors import DomainError
from hotline.models import CareRequest, Provider
from api.routers.console.common import FLASH, Operator, router, take_flash, wants_problem


def _request_context(session, care: CareRequest, clock, geocoder, ctx, user) -> dict[str, Any]:
    now = clock.now()
    page = read.request_page(session, care, now=now, places=geocoder)
    return {"user": user, "r": page, "now": now,
            "choices": actions.choices(session, care, now=now, ctx=ctx),
            "can_cancel": care.status in actions.CANCELLABLE, "can_offer": care.status in actions.OFFERABLE,
            "can_retry": care.status == "unmatched", "suggestions": actions.suggestions(session, care),
            "providers": actions.all_providers(session) if care.status in actions.OFFERABLE else [],
            "can_reassign": care.status in fallthrough.PLACED and not care.no_show_at,
            "can_replace": fallthrough.can_replace(care, now=now, ctx=ctx),
            "no_show": care.no_show_at is not None and care.status in fallthrough.PLACED}


def _show_request(request: Request, session, care, clock, geocoder, ctx, user, *, status_code: int = 200,
                  **extra) -> HTMLResponse:
    access.log_access(session, actor=actor(user), action="console_read_request", request=care, now=clock.now())
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
    flashed = take_flash(request)
    page = _show_request(request, session, care, clock, geocoder, ctx, user, error=error, done=done or flashed)
    if flashed:
        page.delete_cookie(FLASH, path="/console")
    return page


@router.get("/requests/{ref}/print", response_class=HTMLResponse)
def request_print(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep,
                  user: Operator) -> HTMLResponse:
    care = intake.get_request(session, ref)
    access.log_access(session, actor=actor(user), action="console_print_request", request=care, now=clock.now())
    page = render(request, "console/print.html", {"user": user, "now": clock.now(),
                                                  "r": read.request_page(session, care, now=clock.now(), places=geocoder)})
    session.commit()
    return page


def _refused(request: Request, session, care, clock, geocoder, ctx, user, exc: DomainError,
             typed: dict[str, str] | None = None, which: str = "") -> Response:
    """All or nothing: roll back, then say why on the request's page (or as problem+json to a script), with
    what was typed still in the form (`which` names it, so that its fields are marked)."""
    session.rollback()
    if wants_problem(request):
        raise exc
    errors = [{"field": e.field, "message": e.message_ko} for e in exc.errors] or \
             [{"field": "", "message": exc.detail_ko or exc.title_ko}]
    session.refresh(care)
    return _show_request(request, session, care, clock, geocoder, ctx, user, status_code=exc.status,
                         action_errors=errors, form={**dict(request.query_params), **(typed or {})}, failed=which,
                         invalid={f"{which}.{e['field']}" for e in errors})


def _done(care: CareRequest, message: str) -> Response:
    return RedirectResponse(f"/console/requests/{care.ref}?done={quote(message)}", status_code=303)


Reason = Annotated[str, Form(max_length=300)]


@router.post("/requests/{ref}/offer")
def offer_to(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, ctx: OfferCtx,
             user: Operator, provider: Annotated[str, Form(max_length=40)] = "", reason: Reason = "",
             other: Annotated[str, Form(max_length=40)] = "", override_reason: Reason = "") -> Response:
    care = intake.get_request(session, ref)
    code = other or provider  # a provider picked outside the ranked list wins over the radio
    try:
        offer = actions.offer_to(session, care, code, actor=actor(user), reason=reason, now=clock.now(), ctx=ctx,
                                 override_reason=override_reason)
        name = session.get(Provider, offer.provider_id).name
        session.commit()
    except DomainError as exc:
        return _refused(request, session, care, clock, geocoder, ctx, user, exc, which="offer",
                        typed={"reason": reason, "provider": provider, "other": other,
                               "override_reason": override_reason})
    return _done(care, f"{name}에 제안 문자를 보냈습니다.")


@router.post("/requests/{ref}/cancel")
def cancel(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, ctx: OfferCtx,
           user: Operator, reason: Reason = "", confirm: Annotated[str, Form(max_length=10)] = "") -> Response:
    care = intake.get_request(session, ref)
    try:
        actions.cancel(session, care, actor=actor(user), reason=reason, confirmed=bool(confirm), now=clock.now())
        session.commit()
    except DomainError as exc:
        return _refused(request, session, care, clock, geocoder, ctx, user, exc, which="cancel",
                        typed={"cancel_reason": reason, "cancel_confirm": confirm})
    return _done(care, "요청을 취소했습니다. 보호자와 기관에 취소 문자가 갑니다.")


@router.post("/requests/{ref}/reveal", response_class=HTMLResponse)
def reveal(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, ctx: OfferCtx,
           user: Operator, reason: Reason = "") -> Response:
    """The parent's full number for a call-back, on this response only (never in a URL); logged."""
    care = intake.get_request(session, ref)
    try:
        number = actions.reveal_phone(session, care, actor=actor(user), reason=reason, now=clock.now())
    except DomainError as exc:
        return _refused(request, session, care, clock, geocoder, ctx, user, exc, which="reveal",
                        typed={"reveal_reason": reason})
    return _show_request(request, session, care, clock, geocoder, ctx, user, revealed=number)


@router.post("/requests/{ref}/note")
def note(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, ctx: OfferCtx,
         user: Operator, note: Annotated[str, Form(max_length=400)] = "") -> Response:
    care = intake.get_request(session, ref)
    try:
        actions.add_note(session, care, actor=actor(user), text=note, now=clock.now())
        session.commit()
    except DomainError as exc:
        return _refused(request, session, care, clock, geocoder, ctx, user, exc, which="note", typed={"note": note})
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
        return _refused(request, session, care, clock, geocoder, ctx, user, exc, which="suggestion",
                        typed={"suggestion_reason": reason, "suggestion_key": key})
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
