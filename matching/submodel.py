"""A packing part's rows over its own pair indices, and CP-SAT sub-models over some of its pairs.

`PartIndex` holds one part's pairs (grouped by request) with its capacity and caregiver rows and
their transpose; `build_sub` writes the CP-SAT model of a few pairs with every other pair kept as
it is (their children counted against the rows' room), and `run_sub` solves it. The LP relaxation
(`relaxation.py`), the starts (`starts.py`) and the neighbourhoods (`lns.py`) share them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from .candidates import CandidateSet


# ---------------------------------------------------------------------------------------------
# The part's rows over local pair indices


class PartIndex:
    """One part's pairs (local 0..n-1, grouped by request) and its rows: capacity sums, caregivers'
    at-most-one rows; with the transpose (rows of each pair) for building sub-models."""

    def __init__(self, cs: CandidateSet, pairs: np.ndarray, rows):
        self.cs, self.pairs, self.n = cs, pairs, len(pairs)
        self.req = cs.ri[pairs]
        self.prov = cs.pi[pairs]
        self.w = cs.rt.priority[self.req].astype(np.int64)
        self.u = cs.units[pairs].astype(np.int64)
        self.pstart = cs.rt.start[self.req]
        self.pend = cs.rt.end[self.req]
        self.first = np.r_[0, np.flatnonzero(np.diff(self.req)) + 1] if self.n else np.zeros(0, np.int64)
        self.group_of = np.repeat(np.arange(len(self.first)), np.diff(np.r_[self.first, self.n]))
        idx: list[np.ndarray] = []
        coef: list[np.ndarray] = []
        rhs: list[int] = []
        for g, c, ub in rows.linear:  # `constraint_rows` indexes pairs by their position in `pairs`
            idx.append(np.asarray(g, dtype=np.int64))
            coef.append(np.asarray(c, dtype=np.int64))
            rhs.append(int(ub))
        for g in rows.at_most_one:
            idx.append(np.asarray(g, dtype=np.int64))
            coef.append(np.ones(len(g), dtype=np.int64))
            rhs.append(1)
        lens = np.fromiter((len(a) for a in idx), np.int64, len(idx))
        self.row_start = np.r_[0, np.cumsum(lens)].astype(np.int64)
        self.row_idx = np.concatenate(idx) if idx else np.zeros(0, np.int64)
        self.row_coef = np.concatenate(coef) if coef else np.zeros(0, np.int64)
        self.row_rhs = np.asarray(rhs, dtype=np.int64)
        self.entry_row = np.repeat(np.arange(len(rhs)), lens)
        order = np.argsort(self.row_idx, kind="stable")
        self.pr_rows = self.entry_row[order]
        self.pr_start = np.searchsorted(self.row_idx[order], np.arange(self.n + 1))
        # providers: local pairs of each, nearest first per request already
        porder = np.argsort(self.prov, kind="stable")
        self.prov_ids, pfirst = np.unique(self.prov[porder], return_index=True)
        self.prov_pairs = dict(zip(self.prov_ids.tolist(), np.split(porder, pfirst[1:])))
        # the largest distance any plan of a request can add, for the separating weight
        self.umax = np.maximum.reduceat(self.u, self.first) if self.n else np.zeros(0, np.int64)

    def weight(self, x: np.ndarray) -> int:
        return int(self.w @ x)

    def units(self, x: np.ndarray) -> int:
        return int(self.u @ x)


# ---------------------------------------------------------------------------------------------
# Sub-models: some pairs free, every other pair kept as it is


@dataclass
class SubModel:
    model: cp_model.CpModel
    free: np.ndarray  # local pair indices of the variables, in order
    cost: np.ndarray  # objective coefficient per variable: -W*weight + km units
    km_span: int  # the most km units the free pairs can add; W > 2 * km_span


_BOOL_VAR = "variables { domain: [0, 1] }\n"


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated aranges starts[i] .. starts[i] + counts[i]."""
    total = int(counts.sum())
    return np.repeat(starts - np.r_[0, np.cumsum(counts)[:-1]], counts) + np.arange(total)


