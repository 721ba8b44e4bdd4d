"""Exact reference for the benchmark: the same problem as a MILP, solved by a second engine.

Written apart from `cpsat.py` (its own capacity and caregiver rows) so that it can catch the
solver's mistakes: every feasible pair (no pruning), at most one provider per request, facility
capacity at every moment the load can rise (window and commitment starts; fixed assignments counted),
a caregiver's overlapping windows as at-most-one cliques and pairs too close for the travel time
as pair rows. Levels 1 and 2 are solved as two MILPs (weight, then km with the weight kept), each
to a zero gap, so the figures are exact when `status == "optimal"`.

Each part (requests sharing no provider with the rest) is its own MILP. Engines: "highs" (HiGHS
through highspy: the model goes in as arrays), or any engine of OR-Tools' linear solver wrapper
("scip", "highs-ortools" for the HiGHS shipped inside OR-Tools).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .candidates import build_candidates
from .relaxation import set_time_left
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


def _parts(cs) -> np.ndarray:
    """Component label per pair: requests and providers linked by pairs (its own union-find)."""
    R = len(cs.rt)
    parent = list(range(R + len(cs.pt)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r, p in zip(cs.ri.tolist(), cs.pi.tolist()):
        a, b = find(r), find(R + p)
        if a != b:
            parent[a] = b
    return np.fromiter((find(r) for r in cs.ri.tolist()), np.int64, len(cs.ri))


def _milp_highs(n, rows, w, u, deadline):
    """Levels 1 then 2 of one part with highspy: (both proven, x, level-1 bound)."""
    import highspy

    from .relaxation import _highs  # only for a HiGHS instance without the banner on stdout

    h = _highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.0)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, len(rows)
    lp.col_cost_ = -w.astype(float)
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
    lp.row_lower_ = np.full(len(rows), -highspy.kHighsInf)
    lp.row_upper_ = np.array([float(r) for _, _, r in rows])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.r_[0, np.cumsum([len(i) for i, _, _ in rows])].astype(np.int64)
    lp.a_matrix_.index_ = np.concatenate([np.asarray(i, dtype=np.int64) for i, _, _ in rows]) if rows else \
        np.zeros(0, np.int64)
    lp.a_matrix_.value_ = np.concatenate([np.asarray(c, dtype=float) for _, c, _ in rows]) if rows else np.zeros(0)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    h.passModel(lp)

    def run() -> tuple[bool, np.ndarray | None]:
        set_time_left(h, max(deadline - time.perf_counter(), 0.1))
        h.run()
        st = h.getModelStatus()
        if h.getInfo().primal_solution_status != 2:  # no feasible solution
            return False, None
        return st == highspy.HighsModelStatus.kOptimal, np.rint(h.getSolution().col_value).astype(np.int64)

    ok1, x1 = run()
    if x1 is None:
        return False, None, int(w.sum())
    p1 = int(w @ x1)
    b1 = p1 if ok1 else max(p1, int(np.floor(-h.getInfo().mip_dual_bound + 1e-6)))
    h.addRow(float(p1), highspy.kHighsInf, n, np.arange(n, dtype=np.int32), w.astype(float))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), u.astype(float))
    # No MIP start here: with one set after the objective changed, HiGHS 1.16 reported a worse
    # level 2 as optimal (seen on size S); without it, level 2 matches SCIP.
    ok2, x2 = run()
    best = x2 if x2 is not None and int(w @ x2) >= p1 else x1
    return ok1 and ok2, best, b1


def _milp_ortools(n, rows, w, u, deadline, engine):
    """The same through OR-Tools' linear solver wrapper (SCIP, or the HiGHS shipped with OR-Tools)."""
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver(engine.upper())
    if solver is None:
        raise RuntimeError(f"MILP engine {engine!r} is not available in this OR-Tools build")
    solver.SuppressOutput()
    x = [solver.BoolVar(f"x{k}") for k in range(n)]
    for idx, coeffs, rhs in rows:
        solver.Add(sum(int(c) * x[k] for k, c in zip(idx, coeffs)) <= rhs)

    def run() -> tuple[int, np.ndarray | None, float]:
        solver.SetTimeLimit(int(max(deadline - time.perf_counter(), 0.1) * 1000))
        params = pywraplp.MPSolverParameters()
        params.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, 0.0)
        status = solver.Solve(params)
        if status in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
            return status, np.array([round(v.solution_value()) for v in x], dtype=np.int64), solver.Objective().BestBound()
        return status, None, float("nan")

    solver.Maximize(sum(int(w[k]) * x[k] for k in range(n)))
    st1, x1, bound1 = run()
    if x1 is None:
        return False, None, int(w.sum())
    p1 = int(w @ x1)
    b1 = p1 if st1 == pywraplp.Solver.OPTIMAL else max(p1, int(np.floor(bound1 + 1e-6)))
    solver.Add(sum(int(w[k]) * x[k] for k in range(n)) >= p1)
    solver.Minimize(sum(int(u[k]) * x[k] for k in range(n)))
    st2, x2, _ = run()
    best = x2 if x2 is not None and int(w @ x2) >= p1 else x1
    return st1 == pywraplp.Solver.OPTIMAL and st2 == pywraplp.Solver.OPTIMAL, best, b1


def exact_reference(problem: Problem, *, time_limit_s: float = 60.0, engine: str = "highs") -> Reference:
    """Optimal levels 1 and 2 of the whole problem (every feasible pair) by a MILP engine.

    Requests that share no provider are independent: each part is its own MILP (smallest first,
    each with the time left), which changes no optimum and saves the engine the search across them.
    """
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    cs = build_candidates(problem, prune=False, max_per_request=None)
    amo, cap_rows = _rows(problem, cs)
    n = len(cs.ri)
    w = cs.rt.priority[cs.ri]
    u = cs.units
    rows: list[tuple[list[int], list[int], int]] = []
    first = np.r_[0, np.flatnonzero(np.diff(cs.ri)) + 1, n]
    for a, b in zip(first[:-1].tolist(), first[1:].tolist()):
        if b - a > 1:
            rows.append((list(range(a, b)), [1] * (b - a), 1))
    rows += [(list(g), [1] * len(g), 1) for g in amo] + [(list(i), list(c), int(r)) for i, c, r in cap_rows]
    label = _parts(cs) if n else np.zeros(0, np.int64)
    by_part: dict[int, list] = {}
    for row in rows:
        by_part.setdefault(int(label[row[0][0]]), []).append(row)
    best = np.zeros(n, dtype=np.int64)
    bound, proven = 0, True
    for lab in sorted(set(label.tolist()), key=lambda v: int((label == v).sum())):
        ks = np.flatnonzero(label == lab)
        local = np.full(n, -1, dtype=np.int64)
        local[ks] = np.arange(len(ks))
        part_rows = [(local[np.asarray(i)].tolist(), c, r) for i, c, r in by_part.get(lab, [])]
        if engine == "highs":
            ok, x, b1 = _milp_highs(len(ks), part_rows, w[ks], u[ks], deadline)
        else:
            ok, x, b1 = _milp_ortools(len(ks), part_rows, w[ks], u[ks], deadline, engine.removesuffix("-ortools"))
        proven &= ok
        bound += b1
        if x is not None:
            best[ks] = x
    sel = np.flatnonzero(best)
    assignments = {cs.rt.ids[int(cs.ri[k])]: cs.pt.ids[int(cs.pi[k])] for k in sel}
    return Reference("optimal" if proven else "feasible", len(sel), int(w @ best), max(bound, int(w @ best)),
                     int(u @ best), float(cs.km[sel].sum()), time.perf_counter() - t0, assignments)
