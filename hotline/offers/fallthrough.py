"""When care falls through after a confirmation: the provider withdraws (SMS `취소 A7`, its offer link or
workspace page, or through the operator), does not turn up (no check-in by the start plus
`no_show_minutes`, or the parent says so), or the operator moves the child.

The placement is released and the request goes back to matching at once, without that provider (its
offer is closed, so the solver leaves the pair out) and at the top urgency: the offer loop's clock restarts
at the fall-through (`CareRequest.fell_through_at`). Care that has begun, or begins within
`replacement_lead_minutes`, is re-timed to start that far ahead, since nobody arrives the minute they
accept. The parent hears it in one text; the on-duty operator too when care starts within the hour. A
provider's own withdrawal or no-show closes its offer as `retracted`, which its odds count as a decline
and the centre report counts as a withdrawal. Nothing here commits."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from hotline.core.clock import fmt_window, local
from hotline.core.db import lock
from hotline.core.errors import Conflict, DomainError, invalid
from hotline.models import (Assignment, CareRequest, CareVisit, Guardian, Offer, OfferStatus, Provider,
                            RequestEvent)
from hotline.offers.loop import SYSTEM, S, OfferContext, match
from hotline.requests.intake import active_assignment
from hotline.requests.lifecycle import record, transition
from hotline.sms.outbox import enqueue
from hotline.sms.templates import offer_choices

PLACED = (S.confirmed, S.in_care)


class Why(StrEnum):
    withdrawal = "withdrawal"  # the provider said it cannot come
    no_show = "no_show"  # nobody checked in, or the parent said nobody came
    reassigned = "reassigned"  # the operator moved the child (any other reason)
    plan_changed = "plan_changed"  # the changed plan no longer fits the provider


LABELS = {Why.withdrawal: "기관 취소", Why.no_show: "기관 미도착", Why.reassigned: "상담원 재배치",
          Why.plan_changed: "일정 변경"}
PROVIDERS_FAULT = (Why.withdrawal, Why.no_show)


def lock_request(session: Session, request: CareRequest) -> CareRequest:
    return lock(session, CareRequest, request.id)


def reason_given(text: str, field: str = "reason") -> str:
    text = (text or "").strip()
    if len(text) < 2:
        raise invalid(field, "사유를 입력해 주세요 (2자 이상).", "Give a reason (at least 2 characters).")
    return text[:200]


def checked_in(session: Session, request: CareRequest, provider_id: int) -> bool:
    visit = session.exec(select(CareVisit).where(CareVisit.request_id == request.id)).first()
    return visit is not None and visit.provider_id == provider_id and visit.checked_in_at is not None


def release(session: Session, request: CareRequest, *, why: Why, actor: str, reason: str, now: datetime,
            ctx: OfferContext, tell_provider: bool = True) -> Provider:
    """Release the request's placement and send it back to matching at the top urgency (see the module)."""
    assignment = active_assignment(session, request)
    if request.status not in PLACED or assignment is None:
        raise Conflict("확정된 돌봄만 다른 기관으로 옮길 수 있습니다.", "Only confirmed care can be moved.")
    provider = session.get(Provider, assignment.provider_id)
    if checked_in(session, request, provider.id):
        raise Conflict("기관이 이미 입실했습니다. 돌봄을 마치려면 퇴실 처리해 주세요.",
                       "The provider has checked in; end the care with a check-out instead.")
    label = LABELS[why]
    # one placement per request (a unique row): the released one goes, its story stays in the offer (now
    # retracted or released) and in the events; the next provider's placement takes its place
    session.delete(assignment)
    offer = session.get(Offer, assignment.offer_id) if assignment.offer_id else None
    if offer is not None and offer.status == OfferStatus.accepted:
        offer.status = OfferStatus.retracted if why in PROVIDERS_FAULT else OfferStatus.released
        session.add(offer)
    for visit in session.exec(select(CareVisit).where(CareVisit.request_id == request.id)):
        session.delete(visit)  # a wrong code typed by the provider who left: the next one starts afresh
    window_before = fmt_window(request.start_at, request.end_at)
    transition(session, request, S.matching, actor=actor, at=now, reason=f"{label}: {reason}"[:300],
               detail={"fall_through": why.value, "provider": provider.code, "offer_id": assignment.offer_id})
    earliest = now + timedelta(minutes=ctx.settings.replacement_lead_minutes)
    if request.start_at < earliest:
        start = _next_five(earliest)
        if start >= request.end_at - timedelta(minutes=30):
            start = request.end_at - timedelta(minutes=30)  # too late for care worth arranging: an operator calls
        request.start_at = max(start, now)
        record(session, request, actor=SYSTEM, at=now,
               reason=f"재배치를 위해 돌봄 시작 조정: {window_before} → {fmt_window(request.start_at, request.end_at)}")
    request.fell_through_at, request.no_show_at, request.reminded_at = now, None, None
    request.next_wave_at, request.offer_rounds = None, max(request.offer_rounds, 1)
    request.needs_attention, request.attention_reason = True, f"{label} — 재배치 중: {reason}"[:200]
    session.add(request)
    guardian = session.get(Guardian, request.guardian_id)
    enqueue(session, to=guardian.phone, kind="fallthrough_parent", lang=guardian.language, now=now,
            request_id=request.id, window=fmt_window(request.start_at, request.end_at, guardian.language))
    if tell_provider:
        enqueue(session, to=provider.phone, kind="placement_released", lang=provider.language, now=now,
                request_id=request.id, window=fmt_window(assignment.start_at, assignment.end_at, provider.language))
    if ctx.settings.on_duty_operator_phone and request.start_at <= now + timedelta(hours=1):
        enqueue(session, to=ctx.settings.on_duty_operator_phone, kind="fallthrough_operator", lang="ko", now=now,
                request_id=request.id, ref=request.ref, reason=label, start=f"{local(request.start_at):%m/%d %H:%M}")
    session.flush()
    match(session, [request], now=now, ctx=ctx)
    return provider


