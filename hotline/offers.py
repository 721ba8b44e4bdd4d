"""The offer loop: match a request (incremental solve), offer it to the chosen provider — or, when care
starts soon, to the best few at once —, take the answers, expire silent offers, re-match, escalate, and
run the day of care (reminders, in care, completed, survey). Every step writes its SMS to the outbox in
the same transaction and records an event; nothing here commits."""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

import matching
from hotline.clock import fmt_window, local
from hotline.config import Settings
from hotline.db import after_commit, lock
from hotline.geo import PlaceTable
from hotline.intake import Created, active_assignment, children_of, create_care_request
from hotline.lifecycle import RequestStatus, record, transition
from hotline.links import offer_url, status_url
from hotline.matching_adapter import build_problem, explanation_json, never_offered, room_for
from hotline.offer_policy import History, OfferPolicy, Odds, OpenOffer, horizon, odds, plan_wave
from hotline.models import (Assignment, CareRequest, Guardian, Offer, OfferStatus, OutboxMessage, Provider,
                            ProviderKind)
from hotline.outbox import enqueue
from hotline.phones import national
from hotline.sms.templates import children_text, named_children_text, needs_text
from hotline.schemas import CareRequestCreate
from hotline.views import child_ages, district_name

logger = logging.getLogger("hotline.offers")
SYSTEM = "system"
CHANNELS = {"sms": "문자", "link": "링크"}
S = RequestStatus


@dataclass
class OfferContext:
    """What the offer loop needs besides a session and the time."""

    settings: Settings
    places: PlaceTable
    # asks the scheduler to wake at a deadline (an offer's expiry); None where nothing schedules
    wake_at: Callable[[datetime], None] | None = None

    def wake(self, session: Session, at: datetime) -> None:
        """After commit: on SQLite the job store could not write while this transaction holds the lock."""
        if self.wake_at is not None:
            wake_at = self.wake_at
            after_commit(session, lambda: wake_at(at))


# --- matching and offering ----------------------------------------------------------------------------

def take_call(session: Session, body: CareRequestCreate, *, actor: str, now: datetime, ctx: OfferContext,
              idempotency_key: str | None = None) -> Created:
    """A hotline call: log the request (idempotently) and start looking for a provider at once."""
    created = create_care_request(session, body, actor=actor, now=now, settings=ctx.settings, geocoder=ctx.places,
                                  idempotency_key=idempotency_key)
    if not created.replayed:
        start_matching(session, created.request, now=now, ctx=ctx)
    return created


def start_matching(session: Session, request: CareRequest, *, now: datetime, ctx: OfferContext) -> None:
    """In the intake transaction: acknowledge the parent and match. If matching itself fails, the call is
    still logged: the request waits in `matching`, flagged, and the sweep tries again."""
    guardian = session.get(Guardian, request.guardian_id)
    link = status_url(ctx.settings.public_url, ctx.settings.secret_key, request.id, request.end_at + timedelta(days=1))
    enqueue(session, to=guardian.phone, kind="intake_ack", lang=guardian.language, now=now, request_id=request.id,
            status_url=link)
    transition(session, request, S.matching, actor=SYSTEM, at=now, reason="매칭 시작")
    try:
        with session.begin_nested():
            match(session, [request], now=now, ctx=ctx)
    except Exception:  # noqa: BLE001  (a solver or template fault must not lose the parent's call)
        logger.exception("matching failed for request %s; the sweep will retry", request.ref)
        session.refresh(request)
        request.needs_attention, request.attention_reason = True, "자동 매칭 오류: 재시도 중"
        session.add(request)


def policy_for(request: CareRequest, ctx: OfferContext) -> OfferPolicy:
    """The policy of the request's city (its centre), field by field over the province's default."""
    settings = ctx.settings
    return settings.offer_policy.merged(settings.offer_policy_by_city.get(request.city_ko or ""))


def offer_expiry(now: datetime, start: datetime, settings: Settings, policy: OfferPolicy) -> datetime:
    """The offer's deadline, never later than the start of care. Waves: the policy's offer time (a later
    accept is still honoured while the request is open). Rounds: the configured time, shrinking as care
    approaches so that all rounds still fit before the start."""
    until_start = start - now
    if policy.mode == "waves":
        return now + min(timedelta(minutes=policy.offer_minutes), until_start)
    ttl = min(timedelta(minutes=settings.offer_minutes),
              max(until_start / (settings.max_offer_rounds + 1), timedelta(minutes=1)))
    return now + min(ttl, until_start)


