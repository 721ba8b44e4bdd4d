"""What providers did with their past offers: each provider's odds of accepting, answering at all and how
fast (its own record, shrunk towards its peers' and the centre's by `hotline.offers.policy`, with today's
effect from `hotline.offers.today` on top), and the reply codes it has recently seen (so a new offer's
code is one it cannot confuse)."""

from __future__ import annotations

import math
import secrets
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from hotline.core.config import OfferPolicy
from hotline.models import Offer, OfferStatus, Provider
from hotline.offers.policy import History, Odds, Prior, odds, pooled
from hotline.offers.today import DayEffect, Seen, day_effect


@dataclass(frozen=True)
class Outlook:
    """The odds for one wave: each provider's own (its record, shrunk towards its peers') and the day's
    effect on top. `base` is what an offer records, so that later waves can tell how today differs."""

    base: dict[int, Odds]
    effect: DayEffect

    def __getitem__(self, provider_id: int) -> Odds:
        return self.effect.apply(self.base[provider_id])


def provider_odds(session: Session, provider_ids: list[int], *, now: datetime, policy: OfferPolicy) -> Outlook:
    """Each provider's odds: its own record over `history_days` (today's offers counting `today_weight`
    times), shrunk towards what its peers did (same kind, city and hours), shrunk in turn towards the
    centre's and the configured prior; then today's effect (hotline.offers.today) over all of them."""
    ids = set(provider_ids)
    own = _records(session, ids, now=now, policy=policy) if ids else {}
    priors = peer_priors(session, now=now, policy=policy)
    groups = _groups(session, ids) if ids else {}
    base = {i: odds(own.get(i, History()), policy, priors.get(groups.get(i), priors.get(CENTRE))) for i in ids}
    return Outlook(base, todays_effect(session, now=now, policy=policy))


def _answer_of(status: str, channel: str | None, answered: datetime | None) -> str | None:
    """"accept", "decline" or None (no answer by the provider)."""
    if channel in ("sms", "link") and answered is not None:
        # a provider that accepted and then withdrew or did not turn up counts as a decline: what the odds
        # predict is a place the family can count on; a placement the operator moved stays an accept
        return "accept" if status in (OfferStatus.accepted, OfferStatus.released) else "decline"
    return None


def _records(session: Session, ids: set[int], *, now: datetime, policy: OfferPolicy) -> dict[int, History]:
    since, today = now - timedelta(days=policy.history_days), now - timedelta(hours=24)
    out: dict[int, History] = {}
    rows = session.exec(select(Offer.provider_id, Offer.status, Offer.created_at, Offer.answered_at,
                               Offer.answer_channel)
                        .where(col(Offer.provider_id).in_(ids), Offer.created_at >= since,
                               Offer.status != OfferStatus.pending))
    rows = rows.all()
    recent: dict[int, list[int]] = {}  # per provider: [offers of the last 24 hours, older ones]
    for pid, _, created, _, _ in rows:
        recent.setdefault(pid, [0, 0])[0 if created >= today else 1] += 1
    for pid, status, created, answered, channel in rows:
        new, old = recent[pid]
        # recent offers weigh `today_weight` times the older ones, but a record is worth no more offers
        # than it has: a provider seen only today (a new centre, a new provider) is not counted twice
        scale = (new + old) / (policy.today_weight * new + old)
        weight = (policy.today_weight if created >= today else 1.0) * scale
        out[pid] = out.get(pid, History()) + _one(status, channel, created, answered, weight)
    return out


def _one(status: str, channel: str | None, created: datetime, answered: datetime | None, weight: float) -> History:
    answer = _answer_of(status, channel, answered)
    if answer is not None:
        delay = math.log(max((answered - created).total_seconds() / 60, 0.1))
        return History(accepted=weight if answer == "accept" else 0, declined=weight if answer == "decline" else 0,
                       log_delays=(delay,), delay_weight=(weight,))
    if status == OfferStatus.expired:
        return History(silent=weight)
    return History()  # withdrawn before any answer: no evidence either way


CENTRE = ("*", "*", "*")


def peer_key(kind: str, place_code: str | None, weekly_hours: dict | None) -> tuple[str, str, str]:
    """Similar providers: the same kind, city and sort of hours (evenings, weekends)."""
    hours = weekly_hours or {}
    evening = any(end > "19:00" for day in ("mon", "tue", "wed", "thu", "fri") for _, end in hours.get(day, []))
    weekend = bool(hours.get("sat") or hours.get("sun"))
    return (str(kind), (place_code or "").split(".")[0], f"{'e' if evening else '-'}{'w' if weekend else '-'}")


