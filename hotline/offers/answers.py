"""Answers to offers: accept or decline by SMS or link (a late accept too, while the request is open and
the provider has room), withdrawing the other offers on a confirmation, expiring silent offers at their
deadline, and the sweep that re-solves everything still waiting. Nothing here commits."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from hotline.core.clock import fmt_window, local
from hotline.core.db import lock
from hotline.requests.children import children_of
from hotline.requests.lifecycle import record, transition
from hotline.offers.adapter import room_for
from hotline.models import (Assignment, CareRequest, Guardian, Offer, OfferStatus, Provider,
                            ProviderKind)
from hotline.sms.outbox import enqueue
from hotline.core.phones import national
from hotline.sms.templates import named_children_text
from hotline.requests.children import child_ages

from hotline.offers.loop import (CHANNELS, SYSTEM, S, OfferContext, escalate, match, offer_wave, policy_for,
                                  retry_waiting, withdraw_others)


# --- answers -------------------------------------------------------------------------------------------

class Outcome(StrEnum):
    accepted = "accepted"
    declined = "declined"
    filled = "filled"  # the provider has no room any more: someone else's accept came first
    closed = "closed"  # the offer is no longer open (answered, expired, withdrawn, request filled)


LATE_OPEN = (S.matching, S.offered, S.unmatched)


def answer(session: Session, offer_id: int, *, accept: bool, channel: str, now: datetime, ctx: OfferContext) -> Outcome:
    offer = session.get(Offer, offer_id)
    # lock order everywhere: provider, then request — so two answers can never wait on each other
    provider = lock(session, Provider, offer.provider_id)
    request = lock(session, CareRequest, offer.request_id)
    offer = lock(session, Offer, offer_id)
    on_time = offer.status == OfferStatus.pending and offer.expires_at > now and request.status == S.offered
    if not on_time and not _late_answer_counts(offer, request, provider, now=now, ctx=ctx):
        return Outcome.closed
    late = not on_time
    provider.missed_offers = 0
    session.add(provider)
    how = CHANNELS[channel] + (", 기한 후" if late else "")
    if not accept:
        if offer.status == OfferStatus.pending:
            offer.status = OfferStatus.declined
        offer.answered_at, offer.answer_channel = now, channel
        session.add(offer)
        record(session, request, actor=f"provider:{provider.code}", at=now, reason=f"제안 거절({how})",
               detail={"offer_id": offer.id})
        enqueue(session, to=provider.phone, kind="declined_ack", lang=provider.language, now=now,
                request_id=request.id, offer_id=offer.id)
        if on_time:
            after_offer_closed(session, request, now=now, ctx=ctx)
        return Outcome.declined
    children = children_of(session, request)
    if not room_for(session, provider, request, len(children), ctx.settings):
        offer.status, offer.answered_at, offer.answer_channel = OfferStatus.withdrawn, now, channel
        session.add(offer)
        record(session, request, actor=f"provider:{provider.code}", at=now,
               reason=f"{provider.code} 정원 초과로 수락 불가({how})", detail={"offer_id": offer.id})
        if on_time:
            after_offer_closed(session, request, now=now, ctx=ctx)
        return Outcome.filled
    offer.status, offer.answered_at, offer.answer_channel = OfferStatus.accepted, now, channel
    session.add(offer)
    code = f"{secrets.randbelow(10_000):04d}"
    session.add(Assignment(request_id=request.id, provider_id=provider.id, offer_id=offer.id,
                           start_at=request.start_at, end_at=request.end_at, children=len(children),
                           handover_code=code, created_at=now))
    withdraw_others(session, request, keep=offer.id, now=now)
    transition(session, request, S.confirmed, actor=f"provider:{provider.code}", at=now,
               reason=f"제안 수락({how})", detail={"offer_id": offer.id, "provider": provider.code, "late": late})
    request.next_wave_at = None
    if late or request.attention_reason and "미확정" in request.attention_reason:
        request.needs_attention, request.attention_reason = False, None
    session.add(request)
    guardian = session.get(Guardian, request.guardian_id)
    glang, plang = guardian.language, provider.language
    enqueue(session, to=guardian.phone, kind="confirmation", lang=glang, now=now, request_id=request.id,
            provider=provider.name, provider_phone=national(provider.phone), address=care_place(provider, request),
            window=fmt_window(request.start_at, request.end_at, glang), code=code)
    ages = child_ages(children, request.start_at)
    enqueue(session, to=provider.phone, kind="offer_details", lang=plang, now=now, request_id=request.id,
            offer_id=offer.id, window=fmt_window(request.start_at, request.end_at, plang),
            children=named_children_text([(c.first_name, a) for c, a in zip(children, ages)], plang),
            guardian=guardian.name, guardian_phone=national(guardian.phone), address=request.address, code=code)
    return Outcome.accepted


def _late_answer_counts(offer: Offer, request: CareRequest, provider: Provider, *, now: datetime,
                        ctx: OfferContext) -> bool:
    """An answer after the offer's deadline (waves policy): taken while the request is still open, care
    has not begun and the provider is still active and has not answered it already. The room check
    comes after, as for any accept."""
    if policy_for(request, ctx).mode != "waves":
        return False
    if offer.status not in (OfferStatus.pending, OfferStatus.expired) or offer.answer_channel in CHANNELS:
        return False
    return request.status in LATE_OPEN and request.start_at > now and provider.active


def late_answerable(session: Session, provider: Provider, *, now: datetime, ctx: OfferContext) -> list[Offer]:
    """The provider's offers that past their deadline could still be accepted (for a bare "1")."""
    rows = session.exec(select(Offer, CareRequest).join(CareRequest, CareRequest.id == Offer.request_id)
                        .where(Offer.provider_id == provider.id, Offer.status == OfferStatus.expired,
                               Offer.answered_at == None, Offer.created_at >= now - timedelta(days=1),  # noqa: E711
                               col(CareRequest.status).in_(LATE_OPEN), CareRequest.start_at > now)
                        .order_by(col(Offer.id)))
    return [o for o, r in rows if _late_answer_counts(o, r, provider, now=now, ctx=ctx)]


