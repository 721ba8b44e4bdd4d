"""The official's forms on a request, in the console: the referral form and site-visit checklists (fill in,
then a printable page). Reading them is an access record."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ClockDep, GeocoderDep, SessionDep, actor
from api.pages import render
from api.routers.console.common import Operator, same_origin, wants_problem
from hotline.requests import intake
from hotline.console import read
from hotline.core.errors import InvalidInput
from hotline.forms import service

router = APIRouter(prefix="/console/requests/{ref}/forms", tags=["console"], include_in_schema=False,
                   dependencies=[Depends(same_origin)])


def _page(request, session, care, clock, geocoder, user, template: str, *, errors=None, form=None, status_code=200,
          which: str = "", done: str | None = None):
    view = service.forms_of(session, care, actor=actor(user), now=clock.now())
    page = render(request, template, {
        "user": user, "now": clock.now(), "care": care, **view, "errors": errors or [], "form": form or {},
        "failed": which, "done": done, "invalid": {e["field"] for e in errors or []},
        "r": read.request_page(session, care, now=clock.now(), places=geocoder),
        "kinds": service.SERVICE_KINDS, "checks": service.CHECKS}, status_code=status_code)
    session.commit()  # the access record
    return page


SAVED = {"referral": "서비스 제공의뢰서를 저장했습니다.", "site-visit": "현장확인 체크리스트를 기록했습니다."}


@router.get("", response_class=HTMLResponse)
def forms(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep,
          user: Operator, saved: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    return _page(request, session, intake.get_request(session, ref), clock, geocoder, user, "console/forms.html",
                 done=SAVED.get(saved))


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
        if wants_problem(request):
            raise
        # everything typed and ticked comes back with the message, next to the field it names
        return _page(request, session, care, clock, geocoder, user, "console/forms.html", form=form, status_code=422,
                     which=which, errors=[{"field": e.field, "message": e.message_ko} for e in exc.errors])
    session.commit()
    return RedirectResponse(f"/console/requests/{care.ref}/forms?saved={which}#saved", status_code=303)
