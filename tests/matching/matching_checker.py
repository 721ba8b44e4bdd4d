"""Independent checker of the hard rules, written from the issue text and not from the solver.

It shares nothing with matching/ but the dataclasses: its own haversine, its own travel time for
GreatCircle, its own sweep for capacity and its own ordering of caregiver visits.
"""

from __future__ import annotations

import math

from matching.distance import GreatCircle
from matching.types import Plan, Problem

R_EARTH = 6371.0088


def straight_km(a, b) -> float:
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R_EARTH * math.asin(min(1.0, math.sqrt(h)))


def road_km(problem: Problem, a, b) -> float:
    t = problem.travel
    if isinstance(t, GreatCircle):
        return straight_km(a, b) * t.road_factor
    return float(t.road_km(a.lat, a.lon, b.lat, b.lon))


def minutes(problem: Problem, a, b) -> int:
    t = problem.travel
    if isinstance(t, GreatCircle):
        return math.ceil(straight_km(a, b) * t.road_factor / t.speed_kmh * 60 - 1e-9)
    return int(t.travel_min(a.lat, a.lon, b.lat, b.lon))


def pair_violations(problem: Problem, req, prov) -> list[str]:
    """Rules that concern one request and one provider only (not checked for fixed assignments)."""
    out = []
    if (req.id, prov.id) in problem.exclude:
        out.append("excluded pair used")
    if straight_km(req.location, prov.location) > prov.radius_km + 1e-9:
        out.append("outside radius")
    if any(a < prov.min_age or a > prov.max_age for a in req.child_ages):
        out.append("age outside range")
    if not set(req.needs) <= set(prov.skills):
        out.append("skill missing")
    if req.language not in prov.languages:
        out.append("language missing")
    if not any(iv.start <= req.start and req.end <= iv.end for iv in prov.availability):
        out.append("window outside availability")
    if len(req.child_ages) > prov.capacity:
        out.append("more children than capacity")
    if prov.kind == "caregiver" and req.start - problem.now < problem.caregiver_lead_min:
        out.append("caregiver lead time")
    return out


def provider_violations(problem: Problem, prov, jobs) -> list[str]:
    """jobs: (start, end, children, location, assigned) for commitments and assigned requests.

    Only clashes that involve an assigned request count: commitments alone are the input's business.
    """
    out = []
    if prov.kind == "facility":
        for t in sorted({j[0] for j in jobs}):
            here = [j for j in jobs if j[0] <= t < j[1]]
            present = sum(j[2] for j in here)
            if present > prov.capacity and any(j[4] for j in here):
                out.append(f"{prov.id}: {present} children at {t} > {prov.capacity}")
                break
    else:
        ordered = sorted(jobs, key=lambda j: (j[0], j[1]))
        for a, b in zip(ordered, ordered[1:]):
            if (a[4] or b[4]) and a[1] + minutes(problem, a[3], b[3]) > b[0]:
                out.append(f"{prov.id}: visit ending {a[1]} leaves no time to reach the one at {b[0]}")
                break
    return out


def check(problem: Problem, plan: Plan) -> list[str]:
    reqs = {r.id: r for r in problem.requests}
    provs = {p.id: p for p in problem.providers}
    out: list[str] = []
    for rid in reqs:
        e = plan.explanations.get(rid)
        if e is None:
            out.append(f"{rid}: no explanation")
        elif (rid in plan.assignments) != (e.provider_id is not None):
            out.append(f"{rid}: explanation disagrees with assignment")
        elif e.provider_id is None and (not e.reason_code or not e.counts or not e.summary_ko or not e.summary_en):
            out.append(f"{rid}: unplaced without reason and counts")
    for rid, pid in problem.fixed.items():
        if rid in reqs and plan.assignments.get(rid) != pid:
            out.append(f"fixed {rid}->{pid} not kept")
    jobs: dict[str, list] = {pid: [] for pid in provs}
    for pid, p in provs.items():
        for c in p.commitments:
            jobs[pid].append((c.start, c.end, c.children, c.location or p.location, False))
    for rid, pid in plan.assignments.items():
        if rid not in reqs or pid not in provs:
            out.append(f"unknown ids {rid}->{pid}")
            continue
        r = reqs[rid]
        if rid not in problem.fixed:
            out += [f"{rid}->{pid}: {v}" for v in pair_violations(problem, r, provs[pid])]
        jobs[pid].append((r.start, r.end, len(r.child_ages), r.location, True))
    for pid, p in provs.items():
        out += provider_violations(problem, p, jobs[pid])
    placed = sum(1 for r in plan.assignments if r in reqs)
    if plan.placed != placed:
        out.append(f"placed {plan.placed} != {placed}")
    weight = sum(reqs[r].priority for r in plan.assignments if r in reqs)
    if plan.placed_weight != weight:
        out.append(f"placed_weight {plan.placed_weight} != {weight}")
    km = sum(road_km(problem, reqs[r].location, provs[p].location) for r, p in plan.assignments.items() if r in reqs)
    if abs(plan.total_km - km) > 1e-6 * max(1.0, km):
        out.append(f"total_km {plan.total_km} != {km}")
    return out