def _next_five(at: datetime) -> datetime:
    at = at.replace(second=0, microsecond=0)
    return at + timedelta(minutes=(5 - at.minute % 5) % 5)


# --- the provider withdraws ------------------------------------------------------------------------------

def withdraw(session: Session, offer: Offer, *, channel: str, reason: str, now: datetime,
             ctx: OfferContext) -> CareRequest:
    """The provider can no longer take a care it confirmed (its link or workspace page, or by SMS)."""
    provider = lock(session, Provider, offer.provider_id)
    request = lock(session, CareRequest, offer.request_id)
    assignment = active_assignment(session, request)
    if assignment is None or assignment.offer_id != offer.id or request.status not in PLACED:
        raise Conflict("이 돌봄은 이미 취소되었거나 다른 기관이 맡고 있습니다.",
                       "This care is no longer yours to withdraw from.")
    why = reason_given(reason) if channel != "sms" else (reason or "문자로 취소")
    release(session, request, why=Why.withdrawal, actor=f"provider:{provider.code}", reason=f"{why} ({channel})",
            now=now, ctx=ctx, tell_provider=False)
    enqueue(session, to=provider.phone, kind="withdraw_ack", lang=provider.language, now=now, request_id=request.id,
            window=fmt_window(assignment.start_at, assignment.end_at, provider.language), reply=offer.reply_code)
    return request


def placements_of(session: Session, provider: Provider, *, now: datetime) -> list[tuple[Offer, CareRequest]]:
    """The provider's confirmed care not yet over, soonest first."""
    return list(session.exec(
        select(Offer, CareRequest).join(Assignment, Assignment.offer_id == Offer.id)
        .join(CareRequest, CareRequest.id == Assignment.request_id)
        .where(Assignment.provider_id == provider.id, Assignment.active == True,  # noqa: E712
               col(CareRequest.status).in_([s.value for s in PLACED]), CareRequest.end_at > now)
        .order_by(col(CareRequest.start_at))))


def withdraw_by_sms(session: Session, provider: Provider, code: str | None, *, now: datetime,
                    ctx: OfferContext) -> str:
    """`취소 A7`: the code names the care (a bare `취소` is never a guess: the provider is asked which)."""
    placed = placements_of(session, provider, now=now)
    named = [(o, r) for o, r in placed if code is not None and o.reply_code == code]
    if len(named) != 1:
        if placed:
            choices = offer_choices([(o.reply_code, f"{local(r.start_at):%m/%d %H:%M}") for o, r in placed])
            enqueue(session, to=provider.phone, kind="which_placement", lang=provider.language, now=now,
                    reply=placed[0][0].reply_code, choices=choices)
            return "withdraw_which"
        return ""
    withdraw(session, named[0][0], channel="sms", reason="문자로 취소", now=now, ctx=ctx)
    return "withdraw"


