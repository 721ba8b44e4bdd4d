"""The solver's plans are optimal: brute-force enumeration on small instances, min-cost flow on the
special case of one child per request with all windows overlapping, and the greedy baselines."""

from __future__ import annotations

import itertools
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_checker import check, pair_violations, provider_violations, road_km
from matching_strategies import location, problem, random_problem
from ortools.graph.python import min_cost_flow

from matching import Interval, Problem, Provider, Request, greedy_call_order, greedy_most_constrained, solve
from matching.generator import generate

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def units(pr: Problem, req, prov) -> int:
    return round(road_km(pr, req.location, prov.location) * 100)  # the documented 10 m unit


def fairness(pr: Problem, assignment: dict[str, str]) -> int:
    """Level 3 as documented: per provider ceil(120/cap) * (base*load + sum_k<12 max(0, load-k))."""
    reqs = {r.id: r for r in pr.requests}
    total = 0
    for p in pr.providers:
        load = sum(len(reqs[r].child_ages) for r, q in assignment.items() if q == p.id and r not in pr.fixed)
        if not load:
            continue
        base = sum(c.children for c in p.commitments)
        base += sum(len(reqs[r].child_ages) for r, q in pr.fixed.items() if q == p.id)
        total += math.ceil(120 / p.capacity) * (base * load + sum(max(0, load - k) for k in range(12)))
    return total


def brute_force(pr: Problem):
    """Best (weight, -units, -fairness) over every assignment, by enumeration with the checker's rules."""
    provs = {p.id: p for p in pr.providers}
    options = [[None] + [p.id for p in pr.providers if not pair_violations(pr, r, p)] for r in pr.requests]
    best = None
    for combo in itertools.product(*options):
        jobs = {pid: [(c.start, c.end, c.children, c.location or p.location, False) for c in p.commitments]
                for pid, p in provs.items()}
        for r, pid in zip(pr.requests, combo):
            if pid is not None:
                jobs[pid].append((r.start, r.end, len(r.child_ages), r.location, True))
        if any(provider_violations(pr, provs[pid], jobs[pid]) for pid in set(combo) - {None}):
            continue
        assignment = {r.id: pid for r, pid in zip(pr.requests, combo) if pid is not None}
        key = (sum(r.priority for r, pid in zip(pr.requests, combo) if pid),
               -sum(units(pr, r, provs[pid]) for r, pid in zip(pr.requests, combo) if pid),
               -fairness(pr, assignment))
        if best is None or key > best:
            best = key
    return best


@settings(max_examples=150, **SETTINGS)
@given(problem(max_requests=5, max_providers=3))
def test_matches_brute_force_on_all_three_levels(pr):
    plan = solve(pr, time_limit_s=5.0, workers=1)
    assert check(pr, plan) == []
    assert plan.status == "optimal"
    provs = {p.id: p for p in pr.providers}
    reqs = {r.id: r for r in pr.requests}
    got = (plan.placed_weight, -sum(units(pr, reqs[r], provs[p]) for r, p in plan.assignments.items()),
           -fairness(pr, plan.assignments))
    assert got == brute_force(pr)
    assert plan.gap == 0.0


def test_matches_brute_force_on_seeded_instances():
    for seed in range(150):
        pr = random_problem(10_000 + seed, max_requests=6, max_providers=3)
        plan = solve(pr, time_limit_s=5.0, workers=1, encoding="scheduling" if seed % 2 else "linear")
        provs = {p.id: p for p in pr.providers}
        reqs = {r.id: r for r in pr.requests}
        got = (plan.placed_weight, -sum(units(pr, reqs[r], provs[p]) for r, p in plan.assignments.items()),
               -fairness(pr, plan.assignments))
        assert got == brute_force(pr), seed


@st.composite
def flow_case(draw):
    """One child per request, every window contains minute 600, no other rule binds."""
    provs = []
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["facility", "caregiver"]))
        provs.append(Provider(id=f"P{i}", kind=kind, location=draw(location()),
                              capacity=draw(st.integers(1, 3)) if kind == "facility" else 2,
                              availability=(Interval(0, 1440),), radius_km=draw(st.floats(1.0, 4.0))))
    reqs = []
    for i in range(draw(st.integers(1, 14))):
        s = draw(st.integers(480, 600))
        reqs.append(Request(id=f"R{i}", child_ages=(5,), start=s, end=draw(st.integers(601, 800)),
                            location=draw(location())))
    return Problem(requests=reqs, providers=tuple(provs), now=0)


@settings(max_examples=200, **SETTINGS)
@given(flow_case(), st.sampled_from(["linear", "scheduling"]))
def test_equals_min_cost_flow(pr, encoding):
    plan = solve(pr, time_limit_s=5.0, workers=1, encoding=encoding)
    assert check(pr, plan) == []
    R, P = len(pr.requests), len(pr.providers)
    source, sink = R + P, R + P + 1
    flow = min_cost_flow.SimpleMinCostFlow()
    for i, r in enumerate(pr.requests):
        flow.add_arc_with_capacity_and_unit_cost(source, i, 1, 0)
        for j, p in enumerate(pr.providers):
            if not pair_violations(pr, r, p):
                flow.add_arc_with_capacity_and_unit_cost(i, R + j, 1, units(pr, r, p))
    for j, p in enumerate(pr.providers):
        flow.add_arc_with_capacity_and_unit_cost(R + j, sink, p.capacity if p.kind == "facility" else 1, 0)
    flow.set_node_supply(source, R)
    flow.set_node_supply(sink, -R)
    assert flow.solve_max_flow_with_min_cost() == flow.OPTIMAL
    provs = {p.id: p for p in pr.providers}
    reqs = {r.id: r for r in pr.requests}
    assert plan.placed == flow.maximum_flow()
    assert sum(units(pr, reqs[r], provs[p]) for r, p in plan.assignments.items()) == flow.optimal_cost()


def test_beats_greedy_on_seeded_instances():
    """Level 1 never below either baseline; on ties in placements, never more km."""
    for size, seed in [("S", 1), ("S", 2), ("S", 3), ("Mc", 5)]:
        kw = {} if size == "S" else dict(n_providers=120, n_requests=80)
        pr = generate(size, seed=seed, **kw)
        plan = solve(pr, time_limit_s=5.0, workers=1)
        assert check(pr, plan) == []
        for base in (greedy_call_order(pr), greedy_most_constrained(pr)):
            assert check(pr, base) == []
            assert plan.placed_weight >= base.placed_weight
            if plan.placed_weight == base.placed_weight:
                assert plan.total_km <= base.total_km + 1e-6


def test_contended_instance_places_strictly_more_than_call_order():
    pr = generate("Mc", seed=7, n_providers=150, n_requests=120)
    plan = solve(pr, time_limit_s=5.0, workers=1)
    assert plan.placed > greedy_call_order(pr).placed


def test_pruning_keeps_placements_on_small_generated_instances():
    for seed in range(3):
        pr = generate("S", seed=100 + seed)
        a = solve(pr, time_limit_s=5.0, workers=1)
        b = solve(pr, time_limit_s=5.0, workers=1, prune=False)
        assert a.placed_weight == b.placed_weight
        assert a.total_km <= b.total_km * 1.005 + 1e-9
