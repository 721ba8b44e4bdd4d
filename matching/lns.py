"""Packing parts under contention: the LP relaxation, neighbourhoods on its support, then LNS.

On a surge day (calls outnumbering places, facilities packing children in time) one part can hold
thousands of candidate pairs; CP-SAT on the whole part spends a 1 s limit in presolve and in its
first LP before it searches, and its own LNS copies the whole model for every neighbourhood. What
works inside the limit instead, measured on `surge.py` instances against HiGHS's proven optimum
(docs/matching.md), all parts that `cpsat.solve_pairs` sends here being solved as one:

1. The LP relaxation, by HiGHS's dual simplex on the model's own rows, by column generation on
   large parts (each request's nearest pairs first, then every pair the prices make worth having).
   `cpsat.solve_pairs` starts it on a second thread (HiGHS releases the GIL) before it builds the
   greedy starts, and one thread of LNS works from the start until it is back. On these instances
   it is within about half a percent of the integer optimum. Its prices give proven bounds: on the
   placed weight, and on the km of any plan placing as much (weak duality, evaluated here over
   every pair, so neither solver tolerance nor column generation stopped early can make them wrong).
2. When the LP is nearly integral (everyone fits): its own plan, the split requests decided by
   CP-SAT. Then neighbourhoods using only the LP's support: pairs it uses, or would use at a cost
   under LP_SUPPORT_UNITS of km (a fifth of the pairs, so a neighbourhood reaches five times as many
   providers).
3. Then neighbourhoods on every pair until the time is spent. A neighbourhood grows breadth first
   from an unplaced request (those the LP places more often) through the providers that could take
   it and the requests planned there, half of them cut to a time slice around its window; every
   other assignment is kept (its children count against the rows' room) and a small CP-SAT model
   re-decides the neighbourhood, stopping at its first plan placing more. Two threads work on
   disjoint neighbourhoods (CP-SAT releases the GIL), each with a deterministic work limit, so a
   loaded machine runs fewer neighbourhoods rather than worse ones.

Every step accepts only a plan that is better in (placed weight, km), so the result is never
below the start, which `cpsat.solve_pairs` makes the better of the greedy baselines and the hint.
In reproducible mode everything runs on one thread with deterministic limits.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from .candidates import CandidateSet

SUB_LIMIT_S = 0.03  # one neighbourhood's CP-SAT time
SUB_PAIRS = 300  # a neighbourhood's size to start with (pairs); adapted as the search goes
SUB_PAIRS_RANGE = (60, 1500)
LP_SUPPORT_UNITS = 500  # pairs the LP leaves out but would take at a cost of under 5 km: alternatives
LP_SHARE = 0.9  # of the part's time at most for the LP (one thread of LNS works meanwhile)
LP_MAX_COLS = 3000  # larger parts solve the LP by column generation from each request's nearest pairs
LP_MIN_PER_REQUEST = 6
RESTRICTED_SHARE = 0.45  # of the part's time, for neighbourhoods on the LP's support only
ROUNDING_SHARE = 0.1  # of the part's time, to complete the LP's integral pairs into a plan
ROUNDING_MAX_SPLIT = 0.05  # ... when the LP splits at most this share of the requests
KM_GAP_ENOUGH = 0.001  # weight proven and km within this of its bound: the time goes to other parts
KM_LP_SHARE = 0.12  # of the part's time, kept at the end for the LP bound on km
LP_MASS_FLOOR = 0.1  # seed weight of a request the LP leaves out, against 1 for one it places
SPAN_SHARE = 0.5  # of neighbourhoods cut to a time slice around the seed's window
SPAN_MARGIN_MIN = 60
IDLE_STOP = 150  # neighbourhoods in a row without a better plan: stop early


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
# The LP relaxation


@dataclass
class Relaxation:
    """The LP's solution and two certified values of its prices y (weak duality, any y >= 0 will do):
    every plan has w.x <= weight_dual and w.x - eps*u.x <= mixed_dual."""

    values: np.ndarray
    reduced: np.ndarray
    weight_dual: float
    mixed_dual: float
    eps: float
    km_span: int  # the most km units any plan of the part can have
    wall_s: float
    lp: tuple | None = None  # the HiGHS model and its rows, for the km bound afterwards

    def weight_bound(self) -> int:
        """No plan places more weight (u.x <= km_span and eps*km_span < 1/2 bound it through mixed_dual)."""
        mixed = self.mixed_dual + self.eps * self.km_span
        return int(math.floor(min(self.weight_dual, mixed) + 1e-7))

    def units_bound(self, weight: int) -> int:
        """No plan placing `weight` or more has fewer km units (0 when the LP allows more weight)."""
        # the float sum behind mixed_dual is good to ~1e-12 of its size; /eps magnifies that
        slack = 1.0 + 1e-9 * (1.0 + abs(self.mixed_dual)) / self.eps
        return max(0, int(math.ceil((weight - self.mixed_dual) / self.eps - slack)))


def _lp_matrix(ix: PartIndex):
    """Rows of the LP: one at-most-one per request with two pairs or more, then the part's rows."""
    g_len = np.diff(np.r_[ix.first, ix.n])
    multi = np.flatnonzero(g_len > 1)
    req_idx = np.concatenate([np.arange(ix.first[g], ix.first[g] + g_len[g]) for g in multi]) if len(multi) else \
        np.zeros(0, np.int64)
    start = np.r_[0, np.cumsum(g_len[multi]), len(req_idx) + ix.row_start[1:]].astype(np.int64)
    index = np.r_[req_idx, ix.row_idx].astype(np.int64)
    value = np.r_[np.ones(len(req_idx)), ix.row_coef.astype(float)]
    rhs = np.r_[np.ones(len(multi)), ix.row_rhs.astype(float)]
    return start, index, value, rhs


