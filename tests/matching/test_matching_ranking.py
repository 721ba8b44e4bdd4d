"""Issue 23, the sweep at national scale: `rank_many` ranks many requests at once and gives exactly what
`rank_providers` gives one request at a time (providers, order, distances, room and the explanation text),
a request's own placement in the plan being load for every other request but not for itself; and
`Problem.nearest` pairs each request with only its nearest providers in radius, ties at the last distance
included, in the solve and in the ranking alike."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_strategies import LAT0, LON0, problem

from matching import (Commitment, Interval, Location, Plan, Problem, Provider, Request, haversine_km, rank_many,
                      rank_providers, solve)
from matching.candidates import build_candidates
from matching.generator import generate

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _plan(assignments: dict[str, str]) -> Plan:
    return Plan(assignments=assignments, explanations={}, status="feasible", placed=0, placed_weight=0, total_km=0.0)


def _one_by_one(pr: Problem, depth: dict[str, int], plan: Plan | None) -> dict[str, list]:
    return {r: rank_providers(pr, r, k=k, plan=plan) for r, k in depth.items()}


@st.composite
def ranked_world(draw):
    """A small world with a plan that places requests anywhere (the ranking takes it as load as it is:
    facilities with partial room, caregivers with a visit planned), some confirmed, and a depth each."""
    pr = draw(problem(max_requests=8, max_providers=6))
    ids = [p.id for p in pr.providers]
    placed = {r.id: draw(st.sampled_from(ids)) for r in pr.requests if draw(st.integers(0, 3))}
    fixed = {r: p for r, p in placed.items() if draw(st.integers(0, 4)) == 0}
    pr = replace(pr, fixed=fixed, nearest=draw(st.sampled_from([None, None, 1, 2])))
    depth = {r.id: draw(st.integers(1, 6)) for r in pr.requests if draw(st.integers(0, 4))}
    plan = _plan(placed) if draw(st.integers(0, 3)) else None
    return pr, depth, plan


@settings(max_examples=300, **SETTINGS)
@given(ranked_world())
def test_rank_many_is_rank_providers_request_by_request(world):
    pr, depth, plan = world
    assert rank_many(pr, depth, plan) == _one_by_one(pr, depth, plan)


def test_rank_many_on_a_province_with_a_solved_plan():
    """600 providers and 300 calls over Gyeonggi, regulars filling the facilities: the solver's plan is load."""
    pr = generate("Mc")
    plan = solve(pr, time_limit_s=2.0, workers=1)
    depth = {r.id: 12 for r in pr.requests}
    batched, single = rank_many(pr, depth, plan), _one_by_one(pr, depth, plan)
    assert batched == single
    ranked = [c for found in single.values() for c in found]
    assert len(plan.assignments) > 100 and len(ranked) > 1000
    # the world has what the batch must get right: placed requests ranked at the provider that holds them
    # (their own placement not counted), facilities with some room but not all, and caregivers
    assert sum(plan.assignments.get(r) in {c.provider_id for c in found} for r, found in single.items()) > 50
    capacity = {p.id: p.capacity for p in pr.providers}
    assert any(c.kind == "facility" and 0 < c.spare < capacity[c.provider_id] for c in ranked)
    assert any(c.kind == "caregiver" for c in ranked)


def test_a_request_is_ranked_at_the_provider_its_own_placement_fills():
    """Without its own placement, the facility it fills and the caregiver it occupies are free for it
    (and full or busy for the others): the batch must not count a request against itself."""
    here = Location(LAT0, LON0)
    full_day = (Interval(0, 1440),)
    providers = (Provider(id="F", kind="facility", location=here, capacity=2, availability=full_day),
                 Provider(id="C", kind="caregiver", location=here, capacity=2, availability=full_day,
                          commitments=(Commitment(900, 960, 1, here),)))
    requests = [Request(id=f"R{i}", child_ages=(4, 6), start=600, end=720, location=here) for i in range(3)]
    pr = Problem(requests=requests, providers=providers, now=0)
    plan = _plan({"R0": "F", "R1": "C"})
    depth = {"R0": 3, "R1": 3, "R2": 3}
    batched = rank_many(pr, depth, plan)
    assert batched == _one_by_one(pr, depth, plan)
    assert [(c.provider_id, c.spare) for c in batched["R0"]] == [("F", 2)]  # R1 keeps C busy
    assert [(c.provider_id, c.spare) for c in batched["R1"]] == [("C", 2)]  # R0 fills F
    assert batched["R2"] == []
    assert "여유 2명; 반경 내 2곳 중 가능 1곳" in batched["R0"][0].explanation


def test_nearest_pairs_each_request_with_its_nearest_providers_only():
    """Five facilities 200, 400, 400, 600, 800 m away: the nearest two are the first three (a tie)."""
    req = Request(id="R", child_ages=(5,), start=600, end=720, location=Location(LAT0, LON0))
    providers = tuple(Provider(id=f"P{i}", kind="facility", location=Location(LAT0 + m / 111_000, LON0), capacity=3,
                               availability=(Interval(0, 1440),)) for i, m in enumerate([800, 400, 200, 600, 400]))
    pr = Problem(requests=[req], providers=providers, now=0, nearest=2)
    cs = build_candidates(pr, max_per_request=None)
    assert sorted(cs.pt.ids[p] for p in cs.all_pi) == ["P1", "P2", "P4"]
    assert [c.provider_id for c in rank_providers(pr, "R", k=10)] == ["P2", "P1", "P4"]
    plan = solve(pr, time_limit_s=1.0, workers=1)
    assert plan.assignments == {"R": "P2"}
    assert {k: plan.explanations["R"].counts[k] for k in ("in_radius", "reviewed")} == {"in_radius": 5, "reviewed": 3}
    everyone = replace(pr, nearest=None)
    assert len(build_candidates(everyone, max_per_request=None).all_pi) == 5


def test_nearest_keeps_what_a_whole_read_would_rank_among_the_nearest():
    pr = replace(generate("M"), nearest=20)
    whole = replace(pr, nearest=None)
    cut = 0
    for r in pr.requests[:60]:
        dist = {p.id: haversine_km(r.location.lat, r.location.lon, p.location.lat, p.location.lon)
                for p in pr.providers}
        d = sorted(dist[p.id] for p in pr.providers if dist[p.id] <= p.radius_km)
        last = d[19] if len(d) > 20 else float("inf")
        cut += len(d) > 20
        expected = [(c.provider_id, c.distance_km, c.spare) for c in rank_providers(whole, r.id, k=50)
                    if dist[c.provider_id] <= last]
        assert [(c.provider_id, c.distance_km, c.spare) for c in rank_providers(pr, r.id, k=50)] == expected
    assert cut > 10  # most calls in the province have more than 20 providers in reach
