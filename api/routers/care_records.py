"""Console pages for the provider records and aftercare: adjustment requests to approve, follow-up cases
to handle, a request's records (logs, health details, result, cases — every read logged), and sending a
provider the link to their workspace. Signed-in operators only (the console's session cookie)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ClockDep, RowId, SessionDep, SettingsDep, actor
from api.pages import render
from api.routers.console.common import Operator, same_origin
from hotline.requests import intake
from hotline.aftercare import service as aftercare
from hotline.applications import channel_of
from hotline.core.errors import DomainError, NotFound
from hotline.models import Provider
from hotline.records import service as records

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False, dependencies=[Depends(same_origin)])
Msg = Annotated[str | None, Query(max_length=200)]


@router.get("/adjustments", response_class=HTMLResponse)
def adjustments(request: Request, session: SessionDep, clock: ClockDep, user: Operator, done: Msg = None,
                error: Msg = None) -> HTMLResponse:
    return render(request, "console/adjustments.html", {"user": user, "now": clock.now(), "done": done, "error": error,
                                                        "rows": records.pending_adjustments(session),
                                                        "kinds": records.KINDS_KO})


@router.post("/adjustments/{adjustment_id}")
def decide(adjustment_id: RowId, decision: Annotated[str, Form(pattern="^(approve|reject)$")], session: SessionDep,
           clock: ClockDep, user: Operator) -> Response:
    try:
        records.decide_adjustment(session, adjustment_id, approve=decision == "approve", actor=actor(user),
                                  now=clock.now())
    except DomainError as exc:
        session.rollback()
        return RedirectResponse(f"/console/adjustments?error={exc.detail_ko[:150]}", status_code=303)
    session.commit()
    verdict = "승인했습니다" if decision == "approve" else "반려했습니다"
    return RedirectResponse(f"/console/adjustments?done={verdict}. 결정을 문자로 알렸습니다.", status_code=303)


@router.get("/followups", response_class=HTMLResponse)
def followups(request: Request, session: SessionDep, clock: ClockDep, user: Operator, done: Msg = None,
              error: Msg = None) -> HTMLResponse:
    return render(request, "console/followups.html", {"user": user, "now": clock.now(), "done": done, "error": error,
                                                      "rows": aftercare.open_cases(session),
                                                      "sources": aftercare.SOURCES_KO})


@router.post("/followups/{case_id}/close")
def close(case_id: RowId, note: Annotated[str, Form(max_length=500)], session: SessionDep, clock: ClockDep,
          user: Operator) -> Response:
    try:
        aftercare.close_case(session, case_id, actor=actor(user), note=note, now=clock.now())
    except DomainError as exc:
        session.rollback()
        return RedirectResponse(f"/console/followups?error={exc.detail_ko[:150]}", status_code=303)
    session.commit()
    return RedirectResponse("/console/followups?done=종결했습니다", status_code=303)


@router.get("/requests/{ref}/records", response_class=HTMLResponse)
def request_records(ref: str, request: Request, session: SessionDep, clock: ClockDep, user: Operator) -> HTMLResponse:
    care = intake.get_request(session, ref)
    view = records.records_of(session, care, actor=actor(user), now=clock.now())
    page = render(request, "console/records.html", {
        "user": user, "now": clock.now(), "care": care, **view, "channel": channel_of(care.created_by),
        "cases": aftercare.cases_of(session, care), "sources": aftercare.SOURCES_KO, "results": records.RESULTS_KO,
        "kinds": records.KINDS_KO})
    session.commit()  # the access records
    return page


@router.post("/providers/{provider_id}/workspace-link")
def send_link(provider_id: RowId, session: SessionDep, settings: SettingsDep, clock: ClockDep,
              user: Operator) -> Response:
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise NotFound("돌봄기관", "Provider")
    records.send_workspace_link(session, provider, base=settings.public_url, secret=settings.secret_key, now=clock.now(),
                                days=settings.workspace_link_days)
    session.commit()
    return RedirectResponse("/console/providers", status_code=303)
