"""CP-SAT plan: build the model from flat candidate pairs, solve it in lexicographic stages, read it.

One Boolean `assign[request, provider]` per candidate pair. Hard rules that involve several pairs:
- a request takes at most one provider (siblings travel together: one request, one provider);
- facility capacity at every moment, counting commitments and fixed assignments. Encoding "linear"
  (default) writes one sum per elementary time segment where the candidates could overflow,
  dropping dominated segments; "scheduling" uses optional intervals in a cumulative constraint;
- a caregiver has one household at a time ("linear": at-most-one over overlapping windows;
  "scheduling": no-overlap of optional intervals) and enough travel time between visits (pairs).
Objective, strictly in order: (1) placed requests weighted by priority, (2) total road km,
(3) fair load across providers. Levels 1 and 2 share one objective whose weights separate them
exactly (W > any km total, so no distance can buy back a placement); level 3 is then added the
same way on top, starting from that plan. Per-level gaps come from CP-SAT's proven bounds.

Requests that share no candidate provider are solved as separate parts; parts without any
constraint that can bind are answered directly (nearest provider). Parts where facilities pack
children in time (a surge) and huge parts go to `lns.py` instead (LP relaxation, then large
neighbourhood search): CP-SAT's whole model would spend the limit before it searched.
"""

from __future__ import annotations

import math
import time
from typing import Mapping
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from .candidates import (DEFAULT_MAX_CANDIDATES, KM_UNIT, CandidateSet, build_candidates, linked_groups, max_load,
                         provider_items)
from .explain import explain_all, plan_figures
from . import lns
from .greedy import baseline_choices, fill
from .types import Plan, Problem

FAIR_STEPS = 12  # the per-provider fairness cost is convex up to this many children
FAIR_SCALE = 120  # fairness weight of a provider = ceil(FAIR_SCALE / capacity)
MIN_STAGE_S = 0.002
# The surge parts' share counts each pair of the parts CP-SAT solves after them this many times: CP-SAT
# settles a small packing part within a few tenths of a second where the neighbourhoods gain a few
# weight (S600t#1's 442-pair part places 136 in 0.1 s, 155 in 0.2 s; by pairs alone it had 0.07 s).
REST_WEIGHT = 4.0
MIN_PART_S = 0.02  # a part's share is proportional to its pairs, but at least this
MODEL_S_PER_PAIR = 3e-5  # rough cost of writing one pair's share of the model
INT_MAX = 2**62


# ---------------------------------------------------------------------------------------------
# Parts


def components(cs: CandidateSet) -> list[np.ndarray]:
    """Candidate pair indices grouped into parts whose requests share no provider."""
    R = len(cs.rt)
    if len(cs.ri) == 0:
        return []
    return linked_groups(cs.ri, cs.pi + R, R + len(cs.pt))


# ---------------------------------------------------------------------------------------------
# Constraints among pairs (plain lists first, so parts without any can skip CP-SAT entirely)


@dataclass
class PartRows:
    linear: list[tuple[np.ndarray, np.ndarray, int]] = field(default_factory=list)  # sum coeffs*x <= ub
    at_most_one: list[np.ndarray] = field(default_factory=list)
    cumulative: list[tuple[np.ndarray, np.ndarray, int, list[tuple[int, int, int]]]] = field(default_factory=list)
    no_overlap: list[np.ndarray] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.linear or self.at_most_one or self.cumulative or self.no_overlap)


def _drop_dominated(rows: list[tuple[np.ndarray, int]]) -> list[tuple[np.ndarray, int]]:
    """Among time-ordered (active set, room) rows drop a row whose neighbour is at least as tight."""
    if not rows:
        return []
    # Active sets as Python integers: subset tests become one AND on a bitset.
    packed = np.packbits(np.array([a for a, _ in rows], dtype=bool), axis=1, bitorder="little")
    bits = [int.from_bytes(row.tobytes(), "little") for row in packed]
    kept: list[int] = []
    for k, (_, room) in enumerate(rows):
        act = bits[k]
        while kept and room <= rows[kept[-1]][1] and not (bits[kept[-1]] & ~act):
            kept.pop()
        if kept and rows[kept[-1]][1] <= room and not (act & ~bits[kept[-1]]):
            continue
        kept.append(k)
    return [rows[k] for k in kept]


