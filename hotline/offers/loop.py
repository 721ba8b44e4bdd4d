"""The offer loop's first half: take a call, match the request (incremental solve), offer it in waves to the
providers the solver ranks (the policy decides how many at once), re-plan, wait or escalate. Answers and
expiry are `answers`, the day of care `care_day`, cancellation `cancel`. Every step writes its SMS to the
outbox in the same transaction and records an event; nothing here commits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

import matching
from hotline.core.clock import fmt_window, local
from hotline.core.config import Settings
from hotline.core.db import after_commit, lock
from hotline.places.geo import PlaceTable
from hotline.requests.intake import Created, create_care_request
from hotline.requests.children import children_of
from hotline.requests.lifecycle import RequestStatus, record, transition
from hotline.core.links import offer_url, status_url
from hotline.offers.adapter import build_problem, explanation_json
from hotline.offers.batch import LoneWave, WaveBatch, Waves
from hotline.offers.history import reply_code
from hotline.offers.policy import Odds, OpenOffer, horizon, plan_wave, ranking_depth
from hotline.core.config import OfferPolicy
from hotline.models import (CareRequest, Guardian, Offer, OfferStatus, OutboxMessage, Provider)
from hotline.sms.outbox import enqueue
from hotline.sms.templates import children_text, needs_text
from hotline.requests.schemas import CareRequestCreate
from hotline.requests.children import child_ages
from hotline.requests.views import district_name

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
    batch = None
    if len(requests) > 1:  # the sweep: what the waves read, read once (hotline.offers.batch)
        batch = WaveBatch.read(session, requests, now=now, problem=problem, plan=plan, policies={
            r.id: p for r in requests if (p := policy_for(r, ctx)).mode == "waves" and r.start_at > now})
    for request in requests:
        if policy_for(request, ctx).mode == "waves":
            offer_wave(session, request, now=now, ctx=ctx, problem=problem, plan=plan, batch=batch)
        else:
            _offer_round(session, request, problem, plan, now=now, ctx=ctx)
    if batch is not None:
        batch.finish(session)


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
               problem: matching.Problem | None = None, plan: matching.Plan | None = None,
               batch: WaveBatch | None = None) -> None:
    """The "waves" policy, for a request in `matching` (first wave) or `offered` (a wave due, or an offer
    just closed): ask as many of the next providers in the solver's ranking as it takes for a good chance
    of a confirmation before the target, then look again in `wave_seconds`. Escalates only when nobody
    suitable is left; waits (and is retried) when the only suitable providers are held by other
    requests' pending offers. `batch`: the reads of many requests' waves made once, and the texts written
    after one flush; without it the wave reads and writes for itself (hotline.offers.batch)."""
    policy = policy_for(request, ctx)
    if request.start_at <= now:
        if request.status == S.offered:
            withdraw_others(session, request, keep=None, now=now)
            transition(session, request, S.matching, actor=SYSTEM, at=now, reason="돌봄 시작 시각 도달")
        escalate(session, request, now=now, ctx=ctx, reason="돌봄 시작 시각이 지나 자동 제안 불가")
        return
    waves: Waves = batch if batch is not None else LoneWave(now)
    open_offers = waves.pending_offers(session, request)
    asked = {p.code for _, p in open_offers}
    ranked, explanation, solver_status = _ranked(session, request, now=now, ctx=ctx, policy=policy,
                                                 problem=problem, plan=plan, skip=asked, waves=waves)
    ids = [p.id for _, p in open_offers] + [c.provider.id for c in ranked]
    odds = waves.odds(session, ids, policy)
    # after a fall-through, the minutes count from it: the family waits for a new place from then
    since_call = (now - (request.fell_through_at or request.created_at)).total_seconds() / 60
    ranked = prefer_responsive(ranked, odds, min(policy.quick_minutes, horizon(since_call, policy)), policy)
    wave = plan_wave([OpenOffer(odds[p.id], (now - o.created_at).total_seconds() / 60) for o, p in open_offers],
                     [odds[c.provider.id] for c in ranked], minutes_since_call=since_call, policy=policy,
                     minutes_to_start=(request.start_at - now).total_seconds() / 60,
                     everyone_left=len(ranked) < policy.candidates, urgent=request.fell_through_at is not None)
    chosen = ranked[:wave.ask]
    if not chosen and not open_offers:
        _nobody_now(session, request, now=now, ctx=ctx, policy=policy, explanation=explanation)
        return
    if chosen:
        rounds = request.offer_rounds + 1
        detail = {"providers": [c.provider.code for c in chosen], "chance": round(wave.chance_after, 3),
                  "gains": [round(g, 3) for g in wave.gains], "horizon_min": round(wave.horizon_minutes, 1),
                  "explanation": explanation_json(explanation), "solver": solver_status}
        if odds.effect.offers:
            detail["today"] = odds.effect.describe()
        reason = f"{rounds}차 제안: {len(chosen)}곳 (목표 내 확정 확률 {wave.chance_after:.0%})"
        with waves.holding_flush(session):  # a lock's re-read may drop unflushed changes: the round comes after
            if request.status == S.offered:
                record(session, request, actor=SYSTEM, at=now, reason=reason, detail=detail)
            else:
                transition(session, request, S.offered, actor=SYSTEM, at=now, reason=reason, detail=detail)
        request.offer_rounds = rounds
        rank = len(open_offers)
        chosen_ids = [c.provider.id for c in chosen]
        seen = waves.codes(session, chosen_ids)
        for k, candidate in enumerate(chosen):
            gain = wave.gains[k] if k < len(wave.gains) else None
            rank += 1
            make_offer(session, request, candidate.provider, rank=rank, distance_km=candidate.distance_km, now=now,
                       ctx=ctx, codes=seen[candidate.provider.id], odds=odds.base[candidate.provider.id], gain=gain,
                       later=waves.later)
        waves.wave_made(session)
    request.next_wave_at = now + timedelta(seconds=policy.wave_seconds)
    session.add(request)
    ctx.wake(session, request.next_wave_at)
    notice_if_slow(session, request, now=now, policy=policy)


@dataclass(frozen=True)
class Ranked:
    provider: Provider
    distance_km: float | None


def _ranked(session: Session, request: CareRequest, *, now: datetime, ctx: OfferContext, policy: OfferPolicy,
            problem: matching.Problem | None, plan: matching.Plan | None, skip: set[str],
            waves: Waves) -> tuple[list[Ranked], matching.Explanation | None, str | None]:
    """The solver's ranking of providers not yet asked: its chosen provider first, then by distance.
    Paused providers come in only when nobody else is left, so a pause never strands a request."""
    rid = str(request.id)
    if problem is None or rid not in {r.id for r in problem.requests}:
        problem, plan = build_problem(session, [request], now=now, settings=ctx.settings), None
    explanation = plan.explanations.get(rid) if plan is not None else None
    k = ranking_depth(policy, skip)
    found = waves.rank(problem, request.id, k=k, plan=plan)
    if not [c for c in found if c.provider_id not in skip]:
        with_paused = build_problem(session, [request], now=now, settings=ctx.settings, include_paused=True)
        found = matching.rank_providers(with_paused, rid, k=k)
    first = plan.assignments.get(rid) if plan is not None else None
    found.sort(key=lambda c: c.provider_id != first)  # stable: the solver's pick, then its ranking
    codes = [c.provider_id for c in found if c.provider_id not in skip][:k]
    rows = waves.provider_rows(session, codes)
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


def make_offer(session: Session, request: CareRequest, provider: Provider, *, rank: int, distance_km: float | None,
               now: datetime, ctx: OfferContext, codes: set[str] | None = None, odds: Odds | None = None,
               gain: float | None = None, later: list[Callable[[], None]] | None = None) -> Offer:
    """An offer, its text and its event. `codes`: the reply codes the provider has seen (the new one is
    added). `later`: the text and event are put there, for the caller to write after one flush of all its
    offers (they need the offer's id); else the offer is flushed and they are written at once."""
    policy = policy_for(request, ctx)
    expires = offer_expiry(now, request.start_at, ctx.settings, policy)
    offer = Offer(request_id=request.id, provider_id=provider.id, round=request.offer_rounds, rank=rank,
                  distance_km=round(distance_km, 2) if distance_km is not None else None, created_at=now,
                  expires_at=expires, reply_code=reply_code(session, provider, now, codes),
                  odds_accept=odds and odds.accept, odds_answer=odds and odds.answer, odds_mu=odds and odds.mu,
                  chance_gain=None if gain is None else round(gain, 4))
    session.add(offer)
    if codes is not None:
        codes.add(offer.reply_code)
    if later is not None:
        later.append(lambda: _offer_texts(session, request, provider, offer, policy, rank=rank, now=now, ctx=ctx))
    else:
        session.flush()
        _offer_texts(session, request, provider, offer, policy, rank=rank, now=now, ctx=ctx)
    return offer


def _offer_texts(session: Session, request: CareRequest, provider: Provider, offer: Offer, policy: OfferPolicy, *,
                 rank: int, now: datetime, ctx: OfferContext) -> None:
    expires = offer.expires_at
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


def withdraw_others(session: Session, request: CareRequest, *, keep: int | None, now: datetime) -> None:
    others = session.exec(select(Offer).where(Offer.request_id == request.id, Offer.status == OfferStatus.pending,
                                              Offer.id != (keep or -1))).all()
    for other in others:
        other.status, other.answered_at, other.answer_channel = OfferStatus.withdrawn, now, "system"
        session.add(other)
        provider = session.get(Provider, other.provider_id)
        enqueue(session, to=provider.phone, kind="offer_withdrawn", lang=provider.language, now=now,
                request_id=request.id, offer_id=other.id,
                window=fmt_window(request.start_at, request.end_at, provider.language))
