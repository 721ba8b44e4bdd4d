"""Packing parts under contention: ejection chains, the LP relaxation and its target set, then LNS.

On a surge day (calls outnumbering places, facilities packing children in time) one part can hold
thousands of candidate pairs; CP-SAT on the whole part spends a 1 s limit in presolve and in its
first LP before it searches, and its own LNS copies the whole model for every neighbourhood. What
works inside the limit instead, measured on `surge.py` instances against HiGHS's proven optimum
(docs/matching.md), all parts that `cpsat.solve_pairs` sends here being solved as one:

1. The start (the better of the greedy baselines and the hint) polished by ejection chains
   (`starts.polish`, `moves.py`): a request left out goes in where the requests it displaces can
   go elsewhere, at tens of microseconds a try.
2. The LP relaxation (`relaxation.py`), started by `cpsat.solve_pairs` in the LP process (or on a
   second thread) before it builds the greedy starts; one thread of LNS works from the start until
   it is back. It lies
   within about half a percent of the integer optimum and its prices prove the bounds.
3. With the LP: its own rounding when it is nearly integral (everyone fits); otherwise its target
   set (`starts.target_search`): a plan placing every request the LP places whole, asked of
   CP-SAT as a feasibility question, or, when that set cannot all be placed, the set without the
   requests CP-SAT names as the reason, or a smaller set. Such a plan is within a few weight of
   the optimum, where the neighbourhoods below would need seconds to get there. When that set
   lies more than 2 % above the plan (tight packings: families of two and three in few places)
   it was never placed; the LP's greedy rounding (`starts.lp_greedy`), polished, is taken instead.
4. Then neighbourhoods until the time is spent. A neighbourhood grows breadth first from an
   unplaced request (those the LP places more often) through the providers that could take it
   and the requests planned there, half of them cut to a time slice around its window; every
   other assignment is kept (its children count against the rows' room) and a small CP-SAT model
   re-decides the neighbourhood, stopping at its first plan placing more. Two threads work on
   disjoint neighbourhoods (CP-SAT releases the GIL), each with a deterministic work limit, so a
   loaded machine runs fewer neighbourhoods rather than worse ones.

Every step accepts only a plan that is better in (placed weight, km), so the result is never
below the start, which `cpsat.solve_pairs` makes the better of the greedy baselines and the hint.
In reproducible mode everything runs on one thread with deterministic limits.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from .candidates import CandidateSet
from .relaxation import Prefetch, km_bound
from .starts import (LP_MASS_FLOOR, TargetModel, better, lp_greedy, polish, rounded, shortened, target_search,
                     target_sets)
from .submodel import PartIndex, SubModel, build_sub, run_sub

__all__ = ["PartIndex", "Prefetch", "LnsResult", "Search", "solve_part"]

SUB_LIMIT_S = 0.03  # one neighbourhood's CP-SAT time
SUB_PAIRS = 300  # a neighbourhood's size to start with (pairs); adapted as the search goes
SUB_PAIRS_RANGE = (60, 1500)
LP_SHARE = 0.9  # of the part's time at most for the LP (one thread of LNS works meanwhile)
POLISH_SHARE = 0.3  # of the part's time at most, per polish (they stop sooner when they stall)
FIRST_DEPTH = 1  # chain depth of the first polish (deeper ones re-place what they take out by chains)
TARGET_SHARE = 0.45  # of the part's time at most, for a plan placing every request the LP places whole
TARGET_SHARE_REPRODUCIBLE = 0.75
# A target set this far (share of its weight) above the plan when the LP is back was never placed
# (S1000 seeds 1-10, S600 1-10, S600t, S600c: every set placed was within 1.6 %, sets 1.9-6 % above
# were all refused): the LP's own rounding, polished, gets the time instead.
TARGET_MAX_GAP = 0.02
ROUNDING_SHARE = 0.1  # of the part's time, to complete the LP's integral pairs into a plan
ROUNDING_MAX_SPLIT = 0.05  # ... when the LP splits at most this share of the requests
KM_GAP_ENOUGH = 0.001  # weight proven and km within this of its bound: the time goes to other parts
KM_LP_SHARE = 0.12  # of the part's time, kept at the end for the LP bound on km
# The last step, moving placed requests nearer (`starts.shortened`), first reads the whole plan into
# its lists: 0.01-0.06 s on S1000, which ran past the part's time when the search took all of it.
SHORTEN_S, SHORTEN_SHARE = 0.02, 0.05
SPAN_SHARE = 0.5  # of neighbourhoods cut to a time slice around the seed's window
SPAN_MARGIN_MIN = 60
IDLE_STOP = 150  # neighbourhoods in a row without a better plan: stop early
# A neighbourhood's model is small and solved from a hint: presolve and the fuller LP cost more than
# they save there (about a fifth more weight gained per second of LNS on S600/S1000 surges than
# with presolve and level 2).
LNS_PARAMS = {"cp_model_presolve": False, "linearization_level": 1}


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

    def __init__(self, ix: PartIndex, x: np.ndarray, seed: int = 0):
        self.ix, self.x = ix, x.copy()
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
                        total += len(ix.prov_pairs[p])
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
                                             params=LNS_PARAMS, det_cap=None if det else SUB_LIMIT_S)
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


def _lp_rounding(ix: PartIndex, relax, search: Search, budget, seconds: float, workers: int) -> np.ndarray:
    """The LP's greedy rounding (`starts.lp_greedy`) polished by ejection chains, the LP's requests first.
    The chains hold the interpreter lock; a thread of neighbourhoods (CP-SAT, which lets it go) works
    on the plan so far meanwhile."""
    mass = np.add.reduceat(relax.values, ix.first)
    start = lp_greedy(ix, relax.values)
    if budget.deterministic or workers < 2:
        return polish(ix, start, budget, seconds, mass, depth=FIRST_DEPTH)
    done = threading.Event()
    beside = threading.Thread(target=search.run, args=(_Until(budget, budget.left()), 1),
                              kwargs={"stop": done.is_set}, daemon=True)
    beside.start()
    try:
        return polish(ix, start, budget, seconds, mass, depth=FIRST_DEPTH)
    finally:
        done.set()
        beside.join()


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


def solve_part(cs: CandidateSet, pairs: np.ndarray, rows, start: np.ndarray, budget, workers: int = 2,
               seed: int = 0, lp: Prefetch | None = None) -> LnsResult:
    """The best plan of one part found within the budget, with proven bounds (see the module doc).

    `lp`: the part's LP already under way (started here otherwise). The start is first polished by
    ejection chains; until the LP comes back one thread of LNS works from it; then the LP's
    target set gives a plan of its own (`starts.target_search`), its values steer the chains and
    the LNS's choice of requests, and its prices give the bounds.
    """
    own = lp is None
    if own:
        lp = Prefetch(PartIndex(cs, pairs, rows), budget.left() * LP_SHARE if not budget.deterministic else 60.0)
    try:
        return _solve_part(start, budget, workers, seed, lp)
    finally:
        if own:
            lp.close()


def _solve_part(start: np.ndarray, budget, workers: int, seed: int, lp: Prefetch) -> LnsResult:
    t0 = time.perf_counter()
    ix = lp.ix
    x = np.asarray(start, dtype=np.int64).copy()
    stats: dict = {}
    total = budget.left()
    trivial = int(ix.w[ix.first].sum()) if ix.n else 0
    search = Search(ix, x, seed)
    # Built first, while the LP runs, where requests wait: once the LP is back (0.15-0.4 s on S1000
    # from its process) every hundredth of a second counts, so the chains stop there too (in
    # reproducible mode they do not: the plan may not depend on when the LP came back).
    target_model = TargetModel(ix, x) if TARGET_SHARE and ix.weight(x) < trivial else None
    stop = None if budget.deterministic else lp.done.is_set
    search.reset(better(ix, x, polish(ix, x, budget, total * POLISH_SHARE, depth=FIRST_DEPTH, stop=stop)))
    stats["polish"] = [search.weight() - ix.weight(x)]
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
            y = rounded(ix, relax, budget, min(budget.left(), total * ROUNDING_SHARE))
            with search.lock:
                search.reset(better(ix, search.x, y))
        whole = target_sets(ix, relax.values)[0]
        aim = int(ix.w[ix.first][whole].sum())
        far = aim - search.weight() > TARGET_MAX_GAP * aim
        if far and search.weight() < bound:
            y = _lp_rounding(ix, relax, search, budget, total * POLISH_SHARE, workers)
            stats["lp_rounding"] = (search.weight(), ix.weight(y))
            with search.lock:
                search.reset(better(ix, search.x, y))
        elif search.weight() < bound and TARGET_SHARE:  # every request the LP places whole, if that can be done
            t1 = time.perf_counter()
            # (reproducible mode: deterministic seconds on one thread, where the questions take more of them)
            share = min(budget.left() * 0.9, total * (TARGET_SHARE_REPRODUCIBLE if budget.deterministic else TARGET_SHARE))
            y = target_search(ix, relax, search.x, budget, share, workers, target_model)
            stats["target"] = (search.weight(), None if y is None else ix.weight(y), round(time.perf_counter() - t1, 4))
            search.reset(better(ix, search.x, y))
        search.steer(relax.values)
    ub = relax.units_bound(bound) if relax is not None and search.weight() == bound else 0
    if search.weight() < bound or ix.units(search.x) > ub * (1 + KM_GAP_ENOUGH):
        # km's LP bound is kept time for only where the weight is proven (below it, it is 0 anyway)
        reserve = total * KM_LP_SHARE if relax is not None and search.weight() == bound else 0.0
        if not budget.deterministic:  # (there the last move is bounded by its work, not by the clock)
            reserve += min(SHORTEN_S, SHORTEN_SHARE * total)
        search.run(_Until(budget, budget.left() - reserve), workers)
    x = better(ix, search.x, shortened(ix, search.x, budget))
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
