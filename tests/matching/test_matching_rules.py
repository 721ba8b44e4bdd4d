"""Every plan any entry point returns satisfies every hard rule (independent checker, random instances).

Hypothesis strategies shrink failures to small cases; the seeded bulk runs cover thousands of
instances cheaply (a failing seed is named in the assertion).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_checker import check, pair_violations
from matching_strategies import problem, random_problem, request

from matching import greedy_call_order, greedy_most_constrained, rank_providers, solve, solve_incremental

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(max_examples=200, **SETTINGS)
@given(problem())
def test_solve_keeps_every_rule(pr):
    plan = solve(pr, time_limit_s=1.0, workers=1)
    assert check(pr, plan) == []
    assert plan.status in ("optimal", "feasible")


@pytest.mark.parametrize("block", range(4))
def test_thousands_of_seeded_instances(block):
    """2,000 instances: CP-SAT (two encodings) and both greedy baselines, each checked."""
    for seed in range(block * 500, (block + 1) * 500):
        pr = random_problem(seed)
        plans = {
            "cpsat": solve(pr, time_limit_s=1.0, workers=1, encoding="linear" if seed % 2 else "scheduling"),
            "greedy": greedy_call_order(pr),
            "greedy-constrained": greedy_most_constrained(pr),
        }
        for name, plan in plans.items():
            assert check(pr, plan) == [], (seed, name)
        assert plans["cpsat"].placed_weight >= plans["greedy"].placed_weight, seed
        assert plans["cpsat"].placed_weight >= plans["greedy-constrained"].placed_weight, seed


@settings(max_examples=150, **SETTINGS)
@given(problem(), st.sampled_from(["scheduling", "linear"]), st.booleans(), st.booleans())
def test_solve_variants_keep_every_rule(pr, encoding, prune, decompose):
    plan = solve(pr, time_limit_s=1.0, workers=1, encoding=encoding, prune=prune, decompose=decompose,
                 max_candidates=2)
    assert check(pr, plan) == []


@settings(max_examples=150, **SETTINGS)
@given(problem())
def test_greedy_keeps_every_rule(pr):
    for plan in (greedy_call_order(pr), greedy_most_constrained(pr)):
        assert check(pr, plan) == []


@settings(max_examples=150, **SETTINGS)
@given(problem(), st.data())
def test_fixed_assignments_are_kept(pr, data):
    first = solve(pr, time_limit_s=1.0, workers=1)
    keep = data.draw(st.sets(st.sampled_from(sorted(first.assignments)))) if first.assignments else set()
    pr2 = replace(pr, fixed={r: first.assignments[r] for r in keep}, hint=dict(first.assignments))
    plan = solve(pr2, time_limit_s=1.0, workers=1)
    assert check(pr2, plan) == []
    # The previous plan is still possible, so the new one is at least as good on level 1.
    assert plan.placed_weight >= first.placed_weight


@settings(max_examples=200, **SETTINGS)
@given(problem(with_extras=False), st.data())
def test_incremental_keeps_rules_and_placements(pr, data):
    base = solve(pr, time_limit_s=1.0, workers=1)
    fixed = {r: p for r, p in base.assignments.items() if data.draw(st.booleans())}
    new = data.draw(request(len(pr.requests)))
    pr2 = replace(pr, requests=list(pr.requests) + [new], fixed=fixed)
    plan = solve_incremental(pr2, new.id, base)
    assert check(pr2, plan) == []
    assert set(base.assignments) <= set(plan.assignments), "nobody already placed is dropped"
    assert all(plan.assignments[r] == p for r, p in fixed.items())
    # If it fits against the unchanged plan, it is placed.
    if rank_providers(pr2, new.id, k=1, plan=base):
        assert new.id in plan.assignments


@settings(max_examples=200, **SETTINGS)
@given(problem(), st.integers(1, 4))
def test_rank_providers_lists_only_feasible_nearest_first(pr, k):
    plan = solve(pr, time_limit_s=1.0, workers=1)
    req = pr.requests[0]
    others = {r: p for r, p in plan.assignments.items() if r != req.id}
    ranked = rank_providers(pr, req.id, k=k, plan=plan)
    assert len(ranked) <= k
    assert [c.distance_km for c in ranked] == sorted(c.distance_km for c in ranked)
    provs = {p.id: p for p in pr.providers}
    for c in ranked:
        assert pair_violations(pr, req, provs[c.provider_id]) == []
        trial = replace(plan, assignments={**others, req.id: c.provider_id})
        assert [v for v in check(pr, trial) if v.startswith(f"{c.provider_id}:")] == []


CHECKER_NAMES = {"excluded": "excluded pair used", "radius": "outside radius", "age": "age outside range",
                 "skill": "skill missing", "language": "language missing", "closed": "window outside availability",
                 "too_many_children": "more children than capacity", "lead_time": "caregiver lead time"}


@pytest.mark.parametrize("block", range(2))
def test_broken_rules_names_every_rule_a_pair_breaks(block):
    """The operator's override screen lists every rule a pair breaks (issue 19): the same rules as the
    independent checker, all of them (not only the first), and nothing for a pair the ranking offers."""
    from matching import broken_rules

    for seed in range(block * 60, (block + 1) * 60):
        pr = random_problem(seed)
        for req in pr.requests[:6]:
            ranked = {c.provider_id for c in rank_providers(pr, req.id, k=len(pr.providers))}
            for prov in pr.providers:
                broken = broken_rules(pr, req.id, prov.id)
                expected = sorted(CHECKER_NAMES[b] for b in broken if b in CHECKER_NAMES)
                assert expected == sorted(pair_violations(pr, req, prov)), (seed, req.id, prov.id, broken)
                assert (not broken) == (prov.id in ranked), (seed, req.id, prov.id, broken)


@settings(max_examples=300, deadline=None)
@given(cap=st.integers(1, 8), children=st.integers(1, 4), start=st.integers(0, 1400), length=st.integers(1, 600),
       items=st.lists(st.tuples(st.integers(0, 1400), st.integers(1, 600), st.integers(1, 3)), max_size=8))
def test_room_ok_agrees_with_the_overloaded_span(cap, children, start, length, items):
    """`room_ok` (yes/no at the first overloaded moment) says there is room exactly when `busy_span`
    (which finds the first overloaded span, for the explanations) finds none."""
    from matching.candidates import busy_span, room_ok
    from matching.distance import GreatCircle
    from matching.types import Interval, Location, Provider

    here = Location(37.5, 127.0)
    fac = Provider(id="F", kind="facility", location=here, capacity=cap, availability=(Interval(0, 3000),),
                   radius_km=5.0)
    its = [(a, a + n, c, here.lat, here.lon) for a, n, c in items]
    end = start + length
    assert room_ok(fac, start, end, children, here.lat, here.lon, its, GreatCircle()) == (
        busy_span(fac, start, end, children, here.lat, here.lon, its, GreatCircle()) is None)