def _groups(session: Session, ids: set[int]) -> dict[int, tuple[str, str, str]]:
    return {pid: peer_key(kind, place, hours) for pid, kind, place, hours in session.exec(
        select(Provider.id, Provider.kind, Provider.place_code, Provider.weekly_hours).where(col(Provider.id).in_(ids)))}


_PEERS: "weakref.WeakKeyDictionary[object, tuple[tuple, dict]]" = weakref.WeakKeyDictionary()


def peer_priors(session: Session, *, now: datetime, policy: OfferPolicy) -> dict[tuple[str, str, str], Prior]:
    """Each peer group's prior — its members' pooled record shrunk by `peer_weight` offers towards the
    centre's, itself shrunk by `centre_weight` towards the configured prior — and the centre's (CENTRE).
    Records move slowly: computed once per `peer_minutes` per database and kept."""
    engine = session.get_bind()
    bucket = int(now.timestamp() // (policy.peer_minutes * 60))
    key = (bucket, policy.history_days, policy.prior_accept, policy.prior_answer, policy.prior_median_minutes,
           policy.peer_weight, policy.centre_weight)
    kept = _PEERS.get(engine)
    if kept is not None and kept[0] == key:
        return kept[1]
    since = now - timedelta(days=policy.history_days)
    rows = session.exec(select(Provider.kind, Provider.place_code, Provider.weekly_hours, Offer.status,
                               Offer.answer_channel, Offer.created_at, Offer.answered_at)
                        .join(Provider, Provider.id == Offer.provider_id)
                        .where(Offer.created_at >= since, Offer.status != OfferStatus.pending)
                        .order_by(col(Offer.id).desc()).limit(PEER_ROWS))
    # counts and delays per group, gathered as lists and made into one History each (adding Histories
    # row by row would copy the delays over and over: quadratic in a province's months of offers)
    tally: dict[tuple[str, str, str], list] = {}
    keys: dict[str, tuple[str, str, str]] = {}
    for kind, place, hours, status, channel, created, answered in rows:
        k = keys.setdefault(f"{kind}|{place}|{sorted((hours or {}).items())}", peer_key(kind, place, hours))
        t = tally.setdefault(k, [0, 0, 0, []])
        answer = _answer_of(status, channel, answered)
        if answer is not None:
            t[0 if answer == "accept" else 1] += 1
            t[3].append(math.log(max((answered - created).total_seconds() / 60, 0.1)))
        elif status == OfferStatus.expired:
            t[2] += 1
    groups = {k: History(a, d, q, tuple(delays)) for k, (a, d, q, delays) in tally.items()}
    everyone = History(sum(h.accepted for h in groups.values()), sum(h.declined for h in groups.values()),
                       sum(h.silent for h in groups.values()), tuple(x for h in groups.values() for x in h.log_delays))
    centre = pooled(everyone, Prior.of(policy), policy.centre_weight)
    priors = {k: pooled(h, centre, policy.peer_weight) for k, h in groups.items()} | {CENTRE: centre}
    _PEERS[engine] = (key, priors)
    return priors


PEER_ROWS = 50_000  # the newest offers a peer prior reads: months of a province's offers


def todays_effect(session: Session, *, now: datetime, policy: OfferPolicy) -> DayEffect:
    """The day's effect from the centre's offers of the last `day_hours` (newest `day_offers`), each
    weighted by its age (half-life `day_half_life_hours`)."""
    if policy.day_offers <= 0:
        return DayEffect()
    rows = session.exec(select(Offer.status, Offer.answer_channel, Offer.created_at, Offer.answered_at,
                               Offer.expires_at, Offer.odds_accept, Offer.odds_answer, Offer.odds_mu)
                        .where(Offer.created_at >= now - timedelta(hours=policy.day_hours), Offer.created_at < now)
                        .order_by(col(Offer.id).desc()).limit(policy.day_offers)).all()
    prior = odds(History(), policy)
    seen = []
    for status, channel, created, answered, expires, acc, ans, mu in rows:
        answer = _answer_of(status, channel, answered)
        if answer is not None:
            minutes = (answered - created).total_seconds() / 60
        else:  # silent so far: open until now, or until it expired or was withdrawn
            closed = answered if status == OfferStatus.withdrawn and answered is not None else \
                expires if status != OfferStatus.pending else now
            minutes = (min(closed, now) - created).total_seconds() / 60
        if minutes <= 0:
            continue
        sent = Odds(acc, ans, mu, policy.prior_sigma) if acc is not None and ans and mu is not None else prior
        age_h = (now - created).total_seconds() / 3600
        seen.append(Seen(sent, minutes, answer, 0.5 ** (age_h / policy.day_half_life_hours)))
    return day_effect(seen, prior_sd=policy.day_prior_sd)


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