def lagrangian_bound(ix: PartIndex, start, index, value, rhs, y: np.ndarray, profit: np.ndarray) -> float:
    """max profit.x over 0 <= x <= 1 with the rows relaxed at prices y >= 0 (weak duality)."""
    y = np.maximum(y, 0.0)
    rows = np.repeat(np.arange(len(rhs)), np.diff(start))
    price = np.bincount(index, weights=value * y[rows], minlength=ix.n)
    return float(y @ rhs + np.maximum(profit - price, 0.0).sum())


_banner = threading.Lock()
_banner_shown = [False]


def _highs():
    """A HiGHS instance. The first one in a process prints HiGHS's banner from C++ to file descriptor 1
    (before any option can be set): that one is made with descriptor 1 pointed at /dev/null."""
    import highspy

    with _banner:
        if _banner_shown[0]:
            return highspy.Highs()
        sys.stdout.flush()
        saved = os.dup(1)
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)
        _banner_shown[0] = True
        return h


def relaxation(ix: PartIndex, time_limit_s: float, x: np.ndarray | None = None) -> Relaxation | None:
    """The LP relaxation of levels 1-2 (weight, then km by a small epsilon), or None if not solved.

    Parts with more than LP_MAX_COLS pairs go by column generation: each request's nearest pairs
    (and the start's) first, then every pair whose reduced cost the prices make negative, until none
    is left: on a surge of 2,000 calls the LP ends with a fifth of the 60,000 pairs, in half the
    time. Stopped early it still gives proven bounds (prices are evaluated over every pair)."""
    import highspy

    t0 = time.perf_counter()
    if ix.n == 0 or time_limit_s <= 0.005:
        return None
    deadline = t0 + time_limit_s
    full = _lp_matrix(ix)
    fs, fi, fv, frhs = full
    rows_of = np.repeat(np.arange(len(frhs)), np.diff(fs))
    # Weight first, km as a tie-break small enough that all the km of a plan is worth under half a unit.
    eps = 0.5 / (float(ix.umax.sum()) + 1.0)
    cost = -ix.w.astype(float) + eps * ix.u.astype(float)
    h = _highs()
    h.setOptionValue("output_flag", False)
    if ix.n <= LP_MAX_COLS:
        cols = np.arange(ix.n)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = ix.n, len(frhs)
        lp.col_cost_ = cost
        lp.col_lower_, lp.col_upper_ = np.zeros(ix.n), np.ones(ix.n)
        lp.row_lower_ = np.full(len(frhs), -highspy.kHighsInf)
        lp.row_upper_ = frhs
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = fs, fi, fv
        h.passModel(lp)
    else:
        order = np.argsort(fi, kind="stable")
        col_start = np.searchsorted(fi[order], np.arange(ix.n + 1))
        col_rows, col_vals = rows_of[order].astype(np.int32), fv[order]
        h.addRows(len(frhs), np.full(len(frhs), -highspy.kHighsInf), frhs, 0, np.zeros(1, np.int32),
                  np.zeros(0, np.int32), np.zeros(0))
        rank = np.arange(ix.n) - ix.first[ix.group_of]  # pairs are nearest first within a request
        first_cols = rank < LP_MIN_PER_REQUEST
        if x is not None:
            first_cols |= x == 1
        cols = np.zeros(0, dtype=np.int64)

        def add(new: np.ndarray) -> None:
            nonlocal cols
            cnt = col_start[new + 1] - col_start[new]
            ent = _ranges(col_start[new], cnt)
            h.addCols(len(new), cost[new], np.zeros(len(new)), np.ones(len(new)), len(ent),
                      np.r_[0, np.cumsum(cnt)[:-1]].astype(np.int32), col_rows[ent], col_vals[ent])
            cols = np.r_[cols, new]

        add(np.flatnonzero(first_cols))
    last = None
    while True:
        h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 0.001))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        sol = h.getSolution()
        y = np.maximum(-np.asarray(sol.row_dual, dtype=float), 0.0)  # a <= row's dual is <= 0 when minimizing
        reduced = cost + np.bincount(fi, weights=fv * y[rows_of], minlength=ix.n)
        last = (cols.copy(), np.asarray(sol.col_value, dtype=float), y, reduced)
        if len(cols) == ix.n:
            break
        inside = np.zeros(ix.n, dtype=bool)
        inside[cols] = True
        wanted = np.flatnonzero(~inside & (reduced < -1e-9))
        if not len(wanted) or time.perf_counter() >= deadline:
            break
        add(wanted)
    if last is None:
        return None
    cols, vals, y, reduced = last
    v = np.zeros(ix.n)
    v[cols] = vals
    profit = ix.w.astype(float)
    lw = lagrangian_bound(ix, fs, fi, fv, frhs, y, profit)
    lk = lagrangian_bound(ix, fs, fi, fv, frhs, y, profit - eps * ix.u.astype(float))
    lp_model = (h, cols, full) if len(cols) == h.getNumCol() else None
    return Relaxation(values=v, reduced=reduced, weight_dual=lw, mixed_dual=lk, eps=eps,
                      km_span=int(ix.umax.sum()), wall_s=time.perf_counter() - t0, lp=lp_model)


