"""The upper bound behind docs/offer-policy.md's slow-day figures (bench.offer_bound): on hand-made calls
whose answers are drawn by the simulator's own model, the oracle never confirms more in time than asking
everyone, and the waves rule replayed with the providers' true traits does no worse than with the prior."""

from __future__ import annotations

import itertools
import math
import statistics

from bench.offer_bound import _answered_at, bound, in_time, misses, replay, schedule_value, stranger_odds, strangers
from hotline.demo.behaviour import answer_of
from bench.simulator import SLOW_DAY
from hotline.core.config import OfferPolicy

CODES = [f"gg-f{i:03d}" for i in range(12)]


def _calls(n: int = 40) -> list[dict]:
    """`n` daytime calls on one seed, each with the same twelve suitable providers."""
    rows = []
    for call in range(n):
        row = {"world": "t", "seed": 3, "call": call, "suitable": CODES, "lag_min": 0.0, "confirmed_min": None}
        # only whether someone accepts in time matters to the bound
        row["best_min"] = 1.0 if any(yes for _, yes in in_time(row, SLOW_DAY)) else None
        rows.append(row)
    return rows


def test_one_slow_day_offer_has_about_a_one_in_three_chance_of_an_accept_in_time():
    chances = [p for p, _ in in_time(_calls(1)[0], SLOW_DAY)]
    assert 0.2 < sum(chances) / len(chances) < 0.45


def test_the_oracle_reaches_the_bound_only_by_asking_more_and_never_passes_it():
    rows = _calls()
    lines = bound(rows, SLOW_DAY, [0.0, 0.3, 0.6])
    everything, choosy, none = lines
    assert everything["share_drawn"] == 1.0 and everything["hits_drawn"] == everything["everyone"]
    assert none["hits_drawn"] == 0 and none["offers_per_confirmable_drawn"] == 0
    assert choosy["share_expected"] <= everything["share_expected"]
    assert choosy["offers_per_confirmable_expected"] <= everything["offers_per_confirmable_expected"]


def test_knowing_each_provider_costs_no_calls_in_time():
    rows = _calls()
    policy = OfferPolicy()
    blind = replay(rows, SLOW_DAY, policy, knows="prior")
    knowing = replay(rows, SLOW_DAY, policy, knows="provider")
    assert knowing["hits"] >= blind["hits"] - 1 and knowing["everyone"] == blind["everyone"]
    assert blind["offers_per_confirmation"] >= 1 and knowing["offers_per_confirmation"] >= 1


def test_the_calls_missed_are_listed_with_every_providers_drawn_answer():
    rows = _calls(6)
    for row in rows:
        row["confirmed_min"] = 20.0  # confirmed, but late
    listed = misses(rows, SLOW_DAY)
    in_time_calls = [r for r in rows if r["best_min"] is not None]
    assert sum(line.startswith("t seed 3 call") for line in listed) == len(in_time_calls)
    assert len(listed) == len(in_time_calls) * (1 + len(CODES))
    rows[0]["confirmed_min"] = 5.0  # confirmed in time: not a miss
    assert len(misses(rows, SLOW_DAY)) < len(listed) or rows[0]["best_min"] is None


def test_an_offer_sent_in_the_night_is_answered_after_the_morning_not_later():
    a = answer_of(CODES[0], 0, 3, SLOW_DAY)
    morning = 120.0  # the call came two hours before providers read their texts
    assert _answered_at(a, 0.0, morning) == _answered_at(a, 30.0, morning) == morning + a.delay_min
    assert _answered_at(a, 150.0, morning) == 150.0 + a.delay_min  # sent after the morning: read at once


def test_a_strangers_accept_share_and_answer_delay_are_the_simulators():
    """`stranger_odds` is what `answer_of` draws for providers nobody knows: the accept share, and an
    accepter's log delay (the providers' spread and each offer's together)."""
    odds = stranger_odds(SLOW_DAY, n=4000)
    accept, mu, sigma = odds.accept, odds.mu, odds.sigma
    answers = [answer_of(f"mc-{i}", i, 5, SLOW_DAY) for i in range(20000)]
    logs = [math.log(a.delay_min) for a in answers if a.kind == "accept"]
    assert abs(len(logs) / len(answers) - accept) < 0.015
    assert abs(statistics.fmean(logs) - mu) < 0.04
    assert abs(statistics.stdev(logs) - sigma) < 0.03  # 1.03: with the providers' spread, not 0.95 without


def test_a_schedule_counts_accepters_and_chances_like_the_simulators_answers():
    odds = stranger_odds(SLOW_DAY, n=4000)
    accept, mu, sigma = odds.accept, odds.mu, odds.sigma
    delay = statistics.NormalDist(mu, sigma)
    late = lambda t: 1 - delay.cdf(math.log(t))  # noqa: E731
    asked, chance = schedule_value((0.0,), odds)
    assert asked == 1.0 and abs(chance - (1 - late(15.0))) < 1e-9
    asked, chance = schedule_value((0.0, 6.0), odds)
    assert abs(asked - (1 + late(6.0))) < 1e-9 and abs(chance - (1 - late(15.0) * late(9.0))) < 1e-9
    # played on the simulator's answers: at each minute, while no accept has come, strangers are asked
    # until one who accepts is found
    times = (0.0, 0.0, 6.0)
    asked, chance = schedule_value(times, odds)
    trials, offers, in_time, accepters, stranger = 6000, 0, 0, 0, 0
    for call in range(trials):
        arrivals: list[float] = []
        for t in times:
            if any(a <= t for a in arrivals):
                break
            while True:
                stranger += 1
                offers += 1
                answer = answer_of(f"mc-{stranger}", call, 7, SLOW_DAY)
                if answer.kind == "accept":
                    accepters += 1
                    arrivals.append(t + answer.delay_min)
                    break
        in_time += min(arrivals) <= 15.0
    assert abs(in_time / trials - chance) < 0.02
    assert abs(accepters / trials - asked) < 0.03
    assert abs(offers / trials - asked / accept) < 0.12


def test_the_bound_is_the_cheapest_mix_of_two_schedules():
    """Mixing schedules across calls is allowed: the bound at each share is the cheapest pair of
    schedules (or one) whose average chance reaches it, searched here by brute force."""
    odds = stranger_odds(SLOW_DAY)
    grid = [float(t) for t in range(16)]
    points = [(0.0, 0.0)] + [schedule_value((0.0,) + rest, odds)[::-1]
                             for m in range(1, 4) for rest in itertools.combinations_with_replacement(grid, m - 1)]
    for share, line in zip((0.5, 0.8, 0.9), strangers(SLOW_DAY, [0.5, 0.8, 0.9], step=1.0, most=3)):
        cheapest = math.inf
        for (c1, a1), (c2, a2) in itertools.product(points, points):
            if c1 <= share <= c2:
                w = (share - c1) / (c2 - c1) if c2 > c1 else 1.0
                cheapest = min(cheapest, a1 + w * (a2 - a1))
        assert abs(line["offers_per_call_at_least"] - cheapest / odds.accept) < 0.002


def test_on_the_slow_day_85_percent_in_time_costs_strangers_more_than_three_offers_a_call():
    lines = strangers(SLOW_DAY, [0.0, 0.5, 0.85, 0.93])
    offers = [line["offers_per_call_at_least"] for line in lines]
    assert offers[0] == 0.0
    assert offers[1] < offers[2] < offers[3]
    assert offers[2] > 3.0  # (the default grid: a finer one does not lower it by a thousandth)