def match(session: Session, requests: list[CareRequest], *, now: datetime, ctx: OfferContext) -> None:
    """Solve for `requests` (all in `matching`) against everything already committed, then offer."""
    settings = ctx.settings
    for late in [r for r in requests if r.status == S.matching and r.start_at <= now]:
        # nobody can be offered care that should already have begun: an operator calls round
        escalate(session, late, now=now, ctx=ctx, reason="돌봄 시작 시각이 지나 자동 제안 불가")
    requests = [r for r in requests if r.status == S.matching]
    if not requests:
        return
    problem = build_problem(session, requests, now=now, settings=settings)
    if len(requests) == 1:
        plan = matching.solve_incremental(problem, str(requests[0].id), time_limit_s=settings.solver_time_limit_s)
    else:
        plan = matching.solve(problem, time_limit_s=settings.solver_time_limit_s)
    for request in requests:
        if policy_for(request, ctx).mode == "waves":
            offer_wave(session, request, now=now, ctx=ctx, problem=problem, plan=plan)
        else:
            _offer_round(session, request, problem, plan, now=now, ctx=ctx)


def _offer_round(session: Session, request: CareRequest, problem: matching.Problem, plan: matching.Plan, *,
                 now: datetime, ctx: OfferContext) -> None:
    """The "rounds" policy: the solver's choice alone, or the best few when care starts soon."""
    settings = ctx.settings
    rid = str(request.id)
    explanation = plan.explanations.get(rid)
    chosen: list[tuple[str, float | None]] = []
    if request.start_at - now <= timedelta(minutes=settings.parallel_offer_within_minutes):
        chosen = [(c.provider_id, c.distance_km)
                  for c in matching.rank_providers(problem, rid, k=settings.parallel_offer_count)]
    elif rid in plan.assignments:
        chosen = [(plan.assignments[rid], explanation.distance_km if explanation else None)]
    if not chosen:
        why = explanation.summary_ko if explanation else "배정 가능한 기관 없음"
        escalate(session, request, now=now, ctx=ctx, reason=why, explanation=explanation_json(explanation))
        return
    request.offer_rounds += 1
    transition(session, request, S.offered, actor=SYSTEM, at=now,
               reason=f"{request.offer_rounds}차 제안: {len(chosen)}곳",
               detail={"explanation": explanation_json(explanation), "providers": [p for p, _ in chosen],
                       "solver": plan.status})
    for rank, (code, km) in enumerate(chosen, start=1):
        provider = session.exec(select(Provider).where(Provider.code == code)).one()
        make_offer(session, request, provider, rank=rank, distance_km=km, now=now, ctx=ctx)


