"""How simulated providers answer offers: the day simulator's providers and `make run`'s living demo.

Shares and delays are the province-wide means (accept 65 %, decline 20 %, silent 15 %; log-normal delay,
median 4 min, 90th percentile 15 min); each provider draws its own around them, and each (provider,
request) pair's answer is drawn from a seed alone, so two runs — or two policies — meet the same
providers."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from hotline.core.clock import SEOUL, local


@dataclass(frozen=True)
class Behaviour:
    accept: float = 0.65
    decline: float = 0.20  # the rest stay silent
    median_minutes: float = 4.0
    p90_minutes: float = 15.0
    night: tuple[str, str] = ("22:00", "07:00")  # offers in this span are answered only after it
    answer_after_withdrawal: float = 0.25  # some answer an offer even after its withdrawal text

    @property
    def sigma(self) -> float:
        return math.log(self.p90_minutes / self.median_minutes) / 1.2816


@dataclass(frozen=True)
class Answer:
    kind: str  # accept | decline | silent
    delay_min: float


def seeded(*parts: object) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:8], "big"))


PROVIDER_SPREAD = 0.4  # log-sd of providers' own median delays around the mean


def offer_spread(b: Behaviour) -> float:
    """Log-sd of one offer's delay around its provider's median: with the providers' spread, the day's."""
    return math.sqrt(max(b.sigma ** 2 - PROVIDER_SPREAD ** 2, 0.05))


def provider_traits(code: str, seed: int, b: Behaviour) -> tuple[float, float, float]:
    """A provider's own accept share, answer share and median delay, spread around the means."""
    rng = seeded("traits", code, seed)
    answer = min(0.99, max(0.3, rng.betavariate(8.5, 1.5) * (b.accept + b.decline) / 0.85))
    accept_given = min(0.99, max(0.05, rng.betavariate(7.65, 2.35) * (b.accept / (b.accept + b.decline)) / 0.765))
    median = b.median_minutes * math.exp(rng.gauss(0, PROVIDER_SPREAD))
    return accept_given * answer, answer, median


def answer_of(code: str, call: int, seed: int, b: Behaviour) -> Answer:
    accept, answer, median = provider_traits(code, seed, b)
    rng = seeded("answer", code, call, seed)
    u = rng.random()
    kind = "accept" if u < accept else "decline" if u < answer else "silent"
    return Answer(kind, median * math.exp(rng.gauss(0, offer_spread(b))))


def after_night(at: datetime, b: Behaviour) -> datetime:
    """When a provider reads an offer sent at `at`: at once by day, in the morning if sent at night."""
    t = local(at)
    night_start, night_end = (time.fromisoformat(x) for x in b.night)
    if t.time() >= night_start:
        return datetime.combine(t.date() + timedelta(days=1), night_end, SEOUL)
    if t.time() < night_end:
        return datetime.combine(t.date(), night_end, SEOUL)
    return at
