"""Greedy baselines kept for comparison, and the greedy fill the solver uses as a first solution.

`greedy_call_order` is what an operator does by hand: each request in order of call (the order of
`problem.requests`), to the nearest provider that still has room. `greedy_most_constrained` takes
the requests with the fewest possible providers first (ties: higher priority, earlier start).
"""

from __future__ import annotations

import time
from typing import Mapping, Sequence

import numpy as np

from .candidates import FEASIBLE, CandidateSet, ProviderTable, RequestTable, build_candidates, provider_items, room_ok
from .explain import explain_all, plan_figures
from .types import Plan, Problem


def fill(problem: Problem, pt: ProviderTable, rt: RequestTable, rows: Sequence[int],
         cands: Mapping[int, Sequence[int]], items: dict[int, list]) -> dict[int, int]:
    """Assign each request row in turn to its first candidate provider row with room; mutates `items`."""
    chosen: dict[int, int] = {}
    for r in rows:
        req = rt.requests[r]
        lat, lon, n = req.location.lat, req.location.lon, len(req.child_ages)
        for p in cands.get(r, ()):
            if room_ok(pt.providers[p], req.start, req.end, n, lat, lon, items.get(p, ()), problem.travel):
                chosen[r] = p
                items.setdefault(p, []).append((req.start, req.end, n, lat, lon))
                break
    return chosen


def _static_candidates(cs: CandidateSet) -> dict[int, list[int]]:
    """Per decided request row: providers passing every rule against commitments, nearest first."""
    ok = (cs.all_reason == FEASIBLE) & cs.decide[cs.all_ri]
    ri, pi = cs.all_ri[ok], cs.all_pi[ok]
    cuts = np.flatnonzero(np.diff(ri)) + 1
    heads = ri[np.r_[0, cuts]].tolist() if len(ri) else []
    return dict(zip(heads, (g.tolist() for g in np.split(pi, cuts)))) if len(ri) else {}


def _order(cs: CandidateSet, cands: Mapping[int, Sequence[int]], order: str) -> list[int]:
    rows = [r for r in range(len(cs.rt)) if cs.decide[r]]
    if order == "constrained":
        rows.sort(key=lambda r: (len(cands.get(r, ())), -int(cs.rt.priority[r]), int(cs.rt.start[r]), r))
    return rows


def _choose(cs: CandidateSet, order: str, cands: Mapping[int, Sequence[int]] | None = None,
            items: Mapping[int, list] | None = None) -> dict[int, int]:
    """Request row -> provider row chosen by the baseline named `order` ("call" or "constrained")."""
    problem = cs.problem
    cands = _static_candidates(cs) if cands is None else cands
    if items is None:
        reqs = {r.id: r for r in problem.requests}
        items = provider_items(problem, cs.pt, problem.fixed, reqs)
    local = {p: list(v) for p, v in items.items()}
    return fill(problem, cs.pt, cs.rt, _order(cs, cands, order), cands, local)


def baseline_choices(cs: CandidateSet, items: Mapping[int, list] | None = None) -> list[dict[int, int]]:
    """Both baselines' choices on a candidate set whose all_* columns hold every in-radius pair;
    `items` (commitments and fixed assignments per provider row) is read, not changed."""
    cands = _static_candidates(cs)
    return [_choose(cs, "call", cands, items), _choose(cs, "constrained", cands, items)]


def _run(problem: Problem, order: str) -> Plan:
    t0 = time.perf_counter()
    cs = build_candidates(problem, prune=True, max_per_request=None)
    chosen = _choose(cs, order)
    assignments = {rid: pid for rid, pid in problem.fixed.items() if rid in cs.rt.index}
    assignments.update({cs.rt.ids[r]: cs.pt.ids[p] for r, p in chosen.items()})
    t1 = time.perf_counter()
    explanations = explain_all(problem, cs, assignments)
    plan = Plan(assignments=assignments, explanations=explanations, status="greedy", placed=0, placed_weight=0,
                total_km=0.0, build_s=t1 - t0, explain_s=time.perf_counter() - t1,
                candidate_pairs=int(np.count_nonzero(cs.all_reason == FEASIBLE)))
    plan_figures(problem, cs, plan)
    return plan


def greedy_call_order(problem: Problem) -> Plan:
    return _run(problem, "call")


def greedy_most_constrained(problem: Problem) -> Plan:
    return _run(problem, "constrained")