def build_sub(ix: PartIndex, free: np.ndarray, x: np.ndarray) -> SubModel | None:
    """CP-SAT model over the `free` pairs with every other pair fixed at `x`.

    A free pair's request must have all its chosen pairs among the free ones (true for the callers:
    whole requests are freed together with the providers they may use). Rows lose the room the kept
    pairs take; rows that cannot bind any more are left out.
    """
    free = np.unique(free)
    if len(free) == 0:
        return None
    m = cp_model.CpModel()
    proto = m.proto
    nf = len(free)
    proto.merge_text_format(_BOOL_VAR * nf)  # one parse instead of nf calls from Python
    loc = np.full(ix.n, -1, dtype=np.int64)
    loc[free] = np.arange(nf)
    g = ix.group_of[free]
    cuts = np.flatnonzero(np.diff(g)) + 1
    heads = np.r_[0, cuts]
    sizes = np.diff(np.r_[heads, nf])
    for h0, sz in zip(heads.tolist(), sizes.tolist()):
        if sz > 1:
            proto.constraints.add().at_most_one.literals.extend(range(h0, h0 + sz))
    # W above twice any km total: a search may stop once the weight is proven (gap < km_span) and
    # still never trade a placement for km.
    km_span = int(np.maximum.reduceat(ix.u[free], heads).sum())
    W = 2 * km_span + 1
    # Rows touching a free pair, all at once: room left by the kept pairs, then only rows that can bind.
    cnt = ix.pr_start[free + 1] - ix.pr_start[free]
    if cnt.sum():
        rows = np.unique(ix.pr_rows[_ranges(ix.pr_start[free], cnt)])
        rlen = ix.row_start[rows + 1] - ix.row_start[rows]
        ent = _ranges(ix.row_start[rows], rlen)
        members, coef = ix.row_idx[ent], ix.row_coef[ent]
        owner = np.repeat(np.arange(len(rows)), rlen)
        li = loc[members]
        inside = li >= 0
        kept = np.bincount(owner, weights=coef * x[members] * ~inside, minlength=len(rows))
        room = ix.row_rhs[rows] - np.rint(kept).astype(np.int64)
        free_sum = np.bincount(owner, weights=coef * inside, minlength=len(rows))
        bind = free_sum > room
        sel = inside & bind[owner]
        o2 = owner[sel]
        li_l, coef_l = li[sel].tolist(), coef[sel].tolist()
        edges = np.searchsorted(o2, np.flatnonzero(bind)).tolist() + [len(o2)]
        ones = np.bincount(o2, weights=(coef[sel] != 1), minlength=len(rows)) == 0
        for k, r in enumerate(np.flatnonzero(bind).tolist()):
            lo, hi = edges[k], edges[k + 1]
            rr = max(int(room[r]), 0)
            if rr == 1 and ones[r]:
                proto.constraints.add().at_most_one.literals.extend(li_l[lo:hi])
                continue
            ct = proto.constraints.add().linear
            ct.vars.extend(li_l[lo:hi])
            ct.coeffs.extend(coef_l[lo:hi])
            ct.domain.extend([0, rr])
    cost = -ix.w[free] * W + ix.u[free]
    proto.objective.vars.extend(range(nf))
    proto.objective.coeffs.extend(cost.tolist())
    proto.solution_hint.vars.extend(range(nf))
    proto.solution_hint.values.extend(x[free].tolist())
    return SubModel(m, free, cost, km_span)


class _FirstMoreWeight(cp_model.CpSolverSolutionCallback):
    """Stops the search at the first plan placing more weight than the hint (objective below `below`:
    one more weight unit is worth W > 2 * km_span): that is what the neighbourhood was built for."""

    def __init__(self, below: int):
        super().__init__()
        self.below = below

    def on_solution_callback(self) -> None:
        if self.objective_value < self.below:
            self.stop_search()


def run_sub(sub: SubModel, x0: np.ndarray, seconds: float, workers: int = 1, deterministic: bool = False,
            params: dict | None = None, det_cap: float | None = None, first_better: bool = True):
    """(values of sub.free if better than `x0` there, else None; proven optimal; wall s; deterministic s)."""
    solver = cp_model.CpSolver()
    if deterministic:
        solver.parameters.max_deterministic_time = max(seconds, 0.001)
        solver.parameters.num_workers = 1
    else:
        solver.parameters.max_time_in_seconds = max(seconds, 0.001)
        solver.parameters.num_workers = workers
        if det_cap:  # the same work per neighbourhood whatever the machine's load
            solver.parameters.max_deterministic_time = det_cap
    solver.parameters.linearization_level = 2  # the full LP relaxation: what proves these packings
    solver.parameters.absolute_gap_limit = float(sub.km_span)  # no better weight possible: enough
    for k, v in (params or {}).items():
        if isinstance(v, list):
            getattr(solver.parameters, k).extend(v)
        else:
            setattr(solver.parameters, k, v)
    t = time.perf_counter()
    status = solver.solve(sub.model, _FirstMoreWeight(int(sub.cost @ x0) - sub.km_span) if first_better else None)
    wall = time.perf_counter() - t
    det = float(solver.response_proto.deterministic_time)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False, wall, det
    y = np.asarray(list(solver.response_proto.solution), dtype=np.int64)[: len(sub.free)]
    better = int(sub.cost @ y) < int(sub.cost @ x0)
    return (y if better else None), status == cp_model.OPTIMAL, wall, det
