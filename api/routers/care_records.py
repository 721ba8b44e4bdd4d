"""Console pages for the provider records and aftercare: adjustment requests to approve (or to close as
expired when the care has ended), follow-up cases to handle, a request's records (logs, health details,
result, cases — every read logged). Signed-in operators only (the console's session cookie). Sending a
provider the link to their workspace is on the providers page (api/routers/console/providers.py)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ClockDep, RowId, SessionDep, actor
from api.pages import render
from api.routers.console.common import Operator, same_origin, wants_problem
from hotline.requests import intake
from hotline.aftercare import service as aftercare
from hotline.applications import channel_of
from hotline.console import labels
from hotline.core.errors import DomainError
from hotline.records import adjustments, service as records

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False, dependencies=[Depends(same_origin)])
Msg = Annotated[str | None, Query(max_length=200)]


@router.get("/adjustments", response_class=HTMLResponse)
def adjustments_page(request: Request, session: SessionDep, clock: ClockDep, user: Operator, done: Msg = None,
                     error: Msg = None) -> HTMLResponse:
    return render(request, "console/adjustments.html", {"user": user, "now": clock.now(), "done": done, "error": error,
                                                        "rows": adjustments.waiting(session),
                                                        "stale": adjustments.stale(session),
                                                        "kinds": records.KINDS_KO, "statuses": labels.STATUS})


@router.post("/adjustments/{adjustment_id}")
def decide(adjustment_id: RowId, request: Request, decision: Annotated[str, Form(pattern="^(approve|reject|expire)$")],
           session: SessionDep, clock: ClockDep, user: Operator) -> Response:
    try:
        if decision == "expire":
            adjustments.close_stale(session, adjustment_id, actor=actor(user), now=clock.now())
        else:
            records.decide_adjustment(session, adjustment_id, approve=decision == "approve", actor=actor(user),
                                      now=clock.now())
    except DomainError as exc:
        session.rollback()
        if wants_problem(request):
            raise
        return RedirectResponse(f"/console/adjustments?error={quote(exc.detail_ko[:150])}", status_code=303)
    session.commit()
    verdict = {"approve": "승인했습니다. 결정을 문자로 알렸습니다.", "reject": "반려했습니다. 결정을 문자로 알렸습니다.",
               "expire": "돌봄이 끝난 조정신청을 만료로 닫았습니다."}[decision]
    return RedirectResponse(f"/console/adjustments?done={quote(verdict)}", status_code=303)


def _followups_page(request: Request, session, clock, user, *, done=None, error=None, typed: dict | None = None,
                    status_code: int = 200) -> HTMLResponse:
    return render(request, "console/followups.html", {"user": user, "now": clock.now(), "done": done, "error": error,
                                                      "rows": aftercare.open_cases(session), "typed": typed or {},
                                                      "sources": aftercare.SOURCES_KO}, status_code=status_code)


@router.get("/followups", response_class=HTMLResponse)
def followups(request: Request, session: SessionDep, clock: ClockDep, user: Operator, done: Msg = None,
              error: Msg = None) -> HTMLResponse:
    return _followups_page(request, session, clock, user, done=done, error=error)


@router.post("/followups/{case_id}/close")
def close(case_id: RowId, request: Request, session: SessionDep, clock: ClockDep, user: Operator,
          note: Annotated[str, Form(max_length=500)] = "") -> Response:
    try:
        aftercare.close_case(session, case_id, actor=actor(user), note=note, now=clock.now())
    except DomainError as exc:
        session.rollback()
        if wants_problem(request):
            raise
        # the note typed stays in its box beside the message
        return _followups_page(request, session, clock, user, error=exc.detail_ko or exc.title_ko,
                               typed={case_id: note}, status_code=exc.status)
    session.commit()
    return RedirectResponse(f"/console/followups?done={quote('사후관리 건을 종결했습니다.')}", status_code=303)


@router.get("/requests/{ref}/records", response_class=HTMLResponse)
def request_records(ref: str, request: Request, session: SessionDep, clock: ClockDep, user: Operator) -> HTMLResponse:
    care = intake.get_request(session, ref)
    view = records.records_of(session, care, actor=actor(user), now=clock.now())
    page = render(request, "console/records.html", {
        "user": user, "now": clock.now(), "care": care, **view, "channel": channel_of(care.created_by),
        "cases": aftercare.cases_of(session, care), "sources": aftercare.SOURCES_KO, "results": records.RESULTS_KO,
        "kinds": records.KINDS_KO, "adjustment_status": adjustments.STATUS_KO})
    session.commit()  # the access records
    return page
