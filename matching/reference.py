"""Exact reference for the benchmark: the same problem as a MILP, solved by a second engine.

Written apart from `cpsat.py` (its own capacity and caregiver rows) so that it can catch the
solver's mistakes: every feasible pair (no pruning), at most one provider per request, facility
capacity at every moment the load can rise (window and commitment starts; fixed assignments counted),
a caregiver's overlapping windows as at-most-one cliques and pairs too close for the travel time
as pair rows. Levels 1 and 2 are solved as two MILPs (weight, then km with the weight kept), each
to a zero gap, so the figures are exact when `status == "optimal"`.

Engines: "highs" (HiGHS through OR-Tools' linear solver wrapper, shipped with ortools) or "scip".
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .candidates import build_candidates
from .types import Problem


@dataclass
class Reference:
    status: str  # "optimal" (both levels proven), "feasible" or "unknown"
    placed: int
    placed_weight: int
    placed_weight_bound: int  # proven upper bound on level 1 (= placed_weight when optimal)
    units: int  # level 2 in the objective's 10 m units
    total_km: float
    wall_s: float
    assignments: dict[str, str]


def _rows(problem: Problem, cs) -> tuple[list[list[int]], list[tuple[list[int], list[int], int]]]:
    """(at-most-one groups, capacity rows (idx, coeffs, room)) over the pairs of `cs`."""
    reqs, provs = cs.rt, cs.pt
    ri, pi = cs.ri, cs.pi
    amo: list[list[int]] = []
    cap_rows: list[tuple[list[int], list[int], int]] = []
    by_prov: dict[int, list[int]] = {}
    for k, p in enumerate(pi.tolist()):
        by_prov.setdefault(p, []).append(k)
    fixed_items: dict[int, list[tuple[int, int, int]]] = {}
    for rid, pid in problem.fixed.items():
        if rid in reqs.index and pid in provs.index:
            r = reqs.index[rid]
            fixed_items.setdefault(provs.index[pid], []).append(
                (int(reqs.start[r]), int(reqs.end[r]), int(reqs.children[r])))
    travel = problem.travel
    for p, ks in by_prov.items():
        prov = provs.providers[p]
        s = [int(reqs.start[ri[k]]) for k in ks]
        e = [int(reqs.end[ri[k]]) for k in ks]
        if prov.kind == "facility":
            items = [(c.start, c.end, c.children) for c in prov.commitments] + fixed_items.get(p, [])
            # The load changes at window starts and at the starts of commitments inside a window.
            for t in sorted(set(s) | {a for a, _, _ in items if any(s[j] <= a < e[j] for j in range(len(ks)))}):
                act = [j for j in range(len(ks)) if s[j] <= t < e[j]]
                room = prov.capacity - sum(n for a, b, n in items if a <= t < b)
                kids = [int(reqs.children[ri[ks[j]]]) for j in act]
                if sum(kids) > room:
                    cap_rows.append(([ks[j] for j in act], kids, room))
            continue
        for t in sorted(set(s)):
            act = [ks[j] for j in range(len(ks)) if s[j] <= t < e[j]]
            if len(act) > 1:
                amo.append(act)
        lat = reqs.lat[ri[ks]]
        lon = reqs.lon[ri[ks]]
        tm = travel.travel_min(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        for a in range(len(ks)):
            for b in range(len(ks)):
                if a == b or s[a] > s[b] or (s[a] == s[b] and a > b):
                    continue
                overlap = s[b] < e[a]
                if not overlap and e[a] + int(tm[a, b]) > s[b]:
                    amo.append([ks[a], ks[b]])
    return amo, cap_rows


def exact_reference(problem: Problem, *, time_limit_s: float = 60.0, engine: str = "highs") -> Reference:
    """Optimal levels 1 and 2 of the whole problem (every feasible pair) by a MILP engine."""
    from ortools.linear_solver import pywraplp

    t0 = time.perf_counter()
    cs = build_candidates(problem, prune=False, max_per_request=None)
    amo, cap_rows = _rows(problem, cs)
    n = len(cs.ri)
    w = cs.rt.priority[cs.ri]
    u = cs.units

    solver = pywraplp.Solver.CreateSolver(engine.upper())
    if solver is None:
        raise RuntimeError(f"MILP engine {engine!r} is not available in this OR-Tools build")
    solver.SuppressOutput()
    x = [solver.BoolVar(f"x{k}") for k in range(n)]
    first = np.r_[0, np.flatnonzero(np.diff(cs.ri)) + 1, n]
    for a, b in zip(first[:-1], first[1:]):
        if b - a > 1:
            solver.Add(sum(x[k] for k in range(a, b)) <= 1)
    for group in amo:
        solver.Add(sum(x[k] for k in group) <= 1)
    for idx, kids, room in cap_rows:
        solver.Add(sum(c * x[k] for k, c in zip(idx, kids)) <= room)

    def run(seconds: float) -> tuple[int, np.ndarray | None, float]:
        solver.SetTimeLimit(int(max(seconds, 0.1) * 1000))
        params = pywraplp.MPSolverParameters()
        params.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, 0.0)
        status = solver.Solve(params)
        if status in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
            return status, np.array([round(v.solution_value()) for v in x], dtype=np.int64), solver.Objective().BestBound()
        return status, None, float("nan")

    deadline = t0 + time_limit_s
    solver.Maximize(sum(int(w[k]) * x[k] for k in range(n)))
    st1, x1, bound1 = run(deadline - time.perf_counter())
    if x1 is None:
        return Reference("unknown", 0, 0, int(np.bincount(cs.ri, minlength=1).size), 0, 0.0,
                         time.perf_counter() - t0, {})
    p1 = int(w @ x1)
    b1 = p1 if st1 == pywraplp.Solver.OPTIMAL else max(p1, int(np.floor(bound1 + 1e-6)))
    solver.Add(sum(int(w[k]) * x[k] for k in range(n)) >= p1)
    solver.Minimize(sum(int(u[k]) * x[k] for k in range(n)))
    st2, x2, _ = run(deadline - time.perf_counter())
    best = x2 if x2 is not None and int(w @ x2) >= p1 else x1
    sel = np.flatnonzero(best)
    assignments = {cs.rt.ids[int(cs.ri[k])]: cs.pt.ids[int(cs.pi[k])] for k in sel}
    status = "optimal" if st1 == pywraplp.Solver.OPTIMAL and st2 == pywraplp.Solver.OPTIMAL else "feasible"
    return Reference(status, len(sel), int(w @ best), b1, int(u @ best), float(cs.km[sel].sum()),
                     time.perf_counter() - t0, assignments)
