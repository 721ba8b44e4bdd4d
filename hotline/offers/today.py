"""What today's offers say about how providers answer today (no database, no clock): the day's effect.

A provider's odds come from its own months of record and its peers' (`hotline.offers.policy`). A slow
morning — a storm, a holiday, a school event — makes everyone answer later and less: that shows in the
centre's offers of the last hours long before it moves anyone's record. `day_effect` fits three shifts
to those offers against the odds each was sent with: to every provider's log answer delay, to the
log-odds of answering at all and to the log-odds of accepting once answered. An offer still open (or
closed unanswered) after m minutes is evidence too — of a late or missing answer — so silence widens the
next waves within minutes, not after the offers expire. Each shift has a normal prior around 0, so a few
offers move it a little and a morning's worth moves it all the way; recent offers weigh more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hotline.offers.policy import Odds

DELAY_GRID = np.linspace(-1.5, 2.5, 21)  # shifts of ln(median minutes): ×0.22 … ×12
ODDS_GRID = np.linspace(-2.0, 2.0, 21)  # shifts of a log-odds


def logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Seen:
    """One of today's offers: the odds it was sent with (before the day's effect), the minutes to its
    answer or, unanswered, the minutes it has been (or was) open, and the answer if one came."""

    odds: Odds
    minutes: float
    answer: str | None  # "accept" | "decline" | None
    weight: float = 1.0


@dataclass(frozen=True)
class DayEffect:
    delay: float = 0.0  # added to every ln(median minutes): +0.69 means answers take twice as long today
    answer: float = 0.0  # added to the log-odds of answering at all
    accept: float = 0.0  # added to the log-odds of accepting, once answered
    offers: int = 0  # how many of today's offers it rests on

    def apply(self, o: Odds) -> Odds:
        if self.offers == 0:
            return o
        answer = float(sigmoid(logit(o.answer) + self.answer))
        given = float(sigmoid(logit(o.accept / o.answer if o.answer > 0 else 0.0) + self.accept))
        return Odds(accept=answer * given, answer=answer, mu=o.mu + self.delay, sigma=o.sigma)

    def describe(self) -> str:
        """For the request's history: how today differs, in words an operator reads."""
        return (f"오늘의 응답: 지연 ×{math.exp(self.delay):.2f}, 응답 log-odds {self.answer:+.2f}, "
                f"수락 log-odds {self.accept:+.2f} (오늘 제안 {self.offers}건 기준)")


def day_effect(seen: Sequence[Seen], *, prior_sd: float) -> DayEffect:
    """The shifts that best explain `seen` (maximum a posteriori on a grid, normal prior `prior_sd`)."""
    if not seen:
        return DayEffect()
    w = np.array([s.weight for s in seen])
    mu = np.array([s.odds.mu for s in seen])
    sigma = np.array([s.odds.sigma for s in seen])
    base_answer = np.array([logit(s.odds.answer) for s in seen])
    log_m = np.log(np.maximum([s.minutes for s in seen], 0.05))
    answered = np.array([s.answer is not None for s in seen])
    penalty = 1.0 / (2.0 * prior_sd ** 2)

    # delay and answering, jointly: answered offers by their delay, open ones by their silence so far
    z = (log_m[None, :] - mu[None, :] - DELAY_GRID[:, None]) / sigma[None, :]  # (delay, offer)
    log_pdf = -0.5 * z ** 2 - np.log(sigma)[None, :]
    cdf = 0.5 * (1.0 + _erf(z / math.sqrt(2.0)))
    p_answer = sigmoid(base_answer[None, :] + ODDS_GRID[:, None])  # (answer, offer)
    ll = np.where(answered[None, None, :],
                  np.log(p_answer)[None, :, :] + log_pdf[:, None, :],
                  np.log(np.maximum(1.0 - p_answer[None, :, :] * cdf[:, None, :], 1e-12)))
    score = (ll * w[None, None, :]).sum(axis=2) - penalty * (DELAY_GRID[:, None] ** 2 + ODDS_GRID[None, :] ** 2)
    i, j = np.unravel_index(int(np.argmax(score)), score.shape)

    # accepting, once answered
    accept = 0.0
    if answered.any():
        given = np.array([logit(s.odds.accept / s.odds.answer if s.odds.answer > 0 else 0.0)
                          for s in seen])[answered]
        yes = np.array([s.answer == "accept" for s in seen])[answered]
        p = sigmoid(given[None, :] + ODDS_GRID[:, None])
        ll_a = (np.where(yes[None, :], np.log(p), np.log(1.0 - p)) * w[answered][None, :]).sum(axis=1)
        accept = float(ODDS_GRID[int(np.argmax(ll_a - penalty * ODDS_GRID ** 2))])
    return DayEffect(delay=float(DELAY_GRID[i]), answer=float(ODDS_GRID[j]), accept=accept, offers=len(seen))


def _erf(x):
    """erf elementwise (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7): numpy has no erf of its own."""
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496735) * t + 0.254829592) * t \
        * np.exp(-x * x)
    return sign * y
