"""The intake form used while the parent is on the phone, and its duplicate-caller panel."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import select

from api.deps import ClockDep, GeocoderDep, OfferCtx, SessionDep, actor
from api.pages import render
from api.problems import translate
from hotline import offers
from hotline.privacy import access
from hotline.core.clock import local
from hotline.console import intake_form, labels, read
from hotline.core.errors import FieldProblem, InvalidInput
from hotline.models import CareRequest, Offer, OfferStatus
from hotline.privacy.masking import mask
from hotline.core.phones import to_e164
from hotline.requests.schemas import CareRequestCreate
from api.routers.console.common import Operator, flash, router
from api.routers.console.board import Short


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
        target, told = f"/console/requests/{created.request.ref}", _logged(session, created.request)
        session.commit()
    except InvalidInput as exc:
        return refuse([e.as_dict() for e in exc.errors])
    return flash(RedirectResponse(target, status_code=303), told)


def _logged(session, care: CareRequest) -> str:
    """What the operator is told once the call is logged: where matching stands right now."""
    asked = len(session.exec(select(Offer.id).where(Offer.request_id == care.id,
                                                    Offer.status == OfferStatus.pending)).all())
    if care.status == "unmatched":
        return "접수했습니다. 지금 맡을 수 있는 기관이 없어 현황판 '지금 처리'에 올렸습니다. 아래에서 직접 제안할 수 있습니다."
    if asked:
        return f"접수했습니다. 기관 {asked}곳에 제안 문자를 보냈고 수락을 기다립니다. 보호자에게 접수 안내 문자가 갑니다."
    return "접수했습니다. 자동 매칭을 시작했습니다. 보호자에게 접수 안내 문자가 갑니다."


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
        access.log_access(session, actor=actor(user), action="console_caller_history", request=None, now=clock.now())
        session.commit()
    return render(request, "console/_caller.html", {"history": history, "phone_masked": mask(e164)})
