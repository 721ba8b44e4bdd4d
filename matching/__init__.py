"""Matching engine for emergency child care: a pure library (no database, web, clock or SMS).

Interface (all times are int minutes on the caller's axis; the hotline uses Unix-epoch minutes):

    Location(lat, lon); Interval(start, end)                      # half-open [start, end)
    Commitment(start, end, children, location=None, request_id=None)
    Request(id, child_ages, start, end, location, needs=frozenset(), language="ko", priority=1)
    Provider(id, kind "facility"|"caregiver", location, capacity, availability, commitments=(),
             min_age=0, max_age=12, skills=frozenset(), languages={"ko"}, radius_km=5.0)
    Problem(requests, providers, now, exclude=frozenset(), fixed={}, hint={}, travel=GreatCircle(),
            caregiver_lead_min=120, tz_offset_min=540, nearest=None)   # nearest: pair each request with
                                                                    # only its nearest n providers in radius

    solve(problem, *, time_limit_s=1.0, prune=True, decompose=True, workers=2,
          max_candidates=12, encoding="linear", fairness=True) -> Plan
    solve_incremental(problem, new_request_id, plan=None, *, time_limit_s=0.2) -> Plan
    rank_providers(problem, request_id, k=3, plan=None) -> list[Candidate]
    rank_many(problem, {request_id: k}, plan=None) -> {request_id: list[Candidate]}   # the same, many at once
    greedy_call_order(problem) -> Plan;  greedy_most_constrained(problem) -> Plan
    urgency_priority(start, now) -> int                            # 4 (within 2 h) .. 1 (later than 8 h)
    room_ok(provider, start, end, children, lat, lon, items, travel) -> bool   # the room rule, for one pair

    Plan: assignments {request_id: provider_id}, explanations {request_id: Explanation} for every
          request, status, placed, placed_weight, total_km, fairness, placed_weight_bound,
          total_km_bound, gaps {level: gap}, gap, build_s, solve_s, explain_s, components, candidate_pairs
    Explanation: request_id, provider_id, distance_km, alternatives [(id, km)], reason_code, counts,
          summary_ko, summary_en, suggestions (codes), suggestions_ko, suggestions_en, travel_min, fixed
    Candidate: provider_id, distance_km, travel_min, explanation (ko), explanation_en, kind, straight_km, spare

Travel: GreatCircle(road_factor=1.3, speed_kmh=30.0) or MatrixTravel(points, km, minutes) from a
routing engine; a service radius is compared with the straight-line distance.
See docs/matching.md.
"""

from .candidates import room_ok
from .cpsat import solve
from .distance import GreatCircle, MatrixTravel, TravelModel, haversine_km
from .greedy import greedy_call_order, greedy_most_constrained
from .incremental import RULES_KO, broken_rules, rank_many, rank_providers, solve_incremental
from .types import Candidate, Commitment, Explanation, Interval, Location, Plan, Problem, Provider, Request


def urgency_priority(start: int, now: int) -> int:
    """Weight for objective level 1: a window starting sooner matters more (4, 3, 2 or 1)."""
    lead = start - now
    if lead <= 120:
        return 4
    if lead <= 240:
        return 3
    if lead <= 480:
        return 2
    return 1


__all__ = [
    "RULES_KO", "broken_rules",
    "Candidate", "Commitment", "Explanation", "GreatCircle", "Interval", "Location", "MatrixTravel", "Plan",
    "Problem", "Provider", "Request", "TravelModel", "greedy_call_order", "greedy_most_constrained",
    "haversine_km", "rank_many", "rank_providers", "room_ok", "solve", "solve_incremental", "urgency_priority",
]
