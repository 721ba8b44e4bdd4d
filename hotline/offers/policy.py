"""How many providers to ask, and when to ask more: the offer policy in numbers (no database, no clock).

A request is offered in waves, as TaskRouter offers a task to several workers and the first accept wins.
Each provider's odds come from its own offer history — how often it accepts, how often it answers at
all, how fast (log-normal delay) — shrunk towards a prior so a new provider starts from the average.
At every wave the policy weighs, for the next provider in the ranking, the chance of a confirmation
before the target (15 minutes after the call) that waiting one more wave would lose against the chance
that an open offer is accepted meanwhile and the new one is not needed (`plan_wave`), up to
`max_open_offers` open at once. Waves repeat every `wave_seconds`, and every answer re-plans at once,
so a decline is replaced without waiting.
Once the target has passed, the horizon moves `grace_minutes` ahead and the loop keeps going.

Settings per city or centre: `OfferPolicy` values in `Settings.offer_policy`, overridden field by field
by `Settings.offer_policy_by_city["평택시"]`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hotline.core.config import OfferPolicy

SQRT2 = math.sqrt(2.0)


@dataclass(frozen=True)
class History:
    """What a provider did with its past offers (answered late counts as answered). Counts may be
    weighted (today's offers count `today_weight` times); `delay_weight` weighs `log_delays` alike."""

    accepted: float = 0
    declined: float = 0
    silent: float = 0  # expired without any answer
    log_delays: tuple[float, ...] = ()  # ln(minutes) from offer to answer, for answered offers
    delay_weight: tuple[float, ...] = ()  # one per log delay; empty: each counts once

    def __add__(self, other: "History") -> "History":
        return History(self.accepted + other.accepted, self.declined + other.declined, self.silent + other.silent,
                       self.log_delays + other.log_delays, self._weights() + other._weights())

    def _weights(self) -> tuple[float, ...]:
        return self.delay_weight or (1.0,) * len(self.log_delays)


@dataclass(frozen=True)
class Odds:
    accept: float  # P(the provider accepts, sooner or later)
    answer: float  # P(the provider answers at all)
    mu: float  # log-normal delay: ln(median minutes)
    sigma: float

    def answered_within(self, minutes: float) -> float:
        """P(an answer has come `minutes` after the offer | the provider answers)."""
        if minutes <= 0:
            return 0.0
        return 0.5 * (1.0 + math.erf((math.log(minutes) - self.mu) / (self.sigma * SQRT2)))

    def accept_within(self, minutes: float) -> float:
        return self.accept * self.answered_within(minutes)

    def accept_between(self, elapsed: float, horizon: float) -> float:
        """P(accepted by `horizon` minutes after the offer | no answer in the first `elapsed` minutes)."""
        seen = self.answered_within(elapsed)
        still_possible = 1.0 - self.answer * seen
        if still_possible <= 1e-9:
            return 0.0
        return max(0.0, self.accept * (self.answered_within(horizon) - seen) / still_possible)


@dataclass(frozen=True)
class Prior:
    """What a provider with no record of its own is expected to do: the configured province-wide prior,
    or what similar providers (same kind, city and hours) did, pooled (`pooled`)."""

    accept: float
    answer: float
    mu: float

    @classmethod
    def of(cls, policy: OfferPolicy) -> "Prior":
        return cls(policy.prior_accept, policy.prior_answer, math.log(policy.prior_median_minutes))


def shrink(history: History, prior: Prior, weight: float, sigma: float) -> Odds:
    """Beta-style shrinkage of a record towards `prior`, worth `weight` offers: no record gives the prior."""
    n = history.accepted + history.declined + history.silent
    accept = (history.accepted + weight * prior.accept) / (n + weight) if n + weight > 0 else prior.accept
    answer = (history.accepted + history.declined + weight * prior.answer) / (n + weight) if n + weight > 0 \
        else prior.answer
    weights = history._weights()
    k = sum(weights)
    mu = (sum(w * d for w, d in zip(weights, history.log_delays)) + weight * prior.mu) / (k + weight) \
        if k + weight > 0 else prior.mu
    return Odds(accept=min(accept, answer), answer=answer, mu=mu, sigma=sigma)


def odds(history: History, policy: OfferPolicy, prior: Prior | None = None) -> Odds:
    """A provider's odds: its record shrunk towards `prior` (default: the configured one) by
    `prior_weight` offers, so a provider with no history gets the prior itself."""
    return shrink(history, prior or Prior.of(policy), policy.prior_weight, policy.prior_sigma)


def pooled(history: History, prior: Prior, weight: float) -> Prior:
    """A group's pooled record shrunk towards the level above it: the prior of its members."""
    o = shrink(history, prior, weight, 1.0)
    return Prior(o.accept, o.answer, o.mu)


@dataclass(frozen=True)
class OpenOffer:
    odds: Odds
    age_minutes: float  # since it was sent


@dataclass(frozen=True)
class Wave:
    ask: int  # how many of the ranked candidates to offer now
    chance_before: float  # P(confirmed by the horizon) with the open offers alone
    chance_after: float  # with the new ones too
    horizon_minutes: float  # minutes from now that the chance refers to
    gains: tuple[float, ...] = ()  # what each new offer adds to the chance: what it buys


def horizon(minutes_since_call: float, policy: OfferPolicy) -> float:
    """Minutes from now to the deadline the policy plans for: the target, or `grace_minutes` past it."""
    left = policy.target_minutes - minutes_since_call
    return left if left >= 1.0 else policy.grace_minutes


def plan_wave(open_offers: Sequence[OpenOffer], candidates: Iterable[Odds], *, minutes_since_call: float,
              policy: OfferPolicy, minutes_to_start: float | None = None, everyone_left: bool = False,
              urgent: bool = False) -> Wave:
    """How many of `candidates` (in the ranking's order) to ask now. Always at least one when nothing is
    open. Each further one is asked now only if waiting buys nothing: asked at the next wave instead, it
    would not be needed should an open offer be accepted meanwhile (the offer saved), but its chance of an
    accept before the horizon shrinks by a wave's worth (the chance lost). It is asked when `offer_value`
    (what a confirmation by the target is worth, in offers) times the chance lost outweighs the chance
    the offer is saved. Never more than `max_open_offers` open at once — unless `candidates` are everyone
    left to ask and no more than `last_few` of them: then the cap does not hold them back. The cap spares
    the many suitable providers of a busy city from being asked for nothing; when only a few are left,
    they are the request's last chance, and keeping them waiting behind silent offers only loses time."""
    candidates = list(candidates)
    if policy.ask_everyone:
        return _everyone(open_offers, candidates, minutes_since_call=minutes_since_call, policy=policy,
                         minutes_to_start=minutes_to_start)
    ahead = horizon(minutes_since_call, policy)
    # a request whose care fell through is asked at the top urgency whenever it starts: the family was
    # already counting on care once; care starting soon has no second chance before it begins
    if minutes_to_start is not None:
        ahead = max(0.0, min(ahead, minutes_to_start))
        urgent = urgent or minutes_to_start <= policy.urgent_minutes
    value = max(policy.offer_value, policy.urgent_offer_value) if urgent else policy.offer_value
    cap = max(policy.max_open_offers, policy.urgent_max_open_offers) if urgent else policy.max_open_offers
    if everyone_left and len(candidates) <= policy.last_few:
        cap = max(cap, len(open_offers) + len(candidates))
    step = policy.wave_seconds / 60
    miss = miss_soon = 1.0  # P(no open offer accepted by the horizon), and by the next wave
    for offer in open_offers:
        miss *= 1.0 - offer.odds.accept_between(offer.age_minutes, offer.age_minutes + ahead)
        miss_soon *= 1.0 - offer.odds.accept_between(offer.age_minutes, offer.age_minutes + step)
    before = 1.0 - miss
    ask, open_now, gains = 0, len(open_offers), []
    for candidate in candidates:
        if open_now >= cap:
            break
        now_chance = candidate.accept_within(ahead)
        if open_now > 0:
            lost = miss * (now_chance - candidate.accept_within(ahead - step))
            if value * lost < 1.0 - miss_soon:
                break
        gains.append(miss * now_chance)
        miss *= 1.0 - now_chance
        miss_soon *= 1.0 - candidate.accept_within(step)
        ask += 1
        open_now += 1
    return Wave(ask=ask, chance_before=before, chance_after=1.0 - miss, horizon_minutes=ahead, gains=tuple(gains))


def _everyone(open_offers: Sequence[OpenOffer], candidates: list[Odds], *, minutes_since_call: float,
              policy: OfferPolicy, minutes_to_start: float | None) -> Wave:
    """`ask_everyone`: every candidate now, with the chance each adds (the same arithmetic as a wave)."""
    ahead = horizon(minutes_since_call, policy)
    if minutes_to_start is not None:
        ahead = max(0.0, min(ahead, minutes_to_start))
    miss = 1.0
    for offer in open_offers:
        miss *= 1.0 - offer.odds.accept_between(offer.age_minutes, offer.age_minutes + ahead)
    before, gains = 1.0 - miss, []
    for candidate in candidates:
        gains.append(miss * candidate.accept_within(ahead))
        miss *= 1.0 - candidate.accept_within(ahead)
    return Wave(ask=len(candidates), chance_before=before, chance_after=1.0 - miss, horizon_minutes=ahead,
                gains=tuple(gains))


EVERYONE = 10_000  # "every suitable provider" for ask_everyone


def ranking_depth(policy: OfferPolicy, asked: set[str]) -> int:
    """How far down the solver's ranking a wave looks: past the providers already asked."""
    return (EVERYONE if policy.ask_everyone else policy.candidates) + len(asked)
