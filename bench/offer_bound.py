"""How well could any policy do on the simulator's days? Per-call replays and an upper bound (issue 20).

`calls` plays days with the day simulator and keeps, per call, what a replay needs: the suitable
providers in the solver's order, the minutes before any of them reads an offer (at night, until the
morning), the first accept if everyone were asked (`best_min`) and the minutes the policy took.

`bound` answers "is the target reachable at all?" for the simulator's own response model
(`hotline.demo.behaviour`): each provider has traits of its own (accept share, answer share, median
delay) and each offer's answer is drawn around them. An oracle is given each provider's true traits,
and more: it learns *at once*, when it sends an offer, whether that provider will accept within the
target. Such an oracle asks, per call, in order of the chance of an accept in time, one after another
at the call, and stops at the first that will accept or when the next one's chance is below a
threshold (the exchange argument: with independent providers and offers of equal cost this order and
rule are optimal). No real policy — which learns an answer only when it comes, minutes later — confirms
more calls in time with fewer offers (it can do no better than ask each provider at the call, and it
cannot stop sooner than at the first accept). Sweeping the threshold traces the oracle's best share of
what asking everyone confirms in time, against offers per confirmation counted in the oracle's favour:
only the offers of its search, over every confirmable call as if all were confirmed.

`strangers` is a lower bound on offers for any policy that cannot tell one provider from another (no
record of them: a cold start): within a call each provider asked is then a fresh draw of the model,
and a decline or a silence says nothing about the next. Let such a policy see at once, free, whether a
provider it asks is one who will accept (not when). That only helps it, and then the best it can do is
ask accepters at set minutes while no accept has come (the first at the call, several at once
allowed); by Wald's identity its offers are the accepters it asks over the chance that a stranger
accepts. The schedules are searched on a grid and the frontier's lower convex hull is kept (a policy
may mix two schedules). A grid can only overstate the minimum; halving it moves no figure by a
thousandth. The bound is in expectation, and it does not cover a policy that learns single providers
within the day (the waves policy does).

`replay` plays the waves rule itself (`plan_wave`) on the same answers, minute by minute and without
the server, with either the true traits (an oracle that knows each provider but still waits for its
answers) or the average provider's odds: what knowing the providers is worth.

    python -m bench.offer_bound calls --worlds pyeongtaek,gyeonggi --day slow --seeds 5 --out /tmp/slow-calls.json
    python -m bench.offer_bound bound /tmp/slow-calls.json --day slow
    python -m bench.offer_bound misses /tmp/slow-calls.json --day slow   # what the policy missed, call by call
    python -m bench.offer_bound strangers --day slow
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from datetime import datetime
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from hotline.core.config import OfferPolicy
from hotline.demo.behaviour import Behaviour, PROVIDER_SPREAD, answer_of, offer_spread, provider_traits
from hotline.offers.policy import Odds, OpenOffer, plan_wave

TARGET = 15.0


def _behaviour(day: str) -> Behaviour:
    from bench.simulator import SLOW_DAY

    return SLOW_DAY if day == "slow" else Behaviour()


def _one(world: str, policy: str, seed: int, day: str, history: int) -> list[dict]:
    import bench.simulator as sim

    kept: list = []
    judge = sim._judge

    def keeping(*args, **kwargs):
        kept.append(outcome := judge(*args, **kwargs))
        return outcome

    sim._judge = keeping  # this process only: the simulator's judge, keeping each call's outcome
    try:
        w = sim.WORLDS[world](sim.REPO_ROOT / "data")
        if day == "busy":
            w = replace(w, calls=w.calls * 2)
        sim.simulate_day(w, policy=policy, seed=seed, behaviour=_behaviour(day), history_offers=history)
    finally:
        sim._judge = judge
    return [{"world": world, "seed": seed, "call": o.call, "suitable": list(o.suitable), "lag_min": o.lag_min,
             "best_min": o.best_min, "confirmed_min": o.confirmed_min} for o in kept]


def calls(worlds: list[str], policy: str, seeds: int, day: str, history: int, jobs: int) -> list[dict]:
    days = [(w, policy, s, day, history) for w in worlds for s in range(1, seeds + 1)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return [row for rows in pool.map(_one, *zip(*days)) for row in rows]


# --- the oracle ------------------------------------------------------------------------------------------

def true_odds(code: str, seed: int, b: Behaviour) -> Odds:
    accept, answer, median = provider_traits(code, seed, b)
    return Odds(accept=accept, answer=answer, mu=math.log(median), sigma=offer_spread(b))


def in_time(row: dict, b: Behaviour) -> list[tuple[float, bool]]:
    """Per suitable provider: its true chance of an accept within the target if asked at the call, and
    whether its drawn answer is one."""
    out = []
    for code in row["suitable"]:
        o = true_odds(code, row["seed"], b)
        a = answer_of(code, row["call"], row["seed"], b)
        left = TARGET - row["lag_min"]
        out.append((o.accept_within(left) if left > 0 else 0.0,
                    a.kind == "accept" and row["lag_min"] + a.delay_min <= TARGET))
    return out


def bound(rows: list[dict], b: Behaviour, thresholds: list[float]) -> list[dict]:
    """The instant-feedback oracle per threshold: expected and drawn calls confirmed in time, its
    offers, and the share of what asking everyone confirms in time (drawn answers)."""
    confirmable = sum(r["best_min"] is not None for r in rows)
    everyone = sum(r["best_min"] is not None and r["best_min"] <= TARGET for r in rows)
    expected_everyone = 0.0
    per_call = []
    for r in rows:
        ps = sorted(in_time(r, b), key=lambda x: -x[0])
        miss = 1.0
        for p, _ in ps:
            miss *= 1 - p
        expected_everyone += 1 - miss
        per_call.append(ps)
    out = []
    for theta in thresholds:
        e_hits = e_offers = 0.0
        hits = offers = 0
        for ps in per_call:
            survive = 1.0
            drawn_done = False
            for p, yes in ps:
                if p < theta:
                    break
                e_offers += survive
                e_hits += survive * p
                survive *= 1 - p
                if not drawn_done:
                    offers += 1
                    if yes:
                        hits += 1
                        drawn_done = True
        out.append({"threshold": theta, "share_expected": round(e_hits / max(expected_everyone, 1e-9), 4),
                    "share_drawn": round(hits / max(everyone, 1), 4),
                    "offers_per_confirmable_expected": round(e_offers / max(confirmable, 1), 3),
                    "offers_per_confirmable_drawn": round(offers / max(confirmable, 1), 3),
                    "hits_drawn": hits, "everyone": everyone, "confirmable": confirmable})
    return out


# --- a lower bound when providers are strangers ----------------------------------------------------------


def stranger_odds(b: Behaviour, n: int = 20000) -> Odds:
    """The odds of a provider drawn at random: its accept and answer shares on average, and its answer
    delay (each provider's median is the day's times a log-normal spread, each offer's delay a
    log-normal around it, so the two spreads add)."""
    traits = [provider_traits(f"stranger-{i}", 0, b) for i in range(n)]
    return Odds(accept=sum(t[0] for t in traits) / n, answer=sum(t[1] for t in traits) / n,
                mu=math.log(b.median_minutes), sigma=math.hypot(PROVIDER_SPREAD, offer_spread(b)))


def schedule_value(times: tuple[float, ...], odds: Odds, target: float = TARGET) -> tuple[float, float]:
    """(accepters asked on average, chance of an accept by `target`) when an accepter is asked at each
    of `times` (minutes after the call, ascending) unless an accept has come by then."""
    def late(minutes: float) -> float:
        return 1.0 - odds.answered_within(minutes)

    asked = 0.0
    for k, t in enumerate(times):
        asked += math.prod(late(t - s) for s in times[:k])
    return asked, 1.0 - math.prod(late(target - s) for s in times)


def strangers(b: Behaviour, shares: list[float], step: float = 0.25, most: int = 6) -> list[dict]:
    """Per share of calls confirmed within the target: the fewest offers per call any policy that
    cannot tell providers apart needs (see the module doc), and the schedule that gets there."""
    odds = stranger_odds(b)
    points = [(0.0, 0.0, ())]  # (chance in time, accepters asked, schedule); () asks nobody
    fine = [i * step for i in range(int(TARGET / step) + 1)]
    coarse = [float(i) for i in range(int(TARGET) + 1)]
    for m in range(1, most + 1):
        for rest in itertools.combinations_with_replacement(fine if m <= 3 else coarse, m - 1):
            times = (0.0,) + rest
            asked, chance = schedule_value(times, odds)
            points.append((chance, asked, times))
    points.sort()
    hull: list[tuple[float, float, tuple]] = []  # lower convex hull of asked against chance
    for pt in points:
        while hull and hull[-1][1] >= pt[1]:  # a surer schedule that asks no more
            hull.pop()
        while len(hull) >= 2 and ((hull[-1][1] - hull[-2][1]) * (pt[0] - hull[-2][0])
                                  >= (pt[1] - hull[-2][1]) * (hull[-1][0] - hull[-2][0])):
            hull.pop()
        hull.append(pt)
    out = []
    for share in shares:
        for lo, hi in zip(hull, hull[1:]):
            if lo[0] <= share <= hi[0]:
                w = (share - lo[0]) / (hi[0] - lo[0]) if hi[0] > lo[0] else 1.0
                asked = lo[1] + w * (hi[1] - lo[1])
                out.append({"share_in_time": share, "offers_per_call_at_least": round(asked / odds.accept, 3),
                            "accepters_asked": round(asked, 3), "stranger_accepts": round(odds.accept, 3),
                            "schedules": [list(lo[2]), list(hi[2])], "mix": round(w, 3)})
                break
        else:
            out.append({"share_in_time": share, "offers_per_call_at_least": None})
    return out


# --- the waves rule, replayed without the server ----------------------------------------------------------

KNOWS = ("prior", "day", "provider")


def replay(rows: list[dict], b: Behaviour, policy: OfferPolicy, *, knows: str, step: float = 0.25) -> dict:
    """`plan_wave` minute by minute on the drawn answers: waves every `wave_seconds`, a re-plan after each
    decline, offers open `offer_minutes` (a late accept still confirms), until an accept or the start of
    care (urgent care asked as the loop asks it). Not played: other calls' offers holding providers,
    pauses, the sweep. `knows`:
    "provider", each provider's true traits; "day", the day's true means for all (a day effect learnt
    perfectly, nothing known of each provider); "prior", the configured prior for all."""
    if knows == "day":
        prior = Odds(b.accept, b.accept + b.decline, math.log(b.median_minutes), b.sigma)
    else:
        prior = Odds(policy.prior_accept, policy.prior_answer, math.log(policy.prior_median_minutes),
                     policy.prior_sigma)
    hits = confirmed = offers = 0
    everyone = sum(r["best_min"] is not None and r["best_min"] <= TARGET for r in rows)
    for r in rows:
        if not r["suitable"]:
            continue
        odds = {c: true_odds(c, r["seed"], b) if knows == "provider" else prior for c in r["suitable"]}
        answers = {c: answer_of(c, r["call"], r["seed"], b) for c in r["suitable"]}
        # the solver's order; among those close in it, the likelier to accept within `quick_minutes` first
        order = sorted(r["suitable"], key=lambda c: -odds[c].accept_within(policy.quick_minutes)) \
            if knows == "provider" else list(r["suitable"])
        start = start_minutes(r)
        sent: dict[str, float] = {}
        done_at = None
        t, next_wave, replan = 0.0, 0.0, True
        while t <= 240 and t < start and done_at is None:  # at the start of care the loop escalates
            for c, at in sent.items():
                a = answers[c]
                answered = _answered_at(a, at, r["lag_min"])
                if a.kind == "accept" and answered <= t:
                    done_at = min(done_at or answered, answered)
                elif a.kind == "decline" and t - step < answered <= t and answered - at <= policy.offer_minutes:
                    replan = True
            if done_at is not None:
                break
            if replan or t >= next_wave:
                open_ = [OpenOffer(odds[c], max(0.0, t - _read_at(at, r["lag_min"])))
                         for c, at in sent.items() if _open(answers[c], at, t, r["lag_min"], policy)]
                left = [c for c in order if c not in sent]
                wave = plan_wave(open_, [odds[c] for c in left], minutes_since_call=t, policy=policy,
                                 minutes_to_start=start - t, everyone_left=True)
                for c in left[:wave.ask]:
                    sent[c] = t
                if t >= next_wave:
                    next_wave += policy.wave_seconds / 60
                replan = False
            if not any(_open(answers[c], at, t, r["lag_min"], policy) for c, at in sent.items()) \
                    and len(sent) == len(order):
                break
            t += step
        offers += len(sent)
        if done_at is not None:
            confirmed += 1
            hits += done_at <= TARGET
    return {"hits": hits, "everyone": everyone, "share": round(hits / max(everyone, 1), 4),
            "offers_per_confirmation": round(offers / max(confirmed, 1), 3), "confirmed": confirmed}


_STARTS: dict[tuple[str, int], list[float]] = {}


def start_minutes(row: dict) -> float:
    """Minutes from the call to the start of care: from the day's calls (`bench.simulator.calls_of`)."""
    from bench.simulator import REPO_ROOT, WORLDS, calls_of

    key = (row["world"], row["seed"])
    if key not in _STARTS:
        if row["world"] not in WORLDS:  # a hand-made call: care far ahead
            return math.inf
        days = calls_of(WORLDS[row["world"]](REPO_ROOT / "data"), row["seed"])
        _STARTS[key] = [(datetime.fromisoformat(body["start_at"]) - called).total_seconds() / 60
                        for called, body in days]
    return _STARTS[key][row["call"]]


