"""Pruning never costs a placement and a proof is never claimed that was not made.

Prune traps: a request's nearest providers fill up while the one that would place it lies beyond
the candidate cut. Status "optimal", gap 0 and every bound are checked against brute force.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_checker import check
from matching_strategies import problem
from test_matching_optimality import brute_force, fairness, units

from matching import Interval, Location, Problem, Provider, Request, greedy_call_order, greedy_most_constrained, solve
from matching.generator import generate

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
LAT0, LON0 = 37.27, 127.03


def trap(n_requests: int, n_near: int = 12) -> Problem:
    """n_near one-place facilities right next to every request, one more a few km away."""
    provs = [Provider(id=f"N{i}", kind="facility", location=Location(LAT0 + 0.0005 * i, LON0), capacity=1,
                      availability=(Interval(0, 1440),), radius_km=5.0) for i in range(n_near)]
    provs.append(Provider(id="FAR", kind="facility", location=Location(LAT0 + 0.03, LON0), capacity=1,
                          availability=(Interval(0, 1440),), radius_km=5.0))
    reqs = [Request(id=f"R{i}", child_ages=(5,), start=600, end=720, location=Location(LAT0, LON0 + 0.0002 * i))
            for i in range(n_requests)]
    return Problem(requests=reqs, providers=tuple(provs), now=0)


def key(pr: Problem, plan) -> tuple[int, int, int]:
    provs = {p.id: p for p in pr.providers}
    reqs = {r.id: r for r in pr.requests}
    return (plan.placed_weight, -sum(units(pr, reqs[r], provs[p]) for r, p in plan.assignments.items()),
            -fairness(pr, plan.assignments))


def test_constructed_traps_place_everyone_and_prove_it():
    for n in (13, 14):
        pr = trap(n)
        plan = solve(pr, time_limit_s=5.0, workers=1)  # default cut: 12 candidates
        assert check(pr, plan) == []
        assert plan.placed == 13  # 12 near places and the far one
        assert plan.placed_weight_bound >= 13
        if n == 14:
            assert plan.explanations["R13"].reason_code != "not_selected" or plan.placed == 13


def test_trap_with_a_tiny_cut_agrees_with_brute_force():
    pr = trap(5, n_near=4)
    plan = solve(pr, time_limit_s=5.0, workers=1, max_candidates=1)
    assert plan.status == "optimal" and plan.gap == 0.0
    assert key(pr, plan) == brute_force(pr)


@settings(max_examples=120, **SETTINGS)
@given(problem(max_requests=5, max_providers=4), st.integers(1, 2), st.sampled_from(["linear", "scheduling"]))
def test_cut_models_never_claim_a_false_proof(pr, k, encoding):
    plan = solve(pr, time_limit_s=5.0, workers=1, max_candidates=k, encoding=encoding)
    assert check(pr, plan) == []
    best = brute_force(pr)
    assert plan.placed_weight_bound >= best[0]  # a bound for the problem, not for the cut model
    if plan.placed_weight == best[0]:  # km bound, up to the objective's rounding to 10 m per pair
        assert plan.total_km_bound * 100 <= -best[1] + 0.5 * plan.placed + 1e-6
    if plan.status == "optimal":
        assert key(pr, plan) == best
    if plan.gap == 0.0:
        assert key(pr, plan)[:2] == best[:2]


@settings(max_examples=60, **SETTINGS)
@given(problem(max_requests=5, max_providers=4))
def test_bounds_hold_even_without_time(pr):
    plan = solve(pr, time_limit_s=0.0, workers=1, max_candidates=1)
    assert check(pr, plan) == []
    best = brute_force(pr)
    assert plan.placed_weight_bound >= best[0]
    if plan.status == "optimal" or plan.gap == 0.0:
        assert key(pr, plan)[:2] == best[:2]


def test_reproducible_mode_gives_the_same_plan():
    pr = generate("C600", seed=3, n_requests=150, n_providers=50)
    plans = [solve(pr, time_limit_s=0.3, reproducible=True) for _ in range(3)]
    assert all(p.assignments == plans[0].assignments for p in plans)
    assert all(check(pr, p) == [] for p in plans)


def test_short_limit_on_contention_never_below_a_baseline():
    for seed in (1, 2):
        pr = generate("C600", seed=seed, n_requests=200, n_providers=70)
        plan = solve(pr, time_limit_s=0.05)
        assert check(pr, plan) == []
        for base in (greedy_call_order(pr), greedy_most_constrained(pr)):
            assert (plan.placed_weight, -plan.total_km) >= (base.placed_weight, -base.total_km - 1e-6)