# --- arrival and no-shows --------------------------------------------------------------------------------

def checkin_opens(assignment: Assignment, settings) -> datetime:
    """Check-in (workspace or SMS) opens `checkin_early_minutes` before the placement starts."""
    return assignment.start_at - timedelta(minutes=settings.checkin_early_minutes)


def mark_arrived(session: Session, request: CareRequest, visit: CareVisit, *, actor: str, how: str,
                 now: datetime) -> CareVisit:
    """The provider is there (its check-in already judged valid): the visit records it, a no-show flag is
    lifted (it came after all), and the request is in care."""
    visit.checked_in_at = now
    session.add(visit)
    if request.no_show_at is not None and "미도착" in (request.attention_reason or ""):
        request.needs_attention, request.attention_reason = False, None
        session.add(request)
    if request.status == S.confirmed:
        transition(session, request, S.in_care, actor=actor, at=now, reason=f"기관 입실({how})")
    else:
        record(session, request, actor=actor, at=now, reason=f"기관 입실({how})")
    return visit


def arrived(session: Session, request: CareRequest, provider: Provider, *, actor: str, how: str,
            now: datetime, ctx: OfferContext) -> CareVisit:
    """A check-in without the handover code (by SMS, from the provider's own phone): within the window."""
    assignment = active_assignment(session, request)
    opens = checkin_opens(assignment, ctx.settings)
    if now < opens:
        raise invalid("checkin", f"체크인은 {local(opens):%m/%d %H:%M}부터 할 수 있습니다.",
                      f"Check-in opens at {local(opens):%m/%d %H:%M}.")
    if now >= assignment.end_at:
        raise invalid("checkin", "돌봄 시간이 끝나 체크인할 수 없습니다.", "The care is over; check-in is closed.")
    visit = session.exec(select(CareVisit).where(CareVisit.request_id == request.id)).first()
    if visit is None:
        visit = CareVisit(request_id=request.id, provider_id=provider.id)
    if visit.checked_in_at is not None:
        raise Conflict("이미 입실 처리했습니다.", "Already checked in.")
    return mark_arrived(session, request, visit, actor=actor, how=how, now=now)


def arrived_by_sms(session: Session, provider: Provider, code: str | None, *, now: datetime,
                   ctx: OfferContext) -> str:
    placed = [(o, r) for o, r in placements_of(session, provider, now=now)
              if code is None or o.reply_code == code]
    if len(placed) != 1:
        return ""
    offer, request = placed[0]
    lock(session, CareRequest, request.id)
    try:
        arrived(session, request, provider, actor=f"provider:{provider.code}", how="문자", now=now, ctx=ctx)
    except DomainError:  # too early, over, or already in: the help text says how to reach the centre
        return "arrived_refused"
    enqueue(session, to=provider.phone, kind="arrived_ack", lang=provider.language, now=now, request_id=request.id,
            start=f"{local(request.start_at):%H:%M}")
    return "arrived"


def check_arrivals(session: Session, *, now: datetime, ctx: OfferContext) -> int:
    """The tick: care that started `no_show_minutes` ago with nobody checked in texts the provider and
    raises the request on the board (once); the operator may re-place it from `no_show_replace_minutes`."""
    due = now - timedelta(minutes=ctx.settings.no_show_minutes)
    late = 0
    for request in session.exec(select(CareRequest).where(col(CareRequest.status).in_([s.value for s in PLACED]),
                                                          CareRequest.start_at <= due, CareRequest.end_at > now,
                                                          CareRequest.no_show_at == None)):  # noqa: E711
        assignment = active_assignment(session, request)
        if assignment is None or checked_in(session, request, assignment.provider_id):
            continue
        flag_no_show(session, request, assignment, by="system", now=now)
        late += 1
    return late


