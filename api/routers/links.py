"""Pages opened from an SMS, without login: a provider's offer (Accept / Decline), and the parent's status
link, which leads to the parent's one status page.
Link scanners and previews open links, so a GET only shows; only a POST with the signed token answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ClockDep, GeocoderDep, OfferCtx, SessionDep, SettingsDep
from api.pages import render
from api.routers.applications import status_token
from hotline.core import links
from hotline.models import CareRequest, Offer
from hotline.offers.answers import Outcome, answer
from hotline.requests.views import offer_page

router = APIRouter(tags=["links"], include_in_schema=False)


def _gone(request: Request) -> HTMLResponse:
    return render(request, "link_gone.html", {"lang": "ko"}, status_code=404)


def _offer(token: str, session, settings, clock) -> Offer | None:
    offer_id = links.verify(settings.secret_key, "offer", token, clock.now())
    return session.get(Offer, offer_id) if offer_id else None


@router.get("/o/{token}", response_class=HTMLResponse)
def show_offer(token: str, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep,
               geocoder: GeocoderDep) -> HTMLResponse:
    offer = _offer(token, session, settings, clock)
    if offer is None:
        return _gone(request)
    return render(request, "offer.html", offer_page(session, offer, geocoder, clock.now()))


@router.post("/o/{token}", response_class=HTMLResponse)
def answer_offer(token: str, action: Annotated[str, Form(pattern="^(accept|decline)$")], request: Request,
                 session: SessionDep, settings: SettingsDep, clock: ClockDep, geocoder: GeocoderDep,
                 ctx: OfferCtx) -> HTMLResponse:
    offer = _offer(token, session, settings, clock)
    if offer is None:
        return _gone(request)
    outcome = answer(session, offer.id, accept=action == "accept", channel="link", now=clock.now(),
                     ctx=ctx)
    view = offer_page(session, offer, geocoder, clock.now())
    status = 200 if outcome in (Outcome.accepted, Outcome.declined) else 409
    page = render(request, "offer_answered.html", {**view, "outcome": outcome.value}, status_code=status)
    session.commit()  # last: a page that cannot be shown leaves the answer unsaved, never saved behind an error
    return page


@router.get("/s/{token}")
def show_status(token: str, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep) -> Response:
    """The SMS's short status link leads to the parent's one status page (api/routers/applications.py), the
    same for a phone call and an online application."""
    request_id = links.verify(settings.secret_key, "status", token, clock.now())
    care = session.get(CareRequest, request_id) if request_id else None
    if care is None:
        return _gone(request)
    return RedirectResponse("/apply/s/" + status_token(settings, care), status_code=303)