def offer_wave(session: Session, request: CareRequest, *, now: datetime, ctx: OfferContext,
               problem: matching.Problem | None = None, plan: matching.Plan | None = None) -> None:
    """The "waves" policy, for a request in `matching` (first wave) or `offered` (a wave due, or an offer
    just closed): ask as many of the next providers in the solver's ranking as it takes for a good chance
    of a confirmation before the target, then look again in `wave_seconds`. Escalates only when nobody
    suitable is left; waits (and is retried) when the only suitable providers are held by other
    requests' pending offers."""
    policy = policy_for(request, ctx)
    if request.start_at <= now:
        if request.status == S.offered:
            _withdraw_others(session, request, keep=None, now=now)
            transition(session, request, S.matching, actor=SYSTEM, at=now, reason="돌봄 시작 시각 도달")
        escalate(session, request, now=now, ctx=ctx, reason="돌봄 시작 시각이 지나 자동 제안 불가")
        return
    open_offers = [] if never_offered(session, request) else list(session.exec(
        select(Offer, Provider).join(Provider, Provider.id == Offer.provider_id)
        .where(Offer.request_id == request.id, Offer.status == OfferStatus.pending)))
    asked = {p.code for _, p in open_offers}
    ranked, explanation, solver_status = _ranked(session, request, now=now, ctx=ctx, policy=policy,
                                                 problem=problem, plan=plan, skip=asked)
    odds = provider_odds(session, [p.id for _, p in open_offers] + [c.provider.id for c in ranked], now=now,
                         policy=policy)
    since_call = (now - request.created_at).total_seconds() / 60
    ranked = prefer_responsive(ranked, odds, horizon(since_call, policy), policy)
    wave = plan_wave([OpenOffer(odds[p.id], (now - o.created_at).total_seconds() / 60) for o, p in open_offers],
                     [odds[c.provider.id] for c in ranked], minutes_since_call=since_call, policy=policy,
                     minutes_to_start=(request.start_at - now).total_seconds() / 60,
                     everyone_left=len(ranked) < policy.candidates)
    chosen = ranked[:wave.ask]
    if not chosen and not open_offers:
        _nobody_now(session, request, now=now, ctx=ctx, policy=policy, explanation=explanation)
        return
    if chosen:
        request.offer_rounds += 1
        detail = {"providers": [c.provider.code for c in chosen], "chance": round(wave.chance_after, 3),
                  "horizon_min": round(wave.horizon_minutes, 1), "explanation": explanation_json(explanation),
                  "solver": solver_status}
        reason = f"{request.offer_rounds}차 제안: {len(chosen)}곳 (목표 내 확정 확률 {wave.chance_after:.0%})"
        if request.status == S.offered:
            record(session, request, actor=SYSTEM, at=now, reason=reason, detail=detail)
        else:
            transition(session, request, S.offered, actor=SYSTEM, at=now, reason=reason, detail=detail)
        rank = len(open_offers)
        seen = codes_seen(session, [c.provider.id for c in chosen], now)
        for candidate in chosen:
            rank += 1
            make_offer(session, request, candidate.provider, rank=rank, distance_km=candidate.distance_km, now=now,
                       ctx=ctx, codes=seen[candidate.provider.id])
    request.next_wave_at = now + timedelta(seconds=policy.wave_seconds)
    session.add(request)
    ctx.wake(session, request.next_wave_at)
    notice_if_slow(session, request, now=now, policy=policy)


@dataclass(frozen=True)
class Ranked:
    provider: Provider
    distance_km: float | None


def _ranked(session: Session, request: CareRequest, *, now: datetime, ctx: OfferContext, policy: OfferPolicy,
            problem: matching.Problem | None, plan: matching.Plan | None,
            skip: set[str]) -> tuple[list[Ranked], matching.Explanation | None, str | None]:
    """The solver's ranking of providers not yet asked: its chosen provider first, then by distance.
    Paused providers come in only when nobody else is left, so a pause never strands a request."""
    rid = str(request.id)
    if problem is None or rid not in {r.id for r in problem.requests}:
        problem, plan = build_problem(session, [request], now=now, settings=ctx.settings), None
    explanation = plan.explanations.get(rid) if plan is not None else None
    k = policy.candidates + len(skip)
    found = matching.rank_providers(problem, rid, k=k, plan=plan)
    if not [c for c in found if c.provider_id not in skip]:
        with_paused = build_problem(session, [request], now=now, settings=ctx.settings, include_paused=True)
        found = matching.rank_providers(with_paused, rid, k=k)
    first = plan.assignments.get(rid) if plan is not None else None
    found.sort(key=lambda c: c.provider_id != first)  # stable: the solver's pick, then its ranking
    codes = [c.provider_id for c in found if c.provider_id not in skip][:policy.candidates]
    rows = {p.code: p for p in session.exec(select(Provider).where(col(Provider.code).in_(codes)))}
    km = {c.provider_id: c.distance_km for c in found}
    return [Ranked(rows[code], km[code]) for code in codes], explanation, plan.status if plan else None


