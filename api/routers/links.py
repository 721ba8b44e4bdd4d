"""Pages opened from an SMS, without login: a provider's offer (Accept / Decline) and a parent's status.
Link scanners and previews open links, so a GET only shows; only a POST with the signed token answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from api.deps import ClockDep, SessionDep, SettingsDep
from api.pages import render
from hotline import links
from hotline.clock import fmt_window, local
from hotline.intake import children_of
from hotline.lifecycle import RequestStatus
from hotline.models import Assignment, CareRequest, Guardian, Offer, OfferStatus, Provider
from hotline.offers import Outcome, answer
from hotline.sms.templates import children_text, needs_text
from hotline.views import child_ages, district_name
from sqlmodel import select

router = APIRouter(tags=["links"], include_in_schema=False)


def _offer_view(session, offer: Offer, places) -> dict:
    request = session.get(CareRequest, offer.request_id)
    provider = session.get(Provider, offer.provider_id)
    lang = provider.language
    ages = child_ages(children_of(session, request), request.start_at)
    return {"offer": offer, "lang": lang, "window": fmt_window(request.start_at, request.end_at, lang),
            "district": district_name(request, places), "children": children_text(ages, lang),
            "needs": needs_text(request.needs, lang), "expires": local(offer.expires_at).strftime("%H:%M"),
            "provider": provider}


def _gone(request: Request, status: int = 404) -> HTMLResponse:
    return render(request, "link_gone.html", {"lang": "ko"}, status_code=status)


@router.get("/o/{token}", response_class=HTMLResponse)
def show_offer(token: str, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep) -> HTMLResponse:
    offer_id = links.verify(settings.secret_key, "offer", token, clock.now())
    offer = session.get(Offer, offer_id) if offer_id else None
    if offer is None:
        return _gone(request)
    view = _offer_view(session, offer, request.app.state.geocoder)
    view["open"] = offer.status == OfferStatus.pending and offer.expires_at > clock.now()
    return render(request, "offer.html", {**view, "token": token})


@router.post("/o/{token}", response_class=HTMLResponse)
def answer_offer(token: str, action: Annotated[str, Form(pattern="^(accept|decline)$")], request: Request,
                 session: SessionDep, settings: SettingsDep, clock: ClockDep) -> HTMLResponse:
    offer_id = links.verify(settings.secret_key, "offer", token, clock.now())
    offer = session.get(Offer, offer_id) if offer_id else None
    if offer is None:
        return _gone(request)
    outcome = answer(session, offer.id, accept=action == "accept", channel="link", now=clock.now(),
                     ctx=request.app.state.offer_context)
    session.commit()
    view = _offer_view(session, offer, request.app.state.geocoder)
    status = 200 if outcome in (Outcome.accepted, Outcome.declined) else 409
    return render(request, "offer_answered.html", {**view, "outcome": outcome.value}, status_code=status)


@router.get("/s/{token}", response_class=HTMLResponse)
def show_status(token: str, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep) -> HTMLResponse:
    request_id = links.verify(settings.secret_key, "status", token, clock.now())
    care = session.get(CareRequest, request_id) if request_id else None
    if care is None:
        return _gone(request)
    guardian = session.get(Guardian, care.guardian_id)
    status = RequestStatus(care.status)
    step = {RequestStatus.received: "searching", RequestStatus.matching: "searching", RequestStatus.offered: "offered",
            RequestStatus.unmatched: "unmatched", RequestStatus.confirmed: "confirmed",
            RequestStatus.in_care: "in_care", RequestStatus.completed: "completed",
            RequestStatus.cancelled: "cancelled"}[status]
    provider = None
    if status in (RequestStatus.confirmed, RequestStatus.in_care):
        assignment = session.exec(select(Assignment).where(Assignment.request_id == care.id,
                                                           Assignment.active == True)).first()  # noqa: E712
        provider = session.get(Provider, assignment.provider_id) if assignment else None
    return render(request, "status.html", {"lang": guardian.language, "step": step, "ref": care.ref,
                                           "window": fmt_window(care.start_at, care.end_at, guardian.language),
                                           "provider": provider})