def _read_at(at: float, lag: float) -> float:
    """When an offer sent `at` minutes after the call is read: at night, not before the morning (`lag`)."""
    return lag if at < lag else at


def _answered_at(a, at: float, lag: float) -> float:
    return _read_at(at, lag) + a.delay_min


def _open(a, at: float, t: float, lag: float, policy: OfferPolicy) -> bool:
    if a.kind != "silent" and _answered_at(a, at, lag) <= t:
        return False
    return t - at < policy.offer_minutes


def misses(rows: list[dict], b: Behaviour) -> list[str]:
    """The calls someone would have accepted in time (asked at the call) that the policy did not confirm in
    time: each suitable provider in the solver's order with its drawn answer and true chance in time."""
    out = []
    for r in rows:
        missed = r["confirmed_min"] is None or r["confirmed_min"] > TARGET
        if r["best_min"] is None or r["best_min"] > TARGET or not missed:
            continue
        out.append(f"{r['world']} seed {r['seed']} call {r['call']}: first accept if everyone were asked "
                   f"{r['best_min']:.1f} min, confirmed {r['confirmed_min'] and round(r['confirmed_min'], 1)} min")
        for code, (p, _) in zip(r["suitable"], in_time(r, b)):
            a = answer_of(code, r["call"], r["seed"], b)
            out.append(f"    {code:10} {a.kind:8} after {a.delay_min:5.1f} min   chance in time {p:.2f}")
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.offer_bound", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("calls")
    c.add_argument("--worlds", default="pyeongtaek,gyeonggi")
    c.add_argument("--policy", default="everyone")
    c.add_argument("--day", default="normal", choices=["normal", "slow", "busy"])
    c.add_argument("--history", type=int, default=12)
    c.add_argument("--seeds", type=int, default=5)
    c.add_argument("--jobs", type=int, default=1)
    c.add_argument("--out", required=True)
    o = sub.add_parser("bound")
    o.add_argument("path")
    o.add_argument("--day", default="normal", choices=["normal", "slow", "busy"])
    m = sub.add_parser("misses")
    m.add_argument("path")
    m.add_argument("--day", default="normal", choices=["normal", "slow", "busy"])
    s = sub.add_parser("strangers")
    s.add_argument("--day", default="normal", choices=["normal", "slow", "busy"])
    s.add_argument("--shares", default="0.5,0.7849,0.8489,0.9,0.95",
                   help="shares of the calls confirmed within the target (of all calls asked)")
    r = sub.add_parser("replay")
    r.add_argument("path")
    r.add_argument("--day", default="normal", choices=["normal", "slow", "busy"])
    r.add_argument("--set", action="append", default=[], help="OfferPolicy field=json value")
    args = p.parse_args(argv)
    if args.cmd == "calls":
        rows = calls(args.worlds.split(","), args.policy, args.seeds, args.day, args.history, args.jobs)
        Path(args.out).write_text(json.dumps(rows, ensure_ascii=False))
        return
    if args.cmd == "strangers":
        for line in strangers(_behaviour(args.day), [float(x) for x in args.shares.split(",")]):
            print(json.dumps(line))
        return
    rows = json.loads(Path(args.path).read_text())
    b = _behaviour(args.day)
    for world in sorted({r["world"] for r in rows}):
        mine = [r for r in rows if r["world"] == world]
        if args.cmd == "misses":
            print("\n".join(misses(mine, b)))
        elif args.cmd == "bound":
            for line in bound(mine, b, [0.0, 0.02, 0.05, 0.08, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4]):
                print(world, json.dumps(line))
        else:
            policy = OfferPolicy(**{k: json.loads(v) for k, v in (a.split("=", 1) for a in args.set)})
            for knows in KNOWS:
                print(world, f"knows {knows}:", json.dumps(replay(mine, b, policy, knows=knows)))


if __name__ == "__main__":
    main()