def prefer_responsive(ranked: list[Ranked], odds: dict[int, Odds], ahead: float,
                      policy: OfferPolicy) -> list[Ranked]:
    """The solver's ranking, except that among providers no more than `detour_km` farther than the nearest
    one left, the likelier to accept in time comes first: a short detour beats a long wait."""
    if policy.detour_km <= 0 or len(ranked) < 2:
        return ranked
    rest = list(ranked)
    out: list[Ranked] = []
    while rest:
        nearest = min(c.distance_km or 0.0 for c in rest)
        close = [c for c in rest if (c.distance_km or 0.0) <= nearest + policy.detour_km]
        best = max(close, key=lambda c: odds[c.provider.id].accept_within(ahead))
        out.append(best)
        rest.remove(best)
    return out


def _nobody_now(session: Session, request: CareRequest, *, now: datetime, ctx: OfferContext, policy: OfferPolicy,
                explanation: matching.Explanation | None) -> None:
    """No open offer and nobody to ask. If others' pending offers hold the only suitable places, wait in
    `matching` (retried when offers resolve, and by the sweep); else it is the operators' to solve."""
    unheld = build_problem(session, [request], now=now, settings=ctx.settings, include_paused=True,
                           count_pending_offers=False)
    if matching.rank_providers(unheld, str(request.id), k=1):
        if request.status == S.offered:
            transition(session, request, S.matching, actor=SYSTEM, at=now,
                       reason="다른 요청의 제안 응답 대기: 응답이 오면 다시 제안")
        request.next_wave_at = None
        session.add(request)
        notice_if_slow(session, request, now=now, policy=policy)
        return
    if request.status == S.offered:
        transition(session, request, S.matching, actor=SYSTEM, at=now, reason="제안할 기관이 더 없음")
    why = explanation.summary_ko if explanation else "배정 가능한 기관 없음"
    escalate(session, request, now=now, ctx=ctx, reason=why, explanation=explanation_json(explanation))


def notice_if_slow(session: Session, request: CareRequest, *, now: datetime, policy: OfferPolicy) -> None:
    """Tell the operators early: past the target with no confirmation, the request is flagged on the board
    while the loop keeps asking (no text to the parent: nothing has failed yet)."""
    if request.needs_attention or now - request.created_at < timedelta(minutes=policy.target_minutes):
        return
    request.needs_attention = True
    request.attention_reason = f"{policy.target_minutes:g}분 내 미확정: 자동 제안 계속 중"
    session.add(request)
    record(session, request, actor=SYSTEM, at=now, reason=request.attention_reason)


def provider_odds(session: Session, provider_ids: list[int], *, now: datetime,
                  policy: OfferPolicy) -> dict[int, Odds]:
    """Each provider's odds from its own offer history (hotline.offer_policy.odds)."""
    ids = set(provider_ids)
    history: dict[int, dict] = {i: {"accepted": 0, "declined": 0, "silent": 0, "log_delays": []} for i in ids}
    if ids:
        since = now - timedelta(days=policy.history_days)
        rows = session.exec(select(Offer.provider_id, Offer.status, Offer.created_at, Offer.answered_at,
                                   Offer.answer_channel)
                            .where(col(Offer.provider_id).in_(ids), Offer.created_at >= since,
                                   Offer.status != OfferStatus.pending))
        for pid, status, created, answered, channel in rows:
            h = history[pid]
            if channel in ("sms", "link") and answered is not None:
                h["accepted" if status == OfferStatus.accepted else "declined"] += 1
                h["log_delays"].append(math.log(max((answered - created).total_seconds() / 60, 0.1)))
            elif status == OfferStatus.expired:
                h["silent"] += 1
            # withdrawn before any answer: no evidence either way
    return {i: odds(History(h["accepted"], h["declined"], h["silent"], tuple(h["log_delays"])), policy)
            for i, h in history.items()}


def codes_seen(session: Session, provider_ids: list[int], now: datetime) -> dict[int, set[str]]:
    """The reply codes each provider has seen on an offer in two days (one read for a whole wave)."""
    seen: dict[int, set[str]] = {i: set() for i in provider_ids}
    for pid, code in session.exec(select(Offer.provider_id, Offer.reply_code)
                                  .where(col(Offer.provider_id).in_(provider_ids),
                                         Offer.created_at >= now - timedelta(days=2))):
        seen[pid].add(code)
    return seen


