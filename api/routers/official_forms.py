"""The official's forms on a request, in the console: the referral form and site-visit checklists (fill in,
then a printable page). Reading them is an access record."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ClockDep, GeocoderDep, SessionDep, actor
from api.pages import render
from api.routers.console.common import Operator, same_origin
from hotline.requests import intake
from hotline.console import read
from hotline.core.errors import InvalidInput
from hotline.forms import service

router = APIRouter(prefix="/console/requests/{ref}/forms", tags=["console"], include_in_schema=False,
                   dependencies=[Depends(same_origin)])


def _page(request, session, care, clock, geocoder, user, template: str, *, errors=None, form=None, status_code=200):
    view = service.forms_of(session, care, actor=actor(user), now=clock.now())
    page = render(request, template, {
        "user": user, "now": clock.now(), "care": care, **view, "errors": errors or [], "form": form or {},
        "r": read.request_page(session, care, now=clock.now(), places=geocoder),
        "kinds": service.SERVICE_KINDS, "checks": service.CHECKS}, status_code=status_code)
    session.commit()  # the access record
    return page


@router.get("", response_class=HTMLResponse)
def forms(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep,
          user: Operator) -> HTMLResponse:
    return _page(request, session, intake.get_request(session, ref), clock, geocoder, user, "console/forms.html")


@router.get("/print", response_class=HTMLResponse)
def printable(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep,
              user: Operator) -> HTMLResponse:
    return _page(request, session, intake.get_request(session, ref), clock, geocoder, user, "console/forms_print.html")


@router.post("/{which}")
async def save(ref: str, which: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep,
               user: Operator) -> Response:
    care = intake.get_request(session, ref)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        if which == "referral":
            service.save_referral(session, care, form=form, actor=actor(user), now=clock.now())
        elif which == "site-visit":
            service.add_site_visit(session, care, form=form, actor=actor(user), now=clock.now())
        else:
            return RedirectResponse(f"/console/requests/{care.ref}/forms", status_code=303)
    except InvalidInput as exc:
        session.rollback()
        return _page(request, session, care, clock, geocoder, user, "console/forms.html", form=form, status_code=422,
                     errors=[{"message": e.message_ko, "message_en": e.message_en} for e in exc.errors])
    session.commit()
    return RedirectResponse(f"/console/requests/{care.ref}/forms", status_code=303)