def care_place(provider: Provider, request: CareRequest) -> str:
    """Where care happens: the facility, or — for a visiting caregiver — the family's home (never the
    caregiver's own address)."""
    return request.address if provider.kind == ProviderKind.caregiver else provider.address


def after_offer_closed(session: Session, request: CareRequest, *, now: datetime, ctx: OfferContext) -> None:
    """An offer was declined, expired or refused. Waves: re-plan at once (a decline is replaced without
    waiting for the next wave). Rounds: wait for the others of a parallel round, else re-match (the pair
    is excluded from now on), or escalate after the last round."""
    if request.status != S.offered:
        return
    session.flush()
    if policy_for(request, ctx).mode == "waves":
        offer_wave(session, request, now=now, ctx=ctx)
        retry_waiting(session, now=now, ctx=ctx)
        return
    still_open = session.exec(select(Offer.id).where(Offer.request_id == request.id,
                                                     Offer.status == OfferStatus.pending)).first()
    if still_open is not None:
        return
    if request.offer_rounds >= ctx.settings.max_offer_rounds:
        escalate(session, request, now=now, ctx=ctx, reason=f"{request.offer_rounds}회 제안이 모두 거절·만료됨")
        return
    transition(session, request, S.matching, actor=SYSTEM, at=now, reason="수락 없이 제안 회차 종료: 재매칭")
    match(session, [request], now=now, ctx=ctx)


# --- deadlines -----------------------------------------------------------------------------------------

def due_offers(session: Session, *, now: datetime) -> list[int]:
    return list(session.exec(select(Offer.id).where(Offer.status == OfferStatus.pending, Offer.expires_at <= now)
                             .order_by(col(Offer.expires_at))))


def expire_offer(session: Session, offer_id: int, *, now: datetime, ctx: OfferContext) -> bool:
    """Expire one offer past its deadline (each in its own transaction: see jobs.tick), re-planning its
    request. The offer is re-read under the same locks as an answer (provider, request, offer), so an
    answer that commits in the last second wins and is never overwritten. A provider who lets several
    offers in a row expire is paused: it is asked again only when nobody else can take a request."""
    offer = session.get(Offer, offer_id)
    provider = lock(session, Provider, offer.provider_id)
    request = lock(session, CareRequest, offer.request_id)
    offer = lock(session, Offer, offer_id)
    if offer.status != OfferStatus.pending or offer.expires_at > now:
        return False
    policy = policy_for(request, ctx)
    offer.status, offer.answered_at, offer.answer_channel = OfferStatus.expired, now, "system"
    if policy.mode == "waves":
        offer.answered_at = None  # still answerable late; answered_at is set by the provider's answer
    session.add(offer)
    provider.missed_offers += 1
    record(session, request, actor=SYSTEM, at=now, reason=f"{provider.code} 제안 응답 기한 만료",
           detail={"offer_id": offer.id})
    if provider.missed_offers >= policy.pause_after_expired:
        provider.paused_until = now + timedelta(minutes=policy.pause_minutes)
        provider.missed_offers = 0
        record(session, request, actor=SYSTEM, at=now,
               reason=f"{provider.code} 연속 {policy.pause_after_expired}회 미응답: "
                      f"{local(provider.paused_until):%H:%M}까지 제안 중지")
    session.add(provider)
    after_offer_closed(session, request, now=now, ctx=ctx)  # waves: also retries those the offer held up
    return True


def sweep(session: Session, *, now: datetime, ctx: OfferContext) -> int:
    """Re-solve every request still waiting for a provider together; confirmed placements and valid
    pending offers stay as they are (they are commitments in the problem)."""
    waiting = list(session.exec(select(CareRequest).where(CareRequest.status == S.matching)
                                .order_by(col(CareRequest.start_at))))
    match(session, waiting, now=now, ctx=ctx)
    return len(waiting)