def km_bound(ix: PartIndex, relax: Relaxation, weight: int, time_limit_s: float) -> int:
    """Fewest km units of any plan placing `weight` or more: the LP min u.x, w.x >= weight, from the
    first LP's basis, certified over every pair by its prices (y >= 0 on the rows, m >= 0 on the
    weight row): u.x >= -y.b + m*weight + sum_j min(0, u_j + (A'y)_j - m*w_j). 0 if not solved in time."""
    import highspy

    if relax.lp is None or time_limit_s <= 0.005:
        return 0
    h, cols, (start, index, value, rhs) = relax.lp
    relax.lp = None  # the model changes: it serves once
    h.setOptionValue("time_limit", float(time_limit_s))
    nc = len(cols)
    h.addRow(float(weight), highspy.kHighsInf, nc, np.arange(nc, dtype=np.int32), ix.w[cols].astype(float))
    h.changeColsCost(nc, np.arange(nc, dtype=np.int32), ix.u[cols].astype(float))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return 0
    dual = np.asarray(h.getSolution().row_dual, dtype=float)
    y, m = np.maximum(-dual[:-1], 0.0), max(float(dual[-1]), 0.0)
    rows = np.repeat(np.arange(len(rhs)), np.diff(start))
    price = np.bincount(index, weights=value * y[rows], minlength=ix.n)
    reduced = ix.u.astype(float) + price - m * ix.w.astype(float)
    value_ = -float(y @ rhs) + m * weight + float(np.minimum(reduced, 0.0).sum())
    return max(0, int(math.ceil(value_ - 1e-6 * (1.0 + abs(value_)))))


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
            params: dict | None = None, det_cap: float | None = None):
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
    status = solver.solve(sub.model, _FirstMoreWeight(int(sub.cost @ x0) - sub.km_span))
    wall = time.perf_counter() - t
    det = float(solver.response_proto.deterministic_time)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False, wall, det
    y = np.asarray(list(solver.response_proto.solution), dtype=np.int64)[: len(sub.free)]
    better = int(sub.cost @ y) < int(sub.cost @ x0)
    return (y if better else None), status == cp_model.OPTIMAL, wall, det


