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

from hotline.core.config import OfferPolicy

SQRT2 = math.sqrt(2.0)


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
              policy: OfferPolicy, minutes_to_start: float | None = None, everyone_left: bool = False,
              urgent: bool = False) -> Wave:
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
    # a request whose care fell through is asked at the top urgency whenever it starts: the family was
    # already counting on care once
    confidence = max(policy.wave_confidence, policy.urgent_confidence) if urgent else policy.wave_confidence
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