def flag_no_show(session: Session, request: CareRequest, assignment: Assignment, *, by: str,
                 now: datetime) -> None:
    provider = session.get(Provider, assignment.provider_id)
    offer = session.get(Offer, assignment.offer_id) if assignment.offer_id else None
    request.no_show_at = now
    who = "보호자 신고" if by.startswith("guardian") else "체크인 없음"
    request.needs_attention, request.attention_reason = True, f"기관 미도착({who})"
    session.add(request)
    record(session, request, actor=by, at=now, reason=f"기관 미도착({who}): {provider.name}",
           detail={"no_show": True, "provider": provider.code})
    enqueue(session, to=provider.phone, kind="no_show_provider", lang=provider.language, now=now,
            request_id=request.id, start=f"{local(request.start_at):%H:%M}", reply=offer.reply_code if offer else "")


def report_not_arrived(session: Session, request: CareRequest, *, by: str, now: datetime) -> None:
    """The parent: "선생님이 안 오셨어요" (status page or SMS). Same as a no-show, at once."""
    request = lock(session, CareRequest, request.id)
    assignment = active_assignment(session, request)
    if request.status not in PLACED or assignment is None:
        raise Conflict("확정된 돌봄이 아닙니다. 상담 전화로 알려 주세요.", "This care is not confirmed; please call us.")
    if request.start_at - timedelta(minutes=15) > now:
        raise invalid("start", f"돌봄은 {local(request.start_at):%H:%M}에 시작합니다. 그때까지 오지 않으면 다시 알려 주세요.",
                      "Care has not started yet; tell us if nobody has come by the start.")
    if checked_in(session, request, assignment.provider_id):  # the provider says it is there: an operator calls
        request.needs_attention, request.attention_reason = True, "보호자: 선생님이 오지 않았다고 알림(체크인 있음)"
        session.add(request)
        record(session, request, actor=by, at=now, reason="보호자: 선생님이 오지 않았다고 알림(체크인 있음)")
        return
    if request.no_show_at is not None:  # already flagged by the tick: the parent's word makes it re-placeable now
        request.attention_reason = "기관 미도착(보호자 신고)"
        request.needs_attention = True
        session.add(request)
        record(session, request, actor=by, at=now, reason="보호자: 선생님이 오지 않았다고 알림")
        return
    flag_no_show(session, request, assignment, by=by, now=now)


def can_replace(request: CareRequest, *, now: datetime, ctx: OfferContext) -> bool:
    """The operator's one-click re-placement of a no-show: from start + `no_show_replace_minutes`, or at
    once when the parent reported it."""
    if request.status not in PLACED or request.no_show_at is None:
        return False
    reported = request.attention_reason is not None and "보호자 신고" in request.attention_reason
    return reported or now >= request.start_at + timedelta(minutes=ctx.settings.no_show_replace_minutes)


def replace_no_show(session: Session, request: CareRequest, *, actor: str, now: datetime,
                    ctx: OfferContext) -> Provider:
    request = lock(session, CareRequest, request.id)
    if not can_replace(request, now=now, ctx=ctx):
        raise Conflict("아직 재배치할 수 없습니다: 미도착이 확인되지 않았습니다.", "No no-show to act on yet.")
    return release(session, request, why=Why.no_show, actor=actor, reason="미도착으로 재배치", now=now, ctx=ctx)


def reassign(session: Session, request: CareRequest, *, actor: str, reason: str, now: datetime,
             ctx: OfferContext) -> Provider:
    """The operator moves a confirmed child to another provider (a recorded reason is required)."""
    request = lock(session, CareRequest, request.id)
    return release(session, request, why=Why.reassigned, actor=actor, reason=reason_given(reason), now=now, ctx=ctx)


def minutes_to_replace(session: Session, request: CareRequest) -> list[float]:
    """Minutes from each fall-through of `request` to the confirmation that followed it (the measure)."""
    events = list(session.exec(select(RequestEvent).where(RequestEvent.request_id == request.id)
                               .order_by(col(RequestEvent.id))))
    out, since = [], None
    for event in events:
        if (event.detail or {}).get("fall_through"):
            since = event.at
        elif since is not None and event.to_status == S.confirmed and event.from_status != S.confirmed:
            out.append((event.at - since).total_seconds() / 60)
            since = None
    return [x for x in out if math.isfinite(x)]