def reply_code(session: Session, provider: Provider, now: datetime, seen: set[str] | None = None) -> str:
    """The first code (A1, A2, … Z9; no I or O) the provider has not seen on an offer in two days."""
    used = codes_seen(session, [provider.id], now)[provider.id] if seen is None else seen
    for letter in CODE_LETTERS:
        for digit in "123456789":
            if (code := letter + digit) not in used:
                return code
    return secrets.choice(CODE_LETTERS) + secrets.choice("123456789")


CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def make_offer(session: Session, request: CareRequest, provider: Provider, *, rank: int, distance_km: float | None,
               now: datetime, ctx: OfferContext, codes: set[str] | None = None) -> Offer:
    policy = policy_for(request, ctx)
    expires = offer_expiry(now, request.start_at, ctx.settings, policy)
    offer = Offer(request_id=request.id, provider_id=provider.id, round=request.offer_rounds, rank=rank,
                  distance_km=round(distance_km, 2) if distance_km is not None else None, created_at=now,
                  expires_at=expires, reply_code=reply_code(session, provider, now, codes))
    session.add(offer)
    session.flush()
    lang = provider.language
    ages = child_ages(children_of(session, request), request.start_at)
    enqueue(session, to=provider.phone, kind="offer" if policy.mode == "waves" else "offer_plain", lang=lang,
            now=now, request_id=request.id, offer_id=offer.id, expires_at=expires,
            window=fmt_window(request.start_at, request.end_at, lang),
            district=district_name(request, ctx.places), children=children_text(ages, lang),
            needs=needs_text(request.needs, lang), expires=local(expires).strftime("%H:%M"),
            offer_url=offer_url(ctx.settings.public_url, ctx.settings.secret_key, offer.id, expires),
            **({"reply": offer.reply_code} if policy.mode == "waves" else {}))
    record(session, request, actor=SYSTEM, at=now, reason=f"{provider.code}에 제안 문자 발송",
           detail={"offer_id": offer.id, "provider": provider.code, "rank": rank, "expires_at": expires.isoformat(),
                   "code": offer.reply_code})
    ctx.wake(session, expires)
    return offer


def escalate(session: Session, request: CareRequest, *, now: datetime, ctx: OfferContext, reason: str,
             explanation: dict | None = None) -> None:
    """No provider: the request goes to the operators (console flag, SMS to the on-duty operator)."""
    transition(session, request, S.unmatched, actor=SYSTEM, at=now, reason=f"미매칭: {reason}"[:300],
               detail={"explanation": explanation, "rounds": request.offer_rounds})
    request.needs_attention = True
    request.attention_reason = f"미매칭: {reason}"[:200]
    request.next_wave_at = None
    session.add(request)
    told = session.exec(select(OutboxMessage.id).where(OutboxMessage.request_id == request.id,
                                                       OutboxMessage.kind == "unmatched_parent")).first()
    if told is None:  # the parent hears "an operator will call" once, however often a retry ends here
        guardian = session.get(Guardian, request.guardian_id)
        enqueue(session, to=guardian.phone, kind="unmatched_parent", lang=guardian.language, now=now,
                request_id=request.id)
    if ctx.settings.on_duty_operator_phone:
        enqueue(session, to=ctx.settings.on_duty_operator_phone, kind="escalation_operator", lang="ko", now=now,
                request_id=request.id, ref=request.ref, reason=reason[:40])


def retry(session: Session, request: CareRequest, *, actor: str, now: datetime, ctx: OfferContext) -> None:
    """An operator sends an escalated request back to matching (after changing what blocked it)."""
    transition(session, request, S.matching, actor=actor, at=now, reason="상담원 재매칭")
    request.offer_rounds = 0
    request.needs_attention, request.attention_reason = False, None
    match(session, [request], now=now, ctx=ctx)


def due_waves(session: Session, *, now: datetime) -> list[int]:
    return list(session.exec(select(CareRequest.id).where(CareRequest.status == S.offered,
                                                          CareRequest.next_wave_at <= now)
                             .order_by(col(CareRequest.next_wave_at))))


def run_wave(session: Session, request_id: int, *, now: datetime, ctx: OfferContext) -> None:
    """A wave came due (jobs.tick): look at the request again under its lock."""
    request = lock(session, CareRequest, request_id)
    if request.status == S.offered and request.next_wave_at is not None and request.next_wave_at <= now:
        offer_wave(session, request, now=now, ctx=ctx)


