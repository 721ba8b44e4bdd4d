"""Plans change: the operator (console) or the parent (status page) moves the window, the place or the
children of an open or confirmed request, inside the intake's own rules (ages for the whole window,
window length and lead, a known place).

A confirmed provider that can still take the changed request keeps it and is told, and so is the parent.
Otherwise the placement is released and the request is matched again (the fall-through path, at the top
urgency). An open request withdraws its pending offers, made for the old plan, and is matched again.
Every change is an event naming who, what before and what after. Nothing here commits."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

import matching
from hotline.core.clock import as_utc, fmt_window, local
from hotline.core.db import lock
from hotline.core.errors import Conflict, FieldProblem, InvalidInput, invalid
from hotline.core.korean import with_particle
from hotline.models import CareRequest, Child, Guardian, Provider
from hotline.places.locate import coarse
from hotline.places.resolve import problem_for
from hotline.offers.adapter import build_problem
from hotline.offers.fallthrough import Why, checked_in, release
from hotline.offers.loop import SYSTEM, S, OfferContext, match, withdraw_others
from hotline.requests.children import check_child, children_of
from hotline.requests.intake import active_assignment, check_window
from hotline.requests.lifecycle import record, transition
from hotline.sms.outbox import enqueue

CHANGEABLE = (S.received, S.matching, S.offered, S.unmatched, S.confirmed)
# rules a provider already placed does not need to meet again: it agreed to come (lead time), and its own
# accepted offer is what excludes the pair from new offers
KEPT_ANYWAY = frozenset({"excluded", "lead_time"})


@dataclass(frozen=True)
class PlanChange:
    start: datetime | None = None
    end: datetime | None = None
    place: str | None = None  # a place name the place table knows; the address text goes with it
    address: str | None = None
    children: tuple[tuple[str, date], ...] | None = None  # the whole list, as it is now
    notes: str | None = None


def change_plan(session: Session, request: CareRequest, change: PlanChange, *, actor: str, reason: str,
                now: datetime, ctx: OfferContext) -> str:
    """Apply `change`; returns "kept" (the confirmed provider stays), "rematched" (it could not) or
    "matching" (an open request, matched again)."""
    request = lock(session, CareRequest, request.id)
    if request.status not in CHANGEABLE:
        raise Conflict("돌봄이 시작되었거나 끝난 요청은 바꿀 수 없습니다. 상담 전화로 문의해 주세요.",
                       "Care that has begun or ended cannot be changed; please call the hotline.")
    start = as_utc(change.start) if change.start else request.start_at
    end = as_utc(change.end) if change.end else request.end_at
    kids = list(change.children) if change.children is not None else [(c.first_name, c.birth_date)
                                                                       for c in children_of(session, request)]
    problems: list[FieldProblem] = []
    if (start, end) != (request.start_at, request.end_at):
        problems += check_window(start, end, now, ctx.settings)
    if not kids:
        problems.append(FieldProblem("children", "아동을 한 명 이상 입력해 주세요.", "Give at least one child."))
    if len(kids) > 5:
        problems.append(FieldProblem("children", "아동은 한 요청에 5명까지입니다.", "At most five children a request."))
    for i, (name, born) in enumerate(kids):
        if problem := check_child(i, name, born, start, end, today=local(now).date()):
            problems.append(problem)
    place = None
    if change.place is not None and change.place.strip():
        read = ctx.places.find(change.place)
        place = read.place
        if (wrong := problem_for(read, change.place, "location.place")) is not None:
            problems.append(wrong)
    if problems:
        raise InvalidInput(*problems)

    before = _describe(session, request)
    if request.status == S.confirmed:
        assignment = active_assignment(session, request)
        if checked_in(session, request, assignment.provider_id) or request.start_at <= now:
            raise Conflict("돌봄이 이미 시작되었습니다. 종료 시각 조정은 기관의 조정신청으로 해 주세요.",
                           "Care has begun; the provider asks for an adjustment instead.")
    _apply(session, request, start=start, end=end, place=place, address=change.address, kids=kids,
           notes=change.notes, now=now)
    after = _describe(session, request)
    if before == after:
        raise invalid("plan", "바뀐 내용이 없습니다.", "Nothing was changed.")
    record(session, request, actor=actor, at=now, reason=f"일정 변경: {before} → {after} ({reason})"[:300],
           detail={"plan_change": True, "before": before, "after": after})

    if request.status != S.confirmed:
        if request.status == S.offered:
            withdraw_others(session, request, keep=None, now=now)  # offers describe the old plan
            transition(session, request, S.matching, actor=actor, at=now, reason="일정 변경: 다시 매칭")
        elif request.status == S.unmatched:
            transition(session, request, S.matching, actor=actor, at=now, reason="일정 변경: 다시 매칭")
            request.needs_attention, request.attention_reason = False, None
        session.flush()
        match(session, [request], now=now, ctx=ctx)
        return "matching"

    assignment = active_assignment(session, request)
    provider = session.get(Provider, assignment.provider_id)
    if _still_fits(session, request, assignment, provider, now=now, ctx=ctx):
        assignment.start_at, assignment.end_at, assignment.children = request.start_at, request.end_at, len(kids)
        session.add(assignment)
        request.reminded_at = None if request.start_at > now else request.reminded_at
        session.add(request)
        record(session, request, actor=SYSTEM, at=now, reason=f"변경된 일정도 {with_particle(provider.name, '이/가')} 맡음")
        guardian = session.get(Guardian, request.guardian_id)
        for to, lang in ((provider.phone, provider.language), (guardian.phone, guardian.language)):
            enqueue(session, to=to, kind="plan_changed", lang=lang, now=now, request_id=request.id,
                    window=fmt_window(request.start_at, request.end_at, lang), children=len(kids))
        return "kept"
    release(session, request, why=Why.plan_changed, actor=actor, reason=f"변경된 일정은 {with_particle(provider.name, '이/가')} 맡을 수 없음",
            now=now, ctx=ctx)
    return "rematched"


def _still_fits(session: Session, request: CareRequest, assignment, provider: Provider, *, now: datetime,
                ctx: OfferContext) -> bool:
    """Whether the placed provider could take the changed request, its own placement of it set aside."""
    assignment.active = False
    session.add(assignment)
    session.flush()
    try:
        # the placed provider is read even if nearer ones fill the read's nearest providers
        problem = build_problem(session, [request], now=now, settings=ctx.settings, include_paused=True,
                                keep=(provider.id,))
        if provider.code not in {p.id for p in problem.providers}:
            return False
        problem = dataclasses.replace(problem, exclude=frozenset())
        return not set(matching.broken_rules(problem, str(request.id), provider.code)) - KEPT_ANYWAY
    finally:
        assignment.active = True
        session.add(assignment)
        session.flush()


def _apply(session: Session, request: CareRequest, *, start: datetime, end: datetime, place, address: str | None,
           kids: list[tuple[str, date]], notes: str | None, now: datetime) -> None:
    request.start_at, request.end_at = start, end
    if place is not None:
        request.lat, request.lon, request.place_code, request.city_ko = place.lat, place.lon, place.code, place.city_ko
        request.location_precision = coarse(place)
    if address is not None and address.strip():
        request.address = address.strip()[:200]
    if notes is not None:
        request.notes = notes.strip()[:500]
    request.updated_at = now
    session.add(request)
    current = [(c.first_name, c.birth_date) for c in children_of(session, request)]
    if kids != current:
        for child in session.exec(select(Child).where(Child.request_id == request.id)):
            session.delete(child)
        for name, born in kids:
            session.add(Child(request_id=request.id, first_name=name.strip()[:30], birth_date=born))
        session.info.get("children_of", {}).pop((request.id, request.ref), None)
    session.flush()


def _describe(session: Session, request: CareRequest) -> str:
    """The plan as the event log keeps it: no street address or names (retention blanks those on the
    request, not inside old events), a fingerprint of the address so that its change still shows."""
    import hashlib

    def mark(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:6]

    kids = children_of(session, request)
    who = mark("|".join(f"{c.first_name}:{c.birth_date}" for c in kids))
    return (f"{fmt_window(request.start_at, request.end_at)}, {request.place_code or request.city_ko or '-'} "
            f"(주소 #{mark(request.address)}), 아동 {len(kids)}명 #{who}")