def constraint_rows(cs: CandidateSet, pairs: np.ndarray, encoding: str = "linear") -> PartRows:
    rows = PartRows()
    ri, pi = cs.ri[pairs], cs.pi[pairs]
    s, e, d = cs.rt.start[ri], cs.rt.end[ri], cs.rt.children[ri]
    order = np.argsort(pi, kind="stable")
    if not len(order):
        return rows
    first = np.r_[0, np.flatnonzero(np.diff(pi[order])) + 1]
    bounds = np.r_[first, len(order)]
    provs = pi[order][first].astype(np.int64)
    care = cs.pt.caregiver[provs]

    # Facilities whose candidates all fit together even at the committed peak need nothing.
    lo = np.minimum.reduceat(s[order], first).astype(np.int64)
    hi = np.maximum.reduceat(e[order], first).astype(np.int64)
    peak = max_load(cs.loads, provs, lo, hi)
    demand = np.add.reduceat(d[order], first).astype(np.int64)
    may_bind = ~care & (demand + peak > cs.pt.cap[provs])
    sizes = np.diff(bounds)

    def group(k: int) -> np.ndarray:
        return order[bounds[k]:bounds[k + 1]]

    L = cs.loads
    for k in np.flatnonzero(may_bind).tolist():
        g, p = group(k), int(provs[k])
        cap = int(cs.pt.cap[p])
        ss, ee, dd = s[g], e[g], d[g]
        seg = slice(L.seg_offs[p], L.seg_offs[p + 1])
        seg_s, seg_e, seg_l = L.seg_start[seg], L.seg_end[seg], L.seg_load[seg]
        if encoding == "scheduling":
            fixed = [(int(a), int(b), int(c)) for a, b, c in zip(seg_s, seg_e, seg_l) if b > lo[k] and a < hi[k]]
            rows.cumulative.append((g, dd, cap, fixed))
            continue
        pts = np.unique(np.concatenate([ss, ee, seg_s, seg_e]))
        pts = pts[(pts >= lo[k]) & (pts < hi[k])]
        act = (ss[None, :] <= pts[:, None]) & (pts[:, None] < ee[None, :])
        used = ((seg_s[None, :] <= pts[:, None]) & (pts[:, None] < seg_e[None, :])) @ seg_l if len(seg_l) else 0
        room = cap - np.broadcast_to(used, pts.shape)
        bind = act @ dd > room
        for a, r in _drop_dominated(list(zip(act[bind], room[bind].tolist()))):
            rows.linear.append((g[a], dd[a], int(r)))

    travel = cs.problem.travel
    for k in np.flatnonzero(care & (sizes >= 2)).tolist():
        g = group(k)
        g = g[np.argsort(s[g], kind="stable")]
        ss, ee = s[g], e[g]
        lat, lon = cs.rt.lat[ri[g]], cs.rt.lon[ri[g]]
        t = travel.travel_min(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        fits = ee[:, None] + t <= ss[None, :]  # i then j
        overlap = (ss[:, None] < ee[None, :]) & (ss[None, :] < ee[:, None])
        too_close = np.triu(~(fits | fits.T) & ~overlap, 1)
        for i, j in zip(*np.nonzero(too_close)):
            rows.at_most_one.append(g[[i, j]])
        if not np.triu(overlap, 1).any():
            continue
        if encoding == "scheduling":
            rows.no_overlap.append(g)
            continue
        act = (ss[None, :] <= ss[:, None]) & (ss[:, None] < ee[None, :])
        for a, _ in _drop_dominated([(row, 1) for row in act]):
            if a.sum() >= 2:
                rows.at_most_one.append(g[a])
    return rows


# ---------------------------------------------------------------------------------------------
# Model, written straight into the proto (the Python expression layer costs ~3x per element)


class PartModel:
    def __init__(self, cs: CandidateSet, pairs: np.ndarray, rows: PartRows, must_place: frozenset[int]):
        self.cs, self.pairs, self.n = cs, pairs, len(pairs)
        self.model = cp_model.CpModel()
        self.proto = proto = self.model.proto
        ri = cs.ri[pairs]
        self.weight = cs.rt.priority[ri]
        self.units = cs.units[pairs]
        for _ in range(self.n):
            proto.variables.add().domain.extend([0, 1])
        cuts = np.flatnonzero(np.diff(ri)) + 1
        for g in np.split(np.arange(self.n), cuts):
            placed = int(ri[g[0]]) in must_place
            if len(g) == 1 and not placed:
                continue
            ct = proto.constraints.add()
            (ct.exactly_one if placed else ct.at_most_one).literals.extend(g.tolist())
        for idx, coeffs, ub in rows.linear:
            self.linear(idx, coeffs, -INT_MAX, ub)
        for idx in rows.at_most_one:
            proto.constraints.add().at_most_one.literals.extend(idx.tolist())
        s, e = cs.rt.start[ri], cs.rt.end[ri]
        for idx, demands, cap, fixed in rows.cumulative:
            ivs = [self.interval(int(s[i]), int(e[i]), int(i)) for i in idx] + [self.interval(a, b) for a, b, _ in fixed]
            ct = proto.constraints.add().cumulative
            ct.capacity.offset = cap
            ct.intervals.extend(ivs)
            for dem in list(demands.tolist()) + [c for _, _, c in fixed]:
                ct.demands.add().offset = int(dem)
        for idx in rows.no_overlap:
            proto.constraints.add().no_overlap.intervals.extend([self.interval(int(s[i]), int(e[i]), int(i)) for i in idx])

    def interval(self, start: int, end: int, presence: int | None = None) -> int:
        k = len(self.proto.constraints)
        ct = self.proto.constraints.add()
        if presence is not None:
            ct.enforcement_literal.append(presence)
        ct.interval.start.offset = start
        ct.interval.end.offset = end
        ct.interval.size.offset = end - start
        return k

    def linear(self, idx, coeffs, lo: int, hi: int) -> None:
        ct = self.proto.constraints.add().linear
        ct.vars.extend(np.asarray(idx).tolist())
        ct.coeffs.extend(np.asarray(coeffs).tolist())
        ct.domain.extend([int(lo), int(hi)])

    def int_var(self, lo: int, hi: int) -> int:
        k = len(self.proto.variables)
        self.proto.variables.add().domain.extend([int(lo), int(hi)])
        return k

    def minimize(self, idx, coeffs) -> None:
        self.proto.clear_objective()
        self.proto.objective.vars.extend(np.asarray(idx).tolist())
        self.proto.objective.coeffs.extend(np.asarray(coeffs).tolist())

    def hint(self, x: np.ndarray) -> None:
        self.proto.clear_solution_hint()
        self.proto.solution_hint.vars.extend(range(self.n))
        self.proto.solution_hint.values.extend(np.asarray(x).tolist())

    def add_fairness(self) -> tuple[list[int], list[int]]:
        """Aux variables for the convex per-provider cost; returns the objective terms."""
        cs, pi = self.cs, self.cs.pi[self.pairs]
        kids = cs.rt.children[cs.ri[self.pairs]]
        base = provider_base(cs)
        idx: list[int] = []
        coef: list[int] = []
        order = np.argsort(pi, kind="stable")
        for g in np.split(order, np.flatnonzero(np.diff(pi[order])) + 1):
            p = int(pi[g[0]])
            w = fair_weight(int(cs.pt.cap[p]))
            # base*load + max(0, load - 0) is linear in the assign variables.
            idx.extend(g.tolist())
            coef.extend((w * (int(base[p]) + 1) * kids[g]).tolist())
            top = min(int(kids[g].sum()), FAIR_STEPS)
            for k in range(1, top):
                ex = self.int_var(0, top - k)
                self.linear(list(g) + [ex], list(kids[g]) + [-1], -INT_MAX, k)  # ex >= load - k
                idx.append(ex)
                coef.append(w)
        return idx, coef


def provider_base(cs: CandidateSet) -> np.ndarray:
    """Children already booked per provider row (commitments + fixed), for the fairness cost."""
    return np.add.reduceat(np.r_[cs.loads.children, 0], cs.loads.offs[:-1]) * (np.diff(cs.loads.offs) > 0)


def fair_weight(cap: int) -> int:
    return math.ceil(FAIR_SCALE / max(cap, 1))


def fairness_cost(load: int, base: int, cap: int) -> int:
    return fair_weight(cap) * (base * load + sum(max(0, load - k) for k in range(FAIR_STEPS)))


# ---------------------------------------------------------------------------------------------
# Solving in stages


@dataclass
class Level:
    value: int
    bound: int
    optimal: bool


@dataclass
class PartResult:
    x: np.ndarray  # chosen flag per pair of the part
    levels: list[Level]
    solve_s: float = 0.0
    build_s: float = 0.0


class Budget:
    """Solving time left: wall clock up to `deadline`, or, in reproducible mode, CP-SAT's
    deterministic time (`deterministic_s` in all), which depends on the input and not on the load."""

    def __init__(self, deadline: float, deterministic_s: float | None = None):
        self.deadline = deadline
        self.deterministic = deterministic_s is not None
        self.total = deterministic_s or 0.0
        self.used = 0.0

    def left(self) -> float:
        if self.deterministic:
            return max(self.total - self.used, 0.0)
        return max(self.deadline - time.perf_counter(), 0.0)


def _run(pm: PartModel, seconds: float, workers: int, deterministic: bool = False):
    """(status, solution or None, objective bound, wall s, deterministic s) of one CP-SAT call."""
    solver = cp_model.CpSolver()
    if deterministic:
        solver.parameters.max_deterministic_time = max(seconds, MIN_STAGE_S)
        solver.parameters.num_workers = 1
    else:
        solver.parameters.max_time_in_seconds = max(seconds, MIN_STAGE_S)
        solver.parameters.num_workers = workers
    # The full LP relaxation (cuts included) is what proves these assignment-like models quickly;
    # CP-SAT's default two-worker portfolio leaves it out, so name the workers.
    solver.parameters.linearization_level = 2
    if workers > 1 and not deterministic:
        solver.parameters.subsolvers.extend(["max_lp", "quick_restart", "core", "default_lp"][:workers])
    t = time.perf_counter()
    status = solver.solve(pm.model)
    wall = time.perf_counter() - t
    resp = solver.response_proto
    det = float(resp.deterministic_time)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        x = np.asarray(list(resp.solution), dtype=np.int64)[: pm.n]
        return status, x, float(resp.best_objective_bound), wall, det
    return status, None, float("nan"), wall, det


def separating_weight(pm: PartModel) -> int:
    """W larger than any total distance of the part, so one priority unit outweighs every km."""
    ri = pm.cs.ri[pm.pairs]
    first = np.r_[0, np.flatnonzero(np.diff(ri)) + 1]
    return int(np.maximum.reduceat(pm.units, first).sum()) + 1 if pm.n else 1


class PartSolve:
    """Lexicographic solve of one part; `start` is a feasible assignment used as hint and fallback.

    Stage A minimizes -W*placed_weight + km_units with W > any km total of the part: exactly
    lexicographic (no number of km can buy a placement back), and proven far faster than two
    stages with the first level as a constraint. Stage B adds level 3 the same way, scaled by F >
    any fairness cost, starting from stage A's plan (so it can only improve level 3). `solve_pairs`
    runs stage A on every part before stage B on any: placements come first everywhere.
    """

    def __init__(self, pm: PartModel, start: np.ndarray, budget: Budget, workers: int):
        self.pm, self.budget, self.workers = pm, budget, workers
        self.res = PartResult(x=start.copy(), levels=[])
        self.W = separating_weight(pm)
        self.c2 = -pm.weight * self.W + pm.units
        ri = pm.cs.ri[pm.pairs]
        self.first = np.r_[0, np.flatnonzero(np.diff(ri)) + 1] if pm.n else np.zeros(0, dtype=np.int64)
        self.proven = False

    def _run(self, share: float) -> tuple[int, np.ndarray | None, float]:
        seconds = min(share, self.budget.left())
        if seconds <= MIN_STAGE_S:
            return cp_model.UNKNOWN, None, float("nan")
        status, x, bound, wall, det = _run(self.pm, seconds, self.workers, self.budget.deterministic)
        self.res.solve_s += wall
        self.budget.used += det
        return status, x, bound

    def stage_a(self, share: float) -> None:
        pm, res, c2, W = self.pm, self.res, self.c2, self.W
        w, u = pm.weight, pm.units
        pm.minimize(np.arange(pm.n), c2)
        pm.hint(res.x)
        status, x, bound = self._run(share)
        if x is not None and int(c2 @ x) <= int(c2 @ res.x):
            res.x = x
        p1, d2 = int(w @ res.x), int(u @ res.x)
        if status == cp_model.OPTIMAL:
            b1, b2 = p1, d2
        elif x is not None:
            lb = int(math.ceil(bound - 1e-6))  # every plan has -W*P + D >= lb
            b1 = max(p1, (W - 1 - lb) // W)
            b2 = min(d2, max(0, lb + p1 * W))
        else:  # no proof at all: every request of the part placed, nothing travelled
            b1, b2 = max(p1, int(w[self.first].sum())), 0
        self.proven = status == cp_model.OPTIMAL
        res.levels = [Level(p1, b1, b1 == p1), Level(d2, b2, b2 == d2)]

    def stage_b(self, share: float | None, fairness: bool) -> PartResult:
        """Level 3; share None (or fairness off) only reads it."""
        pm, res, c2 = self.pm, self.res, self.c2
        f3 = part_fairness(pm.cs, pm.pairs, res.x)
        if not fairness:
            res.levels.append(Level(f3, f3, True))
            return res
        if share is None or not self.proven or min(share, self.budget.left()) <= MIN_PART_S:
            res.levels.append(Level(f3, 0, f3 == 0))
            return res
        fi, fc = pm.add_fairness()
        F = fairness_ceiling(pm) + 1
        reach = int(np.maximum.reduceat(np.abs(c2), self.first).sum()) if pm.n else 0
        if F * (reach + 1) >= 2**53:  # |objective| would not stay exact in the LP's doubles
            res.levels.append(Level(f3, 0, f3 == 0))
            return res
        pm.minimize(list(range(pm.n)) + fi, list((F * c2).tolist()) + fc)
        pm.hint(res.x)
        status, x, bound = self._run(share)
        if x is not None and int(c2 @ x) == int(c2 @ res.x) and part_fairness(pm.cs, pm.pairs, x) <= f3:
            res.x = x
            f3 = part_fairness(pm.cs, pm.pairs, x)
        if status == cp_model.OPTIMAL:
            b3 = f3
        else:
            b3 = min(f3, max(0, int(math.ceil(bound - 1e-6)) - F * int(c2 @ res.x))) if x is not None else 0
        res.levels.append(Level(f3, b3, b3 == f3))
        return res


def fairness_ceiling(pm: PartModel) -> int:
    """Largest fairness cost the part can have: every candidate at once."""
    cs, pi = pm.cs, pm.cs.pi[pm.pairs]
    kids = cs.rt.children[cs.ri[pm.pairs]]
    base = provider_base(cs)
    load = np.bincount(pi, weights=kids, minlength=len(cs.pt)).astype(np.int64)
    return sum(fairness_cost(int(load[p]), int(base[p]), int(cs.pt.cap[p])) for p in np.unique(pi).tolist())


def part_fairness(cs: CandidateSet, pairs: np.ndarray, x: np.ndarray) -> int:
    base = provider_base(cs)
    chosen = pairs[np.asarray(x, dtype=bool)]
    load: dict[int, int] = {}
    for p, k in zip(cs.pi[chosen].tolist(), cs.rt.children[cs.ri[chosen]].tolist()):
        load[p] = load.get(p, 0) + k
    return sum(fairness_cost(n, int(base[p]), int(cs.pt.cap[p])) for p, n in load.items())


def _direct(cs: CandidateSet, pairs: np.ndarray) -> np.ndarray | None:
    """Nearest provider per request when nothing can bind; None if a tie makes fairness matter."""
    ri = cs.ri[pairs]
    first = np.r_[True, ri[1:] != ri[:-1]]
    second = np.r_[~first[1:], False]  # a request's second pair follows its first
    tie = first & second
    if np.any(cs.units[pairs][tie] == np.r_[cs.units[pairs][1:], 0][tie]):
        return None
    return first.astype(np.int64)


class _Overlay(dict):
    """`items` seen through a copy-on-write layer: `fill` appends to its own copies, never to `items`."""

    def __init__(self, base: Mapping[int, list]):
        super().__init__()
        self.base = base

    def get(self, p, default=None):
        if dict.__contains__(self, p):
            return dict.__getitem__(self, p)
        return self.base.get(p, default)

    def setdefault(self, p, default=None):
        if not dict.__contains__(self, p):
            dict.__setitem__(self, p, list(self.base.get(p, ())))
        return dict.__getitem__(self, p)


def _greedy_start(cs: CandidateSet, pairs: np.ndarray, items: dict[int, list], hint: dict[int, int]) -> np.ndarray:
    """A feasible assignment of the part: hinted providers first, then nearest with room."""
    ri, pi = cs.ri[pairs], cs.pi[pairs]
    cands: dict[int, list[int]] = {}
    for r, p in zip(ri.tolist(), pi.tolist()):
        cands.setdefault(r, []).append(p)
    for r, p in hint.items():
        if r in cands and p in cands[r]:
            cands[r] = [p] + [q for q in cands[r] if q != p]
    hinted = [r for r in cands if r in hint]
    rest = sorted((r for r in cands if r not in hint), key=lambda r: (len(cands[r]), -int(cs.rt.priority[r])))
    chosen = fill(cs.problem, cs.pt, cs.rt, hinted + rest, cands, _Overlay(items))
    return np.fromiter((chosen.get(r) == p for r, p in zip(ri.tolist(), pi.tolist())), np.int64, len(pairs))


def project(cs: CandidateSet, chosen: dict[int, int]) -> np.ndarray:
    """A plan of the whole problem (request row -> provider row) as flags over the model's pairs.

    A pair the safe cut dropped is replaced by the request's free, nearer provider (`shortcut`): the
    result is feasible with the same placements and no more km.
    """
    x = np.zeros(len(cs.ri), dtype=np.int64)
    if not chosen or not len(cs.ri):
        return x
    P = len(cs.pt)
    r = np.fromiter(chosen.keys(), np.int64, len(chosen))
    p = np.fromiter(chosen.values(), np.int64, len(chosen))
    key = cs.ri * P + cs.pi
    order = np.argsort(key, kind="stable")
    sk = key[order]

    def find(q: np.ndarray) -> np.ndarray:
        pos = np.minimum(np.searchsorted(sk, q), len(sk) - 1)
        return np.where(sk[pos] == q, order[pos], -1)

    k = find(r * P + p)
    miss = k < 0
    if miss.any() and cs.shortcut is not None:
        alt = cs.shortcut[r[miss]]
        k[miss] = np.where(alt >= 0, find(r[miss] * P + np.maximum(alt, 0)), -1)
    x[k[k >= 0]] = 1
    return x


def _best(pm_w: np.ndarray, pm_u: np.ndarray, options: list[np.ndarray]) -> np.ndarray:
    """The option with most placed weight, then fewest km."""
    return min(options, key=lambda x: (-int(pm_w @ x), int(pm_u @ x)))


LNS_MIN_PAIRS = 500  # parts this large, packing, with requests the start leaves out go to `lns.solve_part`
PACKING_RATIO = 1.0  # "packing": the capacity rows hold more terms than the part has pairs
LNS_KM_PAIRS = 5000  # and parts this large even when everyone is placed: CP-SAT cannot prove their km in time


def _may_lns(pairs: np.ndarray, rows: PartRows, must_place: frozenset[int]) -> bool:
    """A part that may go to `lns.solve_part` rather than CP-SAT's whole model: facilities packing
    children in time (the capacity rows hold more terms than the part has pairs), or a part so large
    that CP-SAT cannot even prove its km in time. A part of caregivers taking one household each is
    close to a matching, which CP-SAT proves in a fraction of the limit."""
    if must_place or len(pairs) < LNS_MIN_PAIRS or rows.cumulative or rows.no_overlap:
        return False
    return len(pairs) >= LNS_KM_PAIRS or sum(len(g) for g, _, _ in rows.linear) >= PACKING_RATIO * len(pairs)


def _merge(big: list[tuple[np.ndarray, PartRows]]) -> tuple[np.ndarray, PartRows]:
    """Several parts as one: their pairs in order, their rows re-indexed to positions in the union."""
    union = np.sort(np.concatenate([p for p, _ in big]))
    rows = PartRows()
    for pairs, part_rows in big:
        pos = np.searchsorted(union, pairs)
        rows.linear += [(pos[g], c, ub) for g, c, ub in part_rows.linear]
        rows.at_most_one += [pos[g] for g in part_rows.at_most_one]
    return union, rows


def _start(cs: CandidateSet, pairs: np.ndarray, items: dict[int, list], hint: dict[int, int],
           starts: list[np.ndarray]) -> np.ndarray:
    """The part's start: the better of the baselines and, when a hint can change it, its own fill."""
    w, u = cs.rt.priority[cs.ri[pairs]], cs.units[pairs]
    # Without a hint the own fill would repeat the most-constrained baseline (and costs half a
    # second on a surge of 2,000 calls): it is made only when a hint can change it.
    own = [_greedy_start(cs, pairs, items, hint)] if hint or not starts else []
    return _best(w, u, own + [s[pairs] for s in starts])


class _Share:
    """A part's share of the budget: its own wall deadline, or deterministic seconds in reproducible mode."""

    def __init__(self, budget: Budget, seconds: float):
        self.budget, self.deterministic = budget, budget.deterministic
        self.deadline = min(budget.deadline, time.perf_counter() + seconds)
        self.total, self.used = seconds, 0.0

    def left(self) -> float:
        if self.deterministic:
            return max(min(self.total, self.budget.left()) - self.used, 0.0)
        return max(self.deadline - time.perf_counter(), 0.0)


# ---------------------------------------------------------------------------------------------
# Entry point


@dataclass
class SolveStats:
    placed_weight: int = 0
    placed_weight_bound: int = 0
    units: int = 0
    units_bound: int = 0
    fairness: int = 0
    fairness_bound: int = 0
    optimal: bool = True
    solve_s: float = 0.0
    build_s: float = 0.0
    parts: int = 0


def solve_pairs(cs: CandidateSet, deadline: float, *, decompose: bool = True, workers: int = 2,
                encoding: str = "linear", must_place: frozenset[int] = frozenset(),
                hint: dict[int, int] | None = None, fairness: bool = True, budget: Budget | None = None,
                baselines: bool = False) -> tuple[np.ndarray, SolveStats]:
    """Chosen flag per candidate pair of `cs`, with the figures of the stages.

    `baselines=True` also starts every part from the better of the two greedy baselines (mapped
    into the model), so the result is never below either of them.
    """
    budget = budget or Budget(deadline)
    stats = SolveStats()
    chosen = np.zeros(len(cs.ri), dtype=np.int64)
    parts = components(cs) if decompose else ([np.arange(len(cs.ri))] if len(cs.ri) else [])
    parts.sort(key=len)
    stats.parts = len(parts)
    hint = hint or {}
    items: dict[int, list] | None = None
    starts: list[np.ndarray] | None = None
    done: list[tuple[np.ndarray, list[Level]]] = []
    todo: list[tuple[np.ndarray, PartSolve]] = []
    left = sum(len(p) for p in parts)
    # Packing parts (and huge ones) go to lns.solve_part, all as one: independent blocks of one LP
    # and one LNS whose neighbourhoods go where the unplaced requests are. It comes first, with a
    # share by its pairs; its LP starts now, on the other core, while this thread builds the starts.
    big: list[tuple[np.ndarray, PartRows]] = []
    rest: list[np.ndarray] = []
    made: dict[int, PartRows] = {}
    for pairs in parts:
        rows = constraint_rows(cs, pairs, encoding) if len(pairs) >= LNS_MIN_PAIRS else None
        if rows is not None and _may_lns(pairs, rows, must_place):
            big.append((pairs, rows))
        else:
            rest.append(pairs)
            if rows is not None:
                made[id(pairs)] = rows
    union, union_rows, lp = None, None, None
    if big:
        union, union_rows = _merge(big)
        lp = lns.Prefetch(lns.PartIndex(cs, union, union_rows),
                          60.0 if budget.deterministic else budget.left() * lns.LP_SHARE)
    try:
        for pairs in ([union] if big else []) + rest:  # stage A, small parts first; unused time flows on
            t0 = time.perf_counter()
            rows = union_rows if pairs is union else made.pop(id(pairs), None) or constraint_rows(cs, pairs, encoding)
            x = _direct(cs, pairs) if rows.empty() and not must_place else None
            if x is not None:
                stats.build_s += time.perf_counter() - t0
                pw, du, f = int(cs.rt.priority[cs.ri[pairs]] @ x), int(cs.units[pairs] @ x), part_fairness(cs, pairs, x)
                done.append((pairs, [Level(pw, pw, True), Level(du, du, True), Level(f, f, True)]))
                chosen[pairs] = x
                left -= len(pairs)
                continue
            if items is None:
                reqs = {r.id: r for r in cs.problem.requests}
                items = provider_items(cs.problem, cs.pt, cs.problem.fixed, reqs)
            if starts is None:
                starts = [project(cs, c) for c in baseline_choices(cs, items)] if baselines else []
            w, u = cs.rt.priority[cs.ri[pairs]], cs.units[pairs]
            if pairs is union:  # the best start block by block
                start = np.zeros(len(union), dtype=np.int64)
                for part, _ in big:
                    pos = np.searchsorted(union, part)
                    start[pos] = _start(cs, part, items, hint, starts)
            else:
                start = _start(cs, pairs, items, hint, starts)
            model_s = MIN_PART_S + (0.0 if pairs is union else MODEL_S_PER_PAIR * len(pairs))  # LNS needs no big model
            if budget.left() <= model_s and not must_place:  # no time: keep the start
                stats.build_s += time.perf_counter() - t0
                first = np.r_[True, cs.ri[pairs][1:] != cs.ri[pairs][:-1]]
                pw, du = int(w @ start), int(u @ start)
                done.append((pairs, [Level(pw, max(pw, int(w[first].sum())), False), Level(du, 0, du == 0),
                                     Level(part_fairness(cs, pairs, start), 0, False)]))
                chosen[pairs] = start
                left -= len(pairs)
                continue
            if pairs is union:
                stats.build_s += time.perf_counter() - t0
                remaining = budget.left()
                rest_pairs = sum(len(p) for p in rest if len(p) > 1)  # (a lone pair is answered directly)
                share = _Share(budget, remaining * len(union) / max(left - rest_pairs + REST_WEIGHT * rest_pairs, 1))
                res = lns.solve_part(cs, union, rows, start, share, workers, seed=len(union), lp=lp)
                budget.used += share.used
                stats.solve_s += res.solve_s
                f3 = part_fairness(cs, union, res.x)
                done.append((union, [Level(res.weight, res.weight_bound, res.weight == res.weight_bound),
                                     Level(res.units, res.units_bound, res.units == res.units_bound),
                                     Level(f3, 0, f3 == 0)]))
                chosen[union] = res.x
                left -= len(union)
                continue
            pm = PartModel(cs, pairs, rows, must_place)
            stats.build_s += time.perf_counter() - t0
            part = PartSolve(pm, start, budget, workers)
            remaining = budget.left()
            part.stage_a(min(remaining, max(remaining * len(pairs) / max(left, 1), MIN_PART_S)))
            left -= len(pairs)
            todo.append((pairs, part))
    finally:
        if lp is not None:  # the LP process given back (or ended, its answer still to come), whatever happened
            lp.close()
    left = sum(len(p) for p, part in todo if part.proven)
    for pairs, part in todo:  # stage B with what is left
        share = None
        if fairness and part.proven:
            remaining = budget.left()
            share = min(remaining, max(remaining * len(pairs) / max(left, 1), MIN_PART_S))
            left -= len(pairs)
        res = part.stage_b(share, fairness)
        stats.solve_s += res.solve_s
        chosen[pairs] = res.x
        done.append((pairs, res.levels))
    for pairs, levels in done:
        stats.placed_weight += levels[0].value
        stats.placed_weight_bound += levels[0].bound
        stats.units += levels[1].value
        stats.units_bound += levels[1].bound
        stats.fairness += levels[2].value
        stats.fairness_bound += levels[2].bound
        stats.optimal &= all(lv.optimal for lv in levels)
    return chosen, stats


# explanations with suggestions: 0.03-0.05 s on a surge of 1,000 with 50-170 left out (and the search
# itself ends up to 0.03 s past its deadline when a question to CP-SAT stops)
EXPLAIN_S_PER_REQUEST = 1e-4
REPRODUCIBLE_SHARE = 0.6  # of the limit, as CP-SAT deterministic seconds, in reproducible mode


def solve(problem: Problem, *, time_limit_s: float = 1.0, prune: bool = True, decompose: bool = True,
          workers: int = 2, max_candidates: int | None = DEFAULT_MAX_CANDIDATES, encoding: str = "linear",
          fairness: bool = True, reproducible: bool = False) -> Plan:
    """Best plan for all requests not fixed; always returns a plan (the best found by the limit).

    The limit covers the whole call: candidates, model, solving and explanations. `reproducible`
    makes the plan a function of the input alone: one CP-SAT worker and a deterministic time limit
    (REPRODUCIBLE_SHARE of the limit in CP-SAT's deterministic seconds; wall time then varies with
    the machine) and every suggestion computed.
    """
    t0 = time.perf_counter()
    end = t0 + time_limit_s
    cs = build_candidates(problem, prune=prune, max_per_request=max_candidates if prune else None)
    build_s = time.perf_counter() - t0
    # Leave room to write the explanations inside the limit.
    deadline = end - min(0.25 * time_limit_s, 0.01 + EXPLAIN_S_PER_REQUEST * len(cs.rt))
    budget = Budget(deadline, REPRODUCIBLE_SHARE * time_limit_s if reproducible else None)
    hint = {cs.rt.index[r]: cs.pt.index[p] for r, p in problem.hint.items() if r in cs.rt.index and p in cs.pt.index}
    x, st = solve_pairs(cs, deadline, decompose=decompose, workers=workers, encoding=encoding, hint=hint,
                        fairness=fairness, budget=budget, baselines=True)
    assignments = {r: p for r, p in problem.fixed.items() if r in cs.rt.index}
    sel = np.flatnonzero(x)
    assignments.update(zip((cs.rt.ids[r] for r in cs.ri[sel].tolist()), (cs.pt.ids[p] for p in cs.pi[sel].tolist())))
    t1 = time.perf_counter()
    explanations = explain_all(problem, cs, assignments, suggest_until=None if reproducible else end - 0.005)
    plan = Plan(assignments=assignments, explanations=explanations,
                status="optimal" if st.optimal else "feasible", placed=0, placed_weight=0, total_km=0.0,
                build_s=build_s + st.build_s, solve_s=st.solve_s, explain_s=time.perf_counter() - t1,
                components=st.parts, candidate_pairs=len(cs.ri))
    plan_figures(problem, cs, plan)
    fixed_weight = plan.placed_weight - st.placed_weight
    plan.placed_weight_bound = st.placed_weight_bound + fixed_weight
    if st.units_bound >= st.units:
        plan.total_km_bound = plan.total_km
    else:  # the objective counts rounded 10 m units: allow half a unit per placed request
        decided = len(sel)
        fixed_km = plan.total_km - float(cs.km[sel].sum())
        plan.total_km_bound = max(0.0, (st.units_bound - 0.5 * decided) / KM_UNIT) + fixed_km
    g1 = (st.placed_weight_bound - st.placed_weight) / st.placed_weight_bound if st.placed_weight_bound else 0.0
    g2 = (st.units - st.units_bound) / st.units if st.units else 0.0
    g3 = (st.fairness - st.fairness_bound) / st.fairness if st.fairness else 0.0
    plan.gaps = {"placed_weight": g1, "total_km": g2, "fairness": g3}
    plan.gap = max(g1, g2)
    plan.fairness = st.fairness
    return plan