def retry_waiting(session: Session, *, now: datetime, ctx: OfferContext) -> None:
    """Offers resolved: requests that were waiting only for others' pending offers try again at once."""
    waiting = list(session.exec(select(CareRequest).where(CareRequest.status == S.matching)
                                .order_by(col(CareRequest.start_at))))
    if waiting:
        match(session, waiting, now=now, ctx=ctx)


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
    _withdraw_others(session, request, keep=offer.id, now=now)
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


def _withdraw_others(session: Session, request: CareRequest, *, keep: int | None, now: datetime) -> None:
    others = session.exec(select(Offer).where(Offer.request_id == request.id, Offer.status == OfferStatus.pending,
                                              Offer.id != (keep or -1))).all()
    for other in others:
        other.status, other.answered_at, other.answer_channel = OfferStatus.withdrawn, now, "system"
        session.add(other)
        provider = session.get(Provider, other.provider_id)
        enqueue(session, to=provider.phone, kind="offer_withdrawn", lang=provider.language, now=now,
                request_id=request.id, offer_id=other.id,
                window=fmt_window(request.start_at, request.end_at, provider.language))


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


def run_care_day(session: Session, *, now: datetime, ctx: OfferContext) -> None:
    """Reminders an hour before care, in care at the start, completed and surveyed at the end."""
    soon = now + timedelta(hours=1)
    for request in session.exec(select(CareRequest).where(CareRequest.status == S.confirmed,
                                                          CareRequest.start_at <= soon,
                                                          CareRequest.reminded_at == None)):  # noqa: E711
        if request.start_at > now:
            _remind(session, request, now=now)
        request.reminded_at = now
        session.add(request)
    for request in session.exec(select(CareRequest).where(CareRequest.status == S.confirmed,
                                                          CareRequest.start_at <= now)):
        transition(session, request, S.in_care, actor=SYSTEM, at=now, reason="돌봄 시작")
    for request in session.exec(select(CareRequest).where(CareRequest.status == S.in_care,
                                                          CareRequest.end_at <= now)):
        transition(session, request, S.completed, actor=SYSTEM, at=now, reason="돌봄 종료")
        guardian = session.get(Guardian, request.guardian_id)
        enqueue(session, to=guardian.phone, kind="survey", lang=guardian.language, now=now, request_id=request.id)
        request.survey_sent_at = now
        session.add(request)
    # offers whose request starts now are closed by their own expiry (never later than the start)


def _remind(session: Session, request: CareRequest, *, now: datetime) -> None:
    assignment = active_assignment(session, request)
    provider = session.get(Provider, assignment.provider_id)
    guardian = session.get(Guardian, request.guardian_id)
    start = local(request.start_at).strftime("%H:%M")
    enqueue(session, to=guardian.phone, kind="reminder_parent", lang=guardian.language, now=now,
            request_id=request.id, start=start, provider=provider.name, address=care_place(provider, request),
            code=assignment.handover_code)
    enqueue(session, to=provider.phone, kind="reminder_provider", lang=provider.language, now=now,
            request_id=request.id, start=start, address=care_place(provider, request), code=assignment.handover_code)
    record(session, request, actor=SYSTEM, at=now, reason="돌봄 1시간 전 알림 발송")


# --- cancellation ----------------------------------------------------------------------------------------

def release_for_cancel(session: Session, request: CareRequest, *, now: datetime) -> None:
    """A cancelled request withdraws its pending offers and frees the placement; everyone is told."""
    _withdraw_others(session, request, keep=None, now=now)
    assignment = active_assignment(session, request)
    if assignment is not None:
        assignment.active = False
        session.add(assignment)
        provider = session.get(Provider, assignment.provider_id)
        enqueue(session, to=provider.phone, kind="cancel_provider", lang=provider.language, now=now,
                request_id=request.id, window=fmt_window(request.start_at, request.end_at, provider.language))
    guardian = session.get(Guardian, request.guardian_id)
    enqueue(session, to=guardian.phone, kind="cancel_ack", lang=guardian.language, now=now, request_id=request.id,
            window=fmt_window(request.start_at, request.end_at, guardian.language))
