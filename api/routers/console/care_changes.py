"""When care falls through or plans change, from the console: re-place a provider that did not turn up (one
action), move a confirmed child to another provider (the provider's withdrawal taken by phone, or the
operator's decision, with a reason and a confirmation), and edit a request's window, place, children
and notes (the edit page). The work is the offer loop's (hotline.offers.fallthrough, hotline.offers.plans)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ClockDep, GeocoderDep, OfferCtx, SessionDep, actor
from api.pages import render
from api.routers.console.common import Operator, router, wants_problem
from api.routers.console.new_call import form_fields
from api.routers.console.requests import _done, _refused
from hotline.console import intake_form, labels
from hotline.core.errors import DomainError, FieldProblem, InvalidInput
from hotline.offers import fallthrough, plans
from hotline.requests import intake
from hotline.requests.children import children_of

Reason = Annotated[str, Form(max_length=300)]


@router.post("/requests/{ref}/replace")
def replace_no_show(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep,
                    ctx: OfferCtx, user: Operator) -> Response:
    care = intake.get_request(session, ref)
    try:
        provider = fallthrough.replace_no_show(session, care, actor=actor(user), now=clock.now(), ctx=ctx)
        session.commit()
    except DomainError as exc:
        return _refused(request, session, care, clock, geocoder, ctx, user, exc)
    return _done(care, f"{provider.name} 미도착: 다른 기관을 찾고 있습니다. 보호자에게 문자가 갔습니다.")


@router.post("/requests/{ref}/reassign")
def reassign(ref: str, request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep,
             ctx: OfferCtx, user: Operator, reason: Reason = "", who: Annotated[str, Form(max_length=20)] = "",
             confirm: Annotated[str, Form(max_length=10)] = "") -> Response:
    care = intake.get_request(session, ref)
    try:
        problems = []
        if who not in ("provider", "operator"):
            problems.append(FieldProblem("who", "누구의 사정인지 골라 주세요.", "Say whose decision it is."))
        if not confirm:
            problems.append(FieldProblem("confirm", "확인란에 표시해 주세요. 보호자와 기관에 문자가 갑니다.",
                                         "Tick the confirmation: the parent and the provider are texted."))
        if problems:
            raise InvalidInput(*problems)
        why = fallthrough.Why.withdrawal if who == "provider" else fallthrough.Why.reassigned
        provider = fallthrough.release(session, fallthrough.lock_request(session, care), why=why, actor=actor(user),
                                       reason=fallthrough.reason_given(reason), now=clock.now(), ctx=ctx)
        session.commit()
    except DomainError as exc:
        return _refused(request, session, care, clock, geocoder, ctx, user, exc, which="reassign",
                        typed={"reassign_reason": reason, "reassign_who": who, "reassign_confirm": confirm})
    return _done(care, f"{provider.name}의 배치를 풀고 다른 기관을 찾고 있습니다.")


def _edit_page(request: Request, care, user, form: dict, *, errors=(), status_code: int = 200) -> HTMLResponse:
    by_input: dict[str, list[str]] = {}
    for e in errors:
        by_input.setdefault(intake_form.field_input(e["field"]) or e["field"], []).append(e["message"])
    rows = intake_form.child_rows(form) or [0]
    return render(request, "console/edit.html", {"user": user, "r": care, "form": form, "errors": list(errors),
                                                 "by_input": by_input, "child_rows": rows, "max_children": 5,
                                                 "status_ko": labels.STATUS.get(care.status, care.status)},
                  status_code=status_code)


@router.get("/requests/{ref}/edit", response_class=HTMLResponse)
def edit_page(ref: str, request: Request, session: SessionDep, geocoder: GeocoderDep, user: Operator) -> HTMLResponse:
    care = intake.get_request(session, ref)
    return _edit_page(request, care, user, intake_form.form_of(care, children_of(session, care), places=geocoder))


@router.post("/requests/{ref}/edit", response_class=HTMLResponse)
def edit(ref: str, request: Request, form: Annotated[dict[str, str], Depends(form_fields)], session: SessionDep,
         clock: ClockDep, ctx: OfferCtx, user: Operator) -> Response:
    care = intake.get_request(session, ref)
    try:
        change = intake_form.plan_from_form(form, clock.now())
        outcome = plans.change_plan(session, care, change, actor=actor(user), reason=fallthrough.reason_given(
            form.get("reason", "")), now=clock.now(), ctx=ctx)
        session.commit()
    except DomainError as exc:
        session.rollback()
        if wants_problem(request):
            raise
        errors = [e.as_dict() for e in exc.errors] or [{"field": "", "message": exc.detail_ko or exc.title_ko}]
        session.refresh(care)
        return _edit_page(request, care, user, form, errors=errors, status_code=exc.status)
    return _done(care, {"kept": "변경했습니다. 맡은 기관이 그대로 돌봅니다(기관·보호자에게 문자).",
                        "rematched": "변경했습니다. 맡은 기관이 바뀐 일정을 맡을 수 없어 다른 기관을 찾고 있습니다.",
                        "matching": "변경했습니다. 바뀐 내용으로 다시 매칭합니다."}[outcome])
