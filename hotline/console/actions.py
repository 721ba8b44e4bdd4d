"""What an operator does to a request from the console: offer it to a provider chosen from the ranked
list, cancel it (a reason and a confirmation), reveal the parent's number for a call-back (an access
record), and write a note. Each is an event in the request's history naming who and why. The offer loop
does the work (hotline.offers); nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

import matching
from hotline import intake, offers
from hotline.errors import Conflict, FieldProblem, InvalidInput, invalid
from hotline.lifecycle import CANCELLABLE, RequestStatus, record, transition
from hotline.matching_adapter import build_problem
from hotline.models import CareRequest, Offer, OfferStatus, Provider

S = RequestStatus
OFFERABLE = (S.matching, S.offered, S.unmatched)
REASON_MAX = 200


@dataclass(frozen=True)
class Choice:
    """A provider the operator may offer the request to, with why it ranks where it does."""

    provider: Provider
    distance_km: float
    travel_min: int
    spare: int
    paused: bool
    asked: bool  # has a pending offer for this request already

    @property
    def why(self) -> str:
        kind = "방문 돌봄" if self.provider.kind == "caregiver" else "시설"
        room = f"여유 {self.spare}명" if self.provider.kind != "caregiver" else "방문 가능"
        extra = " · 일시 중지 중(연속 미응답)" if self.paused else ""
        return f"{kind} · {self.distance_km:.1f} km · 이동 약 {self.travel_min}분 · {room}{extra}"


def _reason(text: str, field: str = "reason") -> str:
    text = (text or "").strip()
    if len(text) < 2:
        raise invalid(field, "사유를 입력해 주세요 (2자 이상).", "Give a reason (at least 2 characters).")
    if len(text) > REASON_MAX:
        raise invalid(field, f"사유는 {REASON_MAX}자 이내로 적어 주세요.", f"Keep the reason under {REASON_MAX} characters.")
    return text


def choices(session: Session, request: CareRequest, *, now: datetime, ctx: offers.OfferContext,
            k: int = 8) -> list[Choice]:
    """Feasible providers for this request now, best first (the solver's ranking; paused ones included and
    marked; pairs that declined or let an offer expire are left out by the problem itself)."""
    if request.status not in OFFERABLE or request.start_at <= now:
        return []
    problem = build_problem(session, [request], now=now, settings=ctx.settings, include_paused=True)
    ranked = matching.rank_providers(problem, str(request.id), k=k)
    rows = {p.code: p for p in session.exec(select(Provider).where(
        Provider.code.in_([c.provider_id for c in ranked])))}  # type: ignore[attr-defined]
    asked = set(session.exec(select(Offer.provider_id).where(Offer.request_id == request.id,
                                                             Offer.status == OfferStatus.pending)))
    return [Choice(rows[c.provider_id], c.distance_km, c.travel_min, c.spare,
                   bool(rows[c.provider_id].paused_until and rows[c.provider_id].paused_until > now),
                   rows[c.provider_id].id in asked)
            for c in ranked if c.provider_id in rows]


def offer_to(session: Session, request: CareRequest, provider_code: str, *, actor: str, reason: str,
             now: datetime, ctx: offers.OfferContext) -> Offer:
    """The operator's pick: one offer to this provider, whatever the automatic waves would have chosen."""
    why = _reason(reason)
    if request.status not in OFFERABLE:
        raise Conflict(f"'{intake.status_label(request.status)}' 상태의 요청은 제안할 수 없습니다.",
                       f"A request that is {request.status} cannot be offered.")
    picked = next((c for c in choices(session, request, now=now, ctx=ctx, k=50)
                   if c.provider.code == provider_code), None)
    if picked is None:
        raise invalid("provider", "이 기관은 지금 이 요청을 맡을 수 없습니다 (거리·시간·정원·연령 조건). 목록에서 골라 주세요.",
                      "This provider cannot take the request now; pick one from the list.")
    if picked.asked:
        raise Conflict("이 기관에는 이미 응답을 기다리는 제안이 있습니다.", "This provider already has a pending offer.")
    name = picked.provider.name
    if request.status == S.unmatched:
        transition(session, request, S.matching, actor=actor, at=now, reason=f"상담원 직접 제안 준비: {why}")
    request.offer_rounds += 1
    detail = {"provider": picked.provider.code, "by_operator": True, "why": why}
    if request.status == S.matching:
        transition(session, request, S.offered, actor=actor, at=now, reason=f"상담원이 {name}에 직접 제안: {why}",
                   detail=detail)
    else:
        record(session, request, actor=actor, at=now, reason=f"상담원이 {name}에 직접 제안: {why}", detail=detail)
    request.needs_attention, request.attention_reason = False, None
    session.add(request)
    pending = session.exec(select(Offer).where(Offer.request_id == request.id,
                                               Offer.status == OfferStatus.pending)).all()
    return offers.make_offer(session, request, picked.provider, rank=len(pending) + 1,
                             distance_km=picked.distance_km, now=now, ctx=ctx)


def cancel(session: Session, request: CareRequest, *, actor: str, reason: str, confirmed: bool,
           now: datetime) -> None:
    """Cancel on the operator's word: a reason, and a ticked confirmation (texts go to the parent and to
    any provider holding an offer or the placement)."""
    problems: list[FieldProblem] = []
    try:
        why = _reason(reason)
    except InvalidInput as exc:
        problems += exc.errors
    if not confirmed:
        problems.append(FieldProblem("confirm", "취소 확인란에 표시해 주세요. 보호자와 기관에 취소 문자가 갑니다.",
                                     "Tick the confirmation: the parent and the provider will be texted."))
    if problems:
        raise InvalidInput(*problems)
    if RequestStatus(request.status) not in CANCELLABLE:
        raise Conflict(f"'{intake.status_label(request.status)}' 상태의 요청은 취소할 수 없습니다.",
                       f"A request that is {request.status} cannot be cancelled.")
    intake.cancel_request(session, request, actor=actor, now=now, reason=f"상담원 취소: {why}")


def reveal_phone(session: Session, request: CareRequest, *, actor: str, reason: str, now: datetime) -> str:
    """The parent's full number for a call-back: an access record and an event with the reason."""
    why = _reason(reason)
    number = intake.reveal_guardian_phone(session, request, actor=actor, now=now)
    record(session, request, actor=actor, at=now, reason=f"보호자 번호 열람(회신 전화): {why}")
    return number


def add_note(session: Session, request: CareRequest, *, actor: str, text: str, now: datetime) -> None:
    text = (text or "").strip()
    if not text:
        raise invalid("note", "메모 내용을 입력해 주세요.", "Write the note.")
    if len(text) > 280:
        raise invalid("note", "메모는 280자 이내로 적어 주세요.", "Keep the note under 280 characters.")
    record(session, request, actor=actor, at=now, reason=f"상담 메모: {text}", detail={"note": True})
