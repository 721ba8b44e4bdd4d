"""The provider withdraws from a confirmed care on its workspace page: a reason and a ticked confirmation
(the parent is texted and another provider is asked at once; see hotline.offers.fallthrough)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from hotline.core.errors import FieldProblem, InvalidInput
from hotline.models import Assignment, CareRequest, Offer, Provider
from hotline.offers.fallthrough import withdraw as withdraw_offer
from hotline.offers.loop import OfferContext


def withdraw(session: Session, provider: Provider, request: CareRequest, assignment: Assignment, *, reason: str,
             confirmed: bool, now: datetime, ctx: OfferContext) -> CareRequest:
    problems = []
    if len((reason or "").strip()) < 2:
        problems.append(FieldProblem("reason", "맡을 수 없게 된 사유를 적어 주세요 (2자 이상).",
                                     "Say why you can no longer take it (at least 2 characters)."))
    if not confirmed:
        problems.append(FieldProblem("confirm", "확인란에 표시해 주세요. 보호자에게 문자가 가고 다른 기관을 찾습니다.",
                                     "Tick the confirmation: the parent is texted and another provider is found."))
    if problems:
        raise InvalidInput(*problems)
    offer = session.get(Offer, assignment.offer_id)
    return withdraw_offer(session, offer, channel="workspace", reason=reason.strip()[:200], now=now, ctx=ctx)
