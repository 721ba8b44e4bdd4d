"""How many providers to ask, and when to ask more: the offer policy in numbers (no database, no clock).

A request is offered in waves, as TaskRouter offers a task to several workers and the first accept wins.
Each provider's odds come from its own offer history — how often it accepts, how often it answers at
all, how fast (log-normal delay) — shrunk towards a prior so a new provider starts from the average.
At every wave the policy estimates the chance that one of the open offers is accepted before the
target (15 minutes after the call); while that chance is below `wave_confidence` it asks the next
provider in the solver's ranking, up to `max_open_offers` open at once. Waves repeat every
`wave_seconds`, and every answer re-plans at once, so a decline is replaced without waiting.
Once the target has passed, the horizon moves `grace_minutes` ahead and the loop keeps going.

Settings per city or centre: `OfferPolicy` values in `Settings.offer_policy`, overridden field by field
by `Settings.offer_policy_by_city["평택시"]`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

SQRT2 = math.sqrt(2.0)


class OfferPolicy(BaseModel):
    """The knobs of the offer loop; defaults meet the service target (see docs/offer-policy.md).

    mode "rounds" is the loop before waves, kept to compare against (the day simulator) and for a centre
    that wants it: one provider at a time (three at once when care starts within two hours), a fixed
    offer time, escalation after `Settings.max_offer_rounds` rounds, answers to expired offers refused,
    a bare "1" taken for the offer that expires first, and missed offers pausing a provider outright."""

    mode: Literal["waves", "rounds"] = "waves"
    target_minutes: float = Field(15, gt=0, description="minutes from the call to a confirmed place")
    wave_confidence: float = Field(0.7, gt=0, lt=1, description="ask more providers while P(confirmed by target) is below this")
    urgent_minutes: float = Field(60, ge=0, description="care starting this soon is asked more widely")
    urgent_confidence: float = Field(0.8, gt=0, lt=1, description="wave_confidence for urgent care")
    wave_seconds: int = Field(60, ge=10, description="how often an offered request is looked at again")
    max_open_offers: int = Field(3, ge=1, le=20, description="providers asked at once for one request")
    last_few: int = Field(3, ge=0, le=20, description="when no more than this many suitable providers are left "
                          "untried, max_open_offers no longer holds them back (0: never)")
    offer_minutes: int = Field(30, ge=1, description="an offer's lifetime; a later accept is still honoured while the request is open")
    grace_minutes: float = Field(10, gt=0, description="the horizon once the target has passed")
    candidates: int = Field(12, ge=1, description="how many ranked providers the policy may draw on per wave")
    detour_km: float = Field(5.0, ge=0, description="a likelier provider this much farther than the nearest goes first")
    # the prior for a provider with little history: the province's observed shares and delays
    prior_accept: float = Field(0.6, gt=0, lt=1)
    prior_answer: float = Field(0.85, gt=0, le=1)
    prior_median_minutes: float = Field(4.0, gt=0)
    prior_sigma: float = Field(1.03, gt=0, description="log-normal spread of answer delays (median 4, p90 15 min)")
    prior_weight: float = Field(4.0, ge=0, description="how many offers' worth of evidence the prior counts for")
    history_days: int = Field(90, ge=1)
    pause_after_expired: int = Field(2, ge=1, description="offers in a row left to expire before a provider is paused")
    pause_minutes: int = Field(60, ge=0)

    def merged(self, overrides: dict | None) -> "OfferPolicy":
        return self.model_copy(update=overrides) if overrides else self


@dataclass(frozen=True)
class History:
    """What a provider did with its past offers (answered late counts as answered)."""

    accepted: int = 0
    declined: int = 0
    silent: int = 0  # expired without any answer
    log_delays: tuple[float, ...] = ()  # ln(minutes) from offer to answer, for answered offers


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


def odds(history: History, policy: OfferPolicy) -> Odds:
    """Beta-style shrinkage towards the prior: a provider with no history gets the prior itself."""
    w = policy.prior_weight
    n = history.accepted + history.declined + history.silent
    accept = (history.accepted + w * policy.prior_accept) / (n + w)
    answer = (history.accepted + history.declined + w * policy.prior_answer) / (n + w)
    accept = min(accept, answer)
    k = len(history.log_delays)
    mu = (sum(history.log_delays) + w * math.log(policy.prior_median_minutes)) / (k + w)
    return Odds(accept=accept, answer=answer, mu=mu, sigma=policy.prior_sigma)


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


def horizon(minutes_since_call: float, policy: OfferPolicy) -> float:
    """Minutes from now to the deadline the policy plans for: the target, or `grace_minutes` past it."""
    left = policy.target_minutes - minutes_since_call
    return left if left >= 1.0 else policy.grace_minutes


def plan_wave(open_offers: Sequence[OpenOffer], candidates: Iterable[Odds], *, minutes_since_call: float,
              policy: OfferPolicy, minutes_to_start: float | None = None, everyone_left: bool = False) -> Wave:
    """How many of `candidates` (in the solver's order) to ask now. Always at least one when nothing is
    open; never more than `max_open_offers` open at once — unless `candidates` are everyone left to ask
    and no more than `last_few` of them: then the cap does not hold them back. The cap spares the many
    suitable providers of a busy city from being asked for nothing; when only a few are left, they are the
    request's last chance, and keeping them waiting behind offers that have gone silent only loses time."""
    candidates = list(candidates)
    cap = policy.max_open_offers
    if everyone_left and len(candidates) <= policy.last_few:
        cap = max(cap, len(open_offers) + len(candidates))
    ahead = horizon(minutes_since_call, policy)
    confidence = policy.wave_confidence
    if minutes_to_start is not None:
        ahead = max(0.0, min(ahead, minutes_to_start))
        if minutes_to_start <= policy.urgent_minutes:  # no second chance before care begins
            confidence = max(confidence, policy.urgent_confidence)
    miss = 1.0
    for offer in open_offers:
        miss *= 1.0 - offer.odds.accept_between(offer.age_minutes, offer.age_minutes + ahead)
    before = 1.0 - miss
    ask, open_now = 0, len(open_offers)
    for candidate in candidates:
        if open_now >= cap:
            break
        if open_now > 0 and 1.0 - miss >= confidence:
            break
        miss *= 1.0 - candidate.accept_within(ahead)
        ask += 1
        open_now += 1
    return Wave(ask=ask, chance_before=before, chance_after=1.0 - miss, horizon_minutes=ahead)