# ---------------------------------------------------------------------------------------------
# LNS


@dataclass
class _Job:
    seed: int  # the request group the neighbourhood grew from
    provs: list[int]
    groups: np.ndarray  # request groups freed
    before: np.ndarray  # their chosen pair when the sub-model was built (-1 = unplaced)
    sub: SubModel
    x0: np.ndarray  # values of sub.free when built


class Search:
    """Neighbourhoods around unplaced requests, solved one at a time per thread; see the module doc."""

    def __init__(self, ix: PartIndex, x: np.ndarray, seed: int = 0, allowed: np.ndarray | None = None):
        self.ix, self.x = ix, x.copy()
        self.allow(allowed)
        self.lock = threading.Lock()
        self.rng = np.random.default_rng(seed)
        ng = len(ix.first)
        self.cur = np.full(ng, -1, dtype=np.int64)
        sel = np.flatnonzero(self.x)
        self.cur[ix.group_of[sel]] = sel
        self.at: dict[int, set[int]] = {int(p): set() for p in ix.prov_ids.tolist()}
        for k in sel.tolist():
            self.at[int(ix.prov[k])].add(int(ix.group_of[k]))
        ends = np.r_[ix.first[1:], ix.n]
        self.gstart_a, self.gend_a = ix.pstart[ix.first], ix.pend[ix.first]
        self.gstart, self.gend = self.gstart_a.tolist(), self.gend_a.tolist()
        self.gprovs = [ix.prov[a:b].tolist() for a, b in zip(ix.first.tolist(), ends.tolist())]
        self.fails = np.zeros(ng)
        self.lp_mass = np.ones(ng)
        self.busy: set[int] = set()
        self.size = float(SUB_PAIRS)
        self.stats = {"hoods": 0, "better": 0, "proven": 0}

    def allow(self, allowed: np.ndarray | None) -> None:
        """Let neighbourhoods use only these pairs (besides the chosen ones); None: every pair."""
        ix = self.ix
        self.allowed = allowed
        keep = np.ones(ix.n, dtype=bool) if allowed is None else allowed
        self.pair_count = {p: int(keep[k].sum()) for p, k in ix.prov_pairs.items()}

    def _hood(self, g0: int, span: tuple[int, int] | None) -> list[int]:
        """Providers breadth first from request g0: its providers, the requests planned there, theirs...
        With `span`, only pairs and requests whose window meets it count."""
        ix = self.ix
        provs: list[int] = []
        pset: set[int] = set()
        seen = {g0}
        frontier = [g0]
        total = 0
        gs, ge = self.gstart, self.gend
        while frontier and total < self.size:
            nxt: list[int] = []
            for g in frontier:
                for p in self.gprovs[g]:  # nearest first
                    if p in pset or p in self.busy:
                        continue
                    pset.add(p)
                    provs.append(p)
                    if span is None:
                        total += self.pair_count[p]
                    else:
                        k = ix.prov_pairs[p]
                        total += int(((ix.pstart[k] < span[1]) & (span[0] < ix.pend[k])).sum())
                    for q in self.at[p]:
                        if q not in seen and (span is None or (gs[q] < span[1] and span[0] < ge[q])):
                            seen.add(q)
                            nxt.append(q)
                    if total >= self.size:
                        break
                if total >= self.size:
                    break
            self.rng.shuffle(nxt)
            frontier = nxt
        return provs

    def weight(self) -> int:
        return self.ix.weight(self.x)

    def steer(self, values: np.ndarray) -> None:
        """Take the LP's solution into account: requests it places are seeded more often, and a
        neighbourhood grows first through the providers it uses."""
        ix = self.ix
        self.lp_mass = np.add.reduceat(values, ix.first)
        ends = np.r_[ix.first[1:], ix.n]
        self.gprovs = [ix.prov[a:b][np.argsort(-values[a:b], kind="stable")].tolist()
                       for a, b in zip(ix.first.tolist(), ends.tolist())]

    def _seed(self) -> int | None:
        ix = self.ix
        open_ = np.flatnonzero(self.cur < 0)
        if len(open_) and self.rng.random() < 0.9:
            # Requests the LP places are the ones a better plan is likely to place too.
            p = ix.w[ix.first[open_]] * (self.lp_mass[open_] + LP_MASS_FLOOR) / (1.0 + self.fails[open_]) ** 2
            return int(open_[self.rng.choice(len(open_), p=p / p.sum())])
        placed = np.flatnonzero(self.cur >= 0)  # km: around a placed request
        if not len(placed):
            return None
        return int(placed[self.rng.integers(len(placed))])

    def pick(self) -> _Job | None:
        """A neighbourhood disjoint from the ones being solved, as a sub-model (call under the lock)."""
        ix = self.ix
        g0 = self._seed()
        if g0 is None:
            return None
        span = None
        if self.rng.random() < SPAN_SHARE:  # a time slice around the seed's window: wider in space
            span = (int(self.gstart[g0]) - SPAN_MARGIN_MIN, int(self.gend[g0]) + SPAN_MARGIN_MIN)
        provs = self._hood(g0, span)
        if not provs:
            return None
        pmask = np.zeros(int(ix.prov_ids.max()) + 1, dtype=bool)
        pmask[provs] = True
        cand = np.concatenate([ix.prov_pairs[p] for p in provs])
        groups = np.unique(ix.group_of[cand])
        cur = self.cur[groups]
        ok = (cur < 0) | pmask[ix.prov[np.maximum(cur, 0)]]
        if span is not None:
            ok &= (self.gstart_a[groups] < span[1]) & (span[0] < self.gend_a[groups])
        groups = groups[ok]
        fg = np.zeros(len(ix.first), dtype=bool)
        fg[groups] = True
        use = fg[ix.group_of[cand]]
        if self.allowed is not None:
            use &= self.allowed[cand] | (self.x[cand] == 1)
        sub = build_sub(ix, cand[use], self.x)
        if sub is None:
            return None
        self.busy.update(provs)
        return _Job(g0, provs, groups, self.cur[groups].copy(), sub, self.x[sub.free].copy())

    def commit(self, job: _Job, y: np.ndarray | None, proven: bool, spent: float, limit: float) -> None:
        """Apply an improvement if its requests did not move meanwhile (call under the lock)."""
        ix = self.ix
        self.busy.difference_update(job.provs)
        self.stats["hoods"] += 1
        self.stats["proven"] += proven
        ok = y is not None and np.array_equal(self.cur[job.groups], job.before)
        if ok:
            free = job.sub.free
            for k in free[job.x0 == 1].tolist():
                self.at[int(ix.prov[k])].discard(int(ix.group_of[k]))
                self.cur[ix.group_of[k]] = -1
            self.x[free] = y
            for k in free[y == 1].tolist():
                self.at[int(ix.prov[k])].add(int(ix.group_of[k]))
                self.cur[ix.group_of[k]] = k
            self.fails[job.seed] = 0
            self.stats["better"] += 1
        else:
            self.fails[job.seed] += 1
        # Neighbourhoods that are solved to the end with time to spare may grow; those cut short shrink.
        if proven and spent < 0.5 * limit:
            self.size = min(self.size * 1.1, SUB_PAIRS_RANGE[1])
        elif not proven:
            self.size = max(self.size * 0.9, SUB_PAIRS_RANGE[0])

    def reset(self, x: np.ndarray) -> None:
        """Start over from plan x (call under the lock, with no neighbourhood out)."""
        ix = self.ix
        self.x = x.copy()
        self.cur[:] = -1
        sel = np.flatnonzero(self.x)
        self.cur[ix.group_of[sel]] = sel
        for p in self.at:
            self.at[p].clear()
        for k in sel.tolist():
            self.at[int(ix.prov[k])].add(int(ix.group_of[k]))

    def run(self, budget, workers: int, min_left: float = 0.004, stop=None) -> None:
        """LNS until the budget is spent (or `stop()`); `workers` threads (one in deterministic mode)."""
        det = budget.deterministic

        def loop() -> None:
            idle = 0
            while budget.left() > min_left and idle < IDLE_STOP and not (stop and stop()):
                with self.lock:
                    job = self.pick()
                    alone = not self.busy
                if job is None:  # nothing to do, or every provider near the seed is another thread's
                    idle += 1 if alone else 0
                    if not alone:
                        time.sleep(0.001)
                    continue
                limit = min(SUB_LIMIT_S, budget.left())
                y, proven, wall, d = run_sub(job.sub, job.x0, limit if det else budget.left(), 1, det,
                                             det_cap=None if det else SUB_LIMIT_S)
                with self.lock:
                    budget.used += d
                    self.commit(job, y, proven, d, SUB_LIMIT_S)
                idle = 0 if y is not None else idle + 1

        n = 1 if det else max(1, workers)
        if n == 1:
            loop()
            return
        threads = [threading.Thread(target=loop, daemon=True) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


# ---------------------------------------------------------------------------------------------
# One part


def _better(ix: PartIndex, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
    """The better of two plans of the part: more weight, then fewer km."""
    if y is None:
        return x
    return y if (ix.weight(y), -ix.units(y)) > (ix.weight(x), -ix.units(x)) else x


def _rounded(ix: PartIndex, relax: Relaxation, budget, seconds: float) -> np.ndarray | None:
    """The LP's integral pairs kept, the requests it splits decided by CP-SAT: on parts where
    everyone can be placed the LP is nearly integral and this is a near-optimal plan at once."""
    whole = relax.values > 1 - 1e-6
    split = np.ones(len(ix.first), dtype=bool)
    split[ix.group_of[whole]] = False
    y = whole.astype(np.int64)
    free = np.flatnonzero(split[ix.group_of])
    if not len(free):
        return y
    sub = build_sub(ix, free, y)
    if sub is None or seconds <= 0.002:
        return None
    z, _, _, det = run_sub(sub, y[free], seconds, 1, budget.deterministic)
    budget.used += det
    if z is not None:
        y[sub.free] = z
    return y


class _Until:
    """The first `seconds` of a budget (wall, or deterministic in reproducible mode)."""

    def __init__(self, budget, seconds: float):
        self.budget, self.deterministic = budget, budget.deterministic
        self.stop = budget.left() - seconds

    @property
    def used(self) -> float:
        return self.budget.used

    @used.setter
    def used(self, value: float) -> None:
        self.budget.used = value

    def left(self) -> float:
        return max(self.budget.left() - self.stop, 0.0)


@dataclass
class LnsResult:
    x: np.ndarray
    weight: int
    weight_bound: int
    units: int
    units_bound: int
    solve_s: float
    stats: dict


class Prefetch:
    """A part's LP solved on another thread (HiGHS releases the GIL) while the caller builds the
    start; `cpsat.solve_pairs` starts one for every part that may go to `solve_part`."""

    def __init__(self, ix: PartIndex, time_limit_s: float):
        self.ix, self.result = ix, None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(time_limit_s,), daemon=True)
        self.thread.start()

    def _run(self, time_limit_s: float) -> None:
        try:
            self.result = relaxation(self.ix, time_limit_s)
        finally:
            self.done.set()

    def get(self, timeout: float | None) -> Relaxation | None:
        self.done.wait(timeout)
        return self.result if self.done.is_set() else None


def solve_part(cs: CandidateSet, pairs: np.ndarray, rows, start: np.ndarray, budget, workers: int = 2,
               seed: int = 0, lp: Prefetch | None = None) -> LnsResult:
    """The best plan of one part found within the budget, with proven bounds (see the module doc).

    `lp`: the part's LP already under way. Until it comes back one thread of LNS works from the
    start (the LP has the other core); then the LP's values steer the LNS's choice of requests, its
    support gets the first neighbourhoods and its prices give the bounds.
    """
    t0 = time.perf_counter()
    ix = lp.ix if lp is not None else PartIndex(cs, pairs, rows)
    x = np.asarray(start, dtype=np.int64).copy()
    stats: dict = {}
    total = budget.left()
    trivial = int(ix.w[ix.first].sum()) if ix.n else 0
    search = Search(ix, x, seed)
    if lp is None:
        lp = Prefetch(ix, total * LP_SHARE if not budget.deterministic else 60.0)
    if budget.deterministic:
        relax = lp.get(None)
    else:
        if workers > 1 and not lp.done.is_set():  # one thread of LNS from the start while the LP runs
            search.run(_Until(budget, budget.left() - total * KM_LP_SHARE), workers - 1, stop=lp.done.is_set)
        relax = lp.get(max(budget.left(), 0.0))
    bound = trivial if relax is None else min(trivial, relax.weight_bound())
    stats["lp_s"] = None if relax is None else round(relax.wall_s, 4)
    if relax is not None:
        split = int((np.maximum.reduceat(relax.values, ix.first) < 1 - 1e-6).sum())  # requests the LP splits
        if split <= ROUNDING_MAX_SPLIT * len(ix.first):
            # nearly integral (everyone fits): complete the LP's own plan
            y = _rounded(ix, relax, budget, min(budget.left(), total * ROUNDING_SHARE))
            with search.lock:
                search.reset(_better(ix, search.x, y))
        search.steer(relax.values)
        if search.weight() < bound:  # neighbourhoods on the LP's support first
            keep = (relax.values > 1e-6) | (relax.reduced < 1e-6 + relax.eps * LP_SUPPORT_UNITS)
            stats["restricted_pairs"] = int(keep.sum())
            search.allow(keep)
            search.run(_Until(budget, min(total * RESTRICTED_SHARE, budget.left() * 0.6)), workers)
            search.allow(None)
            stats["restricted"] = dict(search.stats)
    ub = relax.units_bound(bound) if relax is not None and search.weight() == bound else 0
    if search.weight() < bound or ix.units(search.x) > ub * (1 + KM_GAP_ENOUGH):
        # km's LP bound is kept time for only where the weight is proven (below it, it is 0 anyway)
        reserve = total * KM_LP_SHARE if relax is not None and search.weight() == bound else 0.0
        search.run(_Until(budget, budget.left() - reserve), workers)
    x = search.x
    stats.update(search.stats)
    weight = ix.weight(x)
    units_bound = 0
    if relax is not None:  # no plan placing as much weight as this one uses fewer km than the LP's bounds
        units_bound = relax.units_bound(weight)
        if units_bound < ix.units(x) and weight == bound:
            t1 = time.perf_counter()
            units_bound = max(units_bound, km_bound(ix, relax, weight, budget.left() if not budget.deterministic
                                                    else 60.0))
            stats["km_lp_s"] = round(time.perf_counter() - t1, 4)
        units_bound = min(units_bound, ix.units(x))
    return LnsResult(x=x, weight=weight, weight_bound=max(bound, weight), units=ix.units(x),
                     units_bound=units_bound, solve_s=time.perf_counter() - t0, stats=stats)
