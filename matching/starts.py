"""Plans for the LNS to start from: the LP's own rounding, the LP's target set, ejection chains.

- `rounded`: the LP's whole pairs kept and the requests it splits decided by CP-SAT (parts where
  everyone fits, such as L, are nearly integral: a near-optimal plan at once).
- `target_search`: a plan placing every request the LP places whole (or nearly every one), asked
  of CP-SAT as a feasibility question (`TargetModel`): on a surge the LP's set is within a few
  weight of the optimum, and when such a plan exists CP-SAT's fixed search finds it in a tenth of
  a second.
- `polish`: ejection chains (`moves.py`), sweep after sweep while they gain, then chains that fill
  the room they free: on a greedy start of a 1,000-call surge they place 50-100 more weight in a
  quarter of a second, what the neighbourhoods take most of a second to find. Then, like
  `shortened`, each placed request to a nearer provider of its own where there is room.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from .moves import Moves
from .relaxation import Relaxation
from .submodel import PartIndex, SubModel, build_sub, run_sub

POLISH_SWEEPS = 6  # ejection-chain sweeps at most per polish (they stall after 2-3)
POLISH_WORK = 12000  # chain steps at most per polish: reproducible mode's bound (~0.1 s on S600, ~1 s on S2000)
LP_MASS_FLOOR = 0.1  # how often a request the LP leaves out is tried, against 1 for one it places


def better(ix: PartIndex, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
    """The better of two plans of the part: more weight, then fewer km."""
    if y is None:
        return x
    return y if (ix.weight(y), -ix.units(y)) > (ix.weight(x), -ix.units(x)) else x


def rounded(ix: PartIndex, relax: Relaxation, budget, seconds: float) -> np.ndarray | None:
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
    z, _, _, det = run_sub(sub, y[free], seconds, 1, budget.deterministic, first_better=False)
    budget.used += det
    if z is not None:
        y[sub.free] = z
    return y


def lp_greedy(ix: PartIndex, values: np.ndarray) -> np.ndarray:
    """A plan rounded from the LP's solution: requests by the largest share the LP gives them at one
    provider (ties: fewer providers), each at the first of its providers, by the LP's share, where it
    fits."""
    mv = Moves(ix, np.zeros(ix.n, dtype=np.int64))
    vmax = np.maximum.reduceat(values, ix.first)
    npairs = np.diff(np.r_[ix.first, ix.n])
    order = np.lexsort((npairs, -vmax))
    for g in order.tolist():
        a, b = mv.gpairs[g].start, mv.gpairs[g].stop
        for k in (a + np.argsort(-values[a:b], kind="stable")).tolist():
            if mv.place(k):
                break
    return mv.x


def polish(ix: PartIndex, x: np.ndarray, budget, seconds: float, mass: np.ndarray | None = None,
           depth: int = 1, stop=None) -> np.ndarray:
    """Plan x improved by ejection chains (moves.py), sweep after sweep while they gain and the time
    lasts. Requests the LP places (`mass`) are tried first. Each sweep, and in reproducible mode the
    whole polish, is bounded by a count of chain steps, not by the clock."""
    mv = Moves(ix, x, depth)
    key = ix.w[ix.first] * ((mass if mass is not None else np.zeros(len(ix.first))) + LP_MASS_FLOOR)
    order = np.argsort(-key, kind="stable").tolist()
    end = time.perf_counter() + (1e9 if budget.deterministic else max(min(seconds, budget.left()), 0.0))
    for _ in range(2 * POLISH_SWEEPS):
        gained = mv.sweep([g for g in order if mv.cur[g] < 0], end, POLISH_WORK, stop)
        if time.perf_counter() >= end or mv.work >= POLISH_WORK or (not gained and mv.fill) or (stop and stop()):
            break
        mv.fill |= not gained  # plain chains stalled: let them lose weight to fill the room they free
    mv.work = 0
    mv.shorten(end, POLISH_WORK)
    return mv.x


def shortened(ix: PartIndex, x: np.ndarray, budget) -> np.ndarray:
    """Plan x with each placed request moved to a nearer provider of its own where there is room."""
    mv = Moves(ix, x)
    mv.shorten(float("inf") if budget.deterministic else time.perf_counter() + max(budget.left(), 0.005), POLISH_WORK)
    return mv.x


# A question's limit is CP-SAT's deterministic time, in both modes: the same questions are then
# settled on a slow or loaded machine as on a quick one (in wall seconds, 0.2 for a question and 0.3
# for the reason, a machine with one core taken lost S1000#1's plan in two of six processes; the
# wall clock still bounds the whole search by its share of the part's time). The fixed search places a set that
# fits within 0.04-0.06 (S1000#1, #5) and gives up on one that does not after 0.1, its first local
# search's slice; the reason takes 0.06-0.08 (S1000#3, #4) and more than 0.5 where it is large (#2).
TARGET_TRY_DET = 0.1  # one question to the fixed search (about 0.1-0.15 s here, the model's loading included)
CORE_TRY_DET = 0.12  # one question to CP-SAT's LP worker: why the set cannot all be placed (0.15-0.3 s here)
CORE_NEEDS_S = 0.25  # the reason, the set without it, chains: worth asking with this many wall seconds left
# The set without the reason is the likeliest to fit (S1000#3: placed within 0.03 deterministic seconds),
# but on a slow machine the reason came with 0.02-0.05 s of the share left, less than loading the model
# takes: that question is given this much wall time past the share, if the part's time allows.
REASON_SET_MIN_S = 0.12
REASON_SET_KEEP_S = 0.05  # of the part's time, kept for the polish and the neighbourhoods after it
# Reproducible mode's limits, as they were: its plans are the bench's record (with 0.3 for the
# reason S1000#2 finds one and ends at 2353 instead of 2370).
TARGET_TRY_REPRODUCIBLE, CORE_TRY_REPRODUCIBLE = 0.15, 0.2


def _no_time(seconds: float | None, deterministic_s: float) -> bool:
    return deterministic_s <= 0.005 or (seconds is not None and seconds <= 0.005)


class TargetModel:
    """The part's model as a feasibility question: one literal per request that, fixed to 1, makes
    the request placed. Built once (~0.05 s on 17,000 pairs); each question only sets those literals."""

    def __init__(self, ix: PartIndex, x: np.ndarray | None):
        self.ix = ix
        self.sub = build_sub(ix, np.arange(ix.n), x) if x is not None else None
        if self.sub is None:
            return
        proto = self.sub.model.proto
        proto.clear_objective()
        self.lit0 = len(proto.variables)
        ends = np.r_[ix.first[1:], ix.n]
        for g, (a, b) in enumerate(zip(ix.first.tolist(), ends.tolist())):
            proto.variables.add().domain.extend([0, 1])
            ct = proto.constraints.add()
            ct.enforcement_literal.append(self.lit0 + g)
            ct.linear.vars.extend(range(a, b))
            ct.linear.coeffs.extend([1] * (b - a))
            ct.linear.domain.extend([1, 1])

    def copy(self) -> "TargetModel":
        """Another model to ask at the same time (a solve reads the model it is given throughout)."""
        other = TargetModel(self.ix, None)
        if self.sub is not None:
            other.sub = SubModel(self.sub.model.clone(), self.sub.free, self.sub.cost, self.sub.km_span)
            other.lit0 = self.lit0
        return other

    def stop(self) -> None:
        solver = getattr(self, "active", None)
        if solver is not None:
            solver.stop_search()

    def _solver(self, worker: str, seconds: float | None, deterministic_s: float):
        from ortools.sat.python import cp_model

        solver = self.active = cp_model.CpSolver()
        p = solver.parameters
        p.cp_model_presolve = False  # the model is as simple as it gets; presolve costs more than it saves
        p.num_workers = 1
        p.subsolvers.append(worker)
        p.max_deterministic_time = deterministic_s
        if seconds is not None:
            p.max_time_in_seconds = seconds
        return solver

    def solve(self, force: np.ndarray, hint: np.ndarray, seconds: float | None, deterministic_s: float):
        """(a plan placing every request of `force` (a flag per request), or None; deterministic s used),
        within `seconds` of wall time (None: no wall limit) and `deterministic_s` of CP-SAT's work.

        Asked with plan `hint` as the hint, CP-SAT's fixed search (follow the hint, repair by
        propagation) settles it in a few hundredths of a second on a surge of 1,000 calls when such
        a plan exists; when none does it runs out of time, so the time is the caller's to bound."""
        from ortools.sat.python import cp_model

        if self.sub is None or _no_time(seconds, deterministic_s) or not force.any():
            return None, 0.0
        model, proto = self.sub.model, self.sub.model.proto
        model.clear_assumptions()  # (the fixed search ignores assumptions: the literals are fixed instead)
        for g, m in enumerate(force.tolist()):
            proto.variables[self.lit0 + g].domain[0] = 1 if m else 0
        proto.clear_solution_hint()
        proto.solution_hint.vars.extend(range(self.ix.n))
        proto.solution_hint.values.extend(np.asarray(hint).tolist())
        solver = self._solver("fixed", seconds, deterministic_s)
        status = solver.solve(model)
        det = float(solver.response_proto.deterministic_time)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None, det
        return np.asarray(list(solver.response_proto.solution), dtype=np.int64)[: self.ix.n], det

    def core(self, force: np.ndarray, seconds: float | None, deterministic_s: float):
        """(some requests of `force` that cannot all be placed together, or None if not proven within
        the limits, as for `solve`; deterministic s used): the LP worker's proof, read from the
        assumptions it needed."""
        from ortools.sat.python import cp_model

        if self.sub is None or _no_time(seconds, deterministic_s):
            return None, 0.0
        model, proto = self.sub.model, self.sub.model.proto
        for g in range(len(force)):
            proto.variables[self.lit0 + g].domain[0] = 0
        model.clear_assumptions()
        proto.assumptions.extend((self.lit0 + np.flatnonzero(force)).tolist())
        solver = self._solver("default_lp", seconds, deterministic_s)
        status = solver.solve(model)
        det = float(solver.response_proto.deterministic_time)
        model.clear_assumptions()
        if status != cp_model.INFEASIBLE:
            return None, det
        return [i - self.lit0 for i in solver.sufficient_assumptions_for_infeasibility()], det


def target_sets(ix: PartIndex, values: np.ndarray):
    """The sets of requests worth asking `TargetModel` to place, most ambitious first: every request
    the LP places whole; then those of them the LP puts on one provider, or that weigh 2 or more;
    then only those weighing 2 or more. (The LP's many weight-optimal vertices differ mostly in
    which families of two or three with the lowest weight they place whole.)"""
    whole = np.add.reduceat(values, ix.first) > 1 - 1e-6
    one = np.maximum.reduceat(values, ix.first) > 1 - 1e-6
    heavy = ix.w[ix.first] >= 2
    return [whole, whole & (one | heavy), whole & heavy]


def target_search(ix: PartIndex, relax: Relaxation, x: np.ndarray, budget, seconds: float,
                  workers: int = 2, model: TargetModel | None = None) -> np.ndarray | None:
    """A plan placing all of one of the LP's target sets (`target_sets`), polished by ejection
    chains, or None.

    The questions go to two threads (one in reproducible mode), most ambitious first: the whole set,
    and at the same time the first smaller set, then the LP worker's reason why the whole set cannot
    all be placed; when that reason comes (S1000#3: 9 of its 936 requests; without them the plan is
    within 0.4 % of the optimum), the set without those requests is asked next; then the other
    smaller sets. A plan found ends the questions about sets no larger than the one it places; the
    best plan found is polished.
    """
    det = budget.deterministic
    end = time.perf_counter() + seconds
    spent = [0.0]  # deterministic seconds, in reproducible mode

    def left() -> float:
        return seconds - spent[0] if det else min(end - time.perf_counter(), budget.left())

    models = [model or TargetModel(ix, x)]
    if not det and workers > 1:
        models.append(models[0].copy())
    whole, *smaller = target_sets(ix, relax.values)
    # The hints. The fixed search's time to a plan has a heavy tail that depends on its hint, and so
    # does the plan's quality. The LP's whole set: the LP's pair where it has one, the plan's
    # elsewhere (S1000#5: 2278, polished to 2280, every time). The set without the LP worker's
    # reason: the LP's whole pairs alone (from the plan the neighbourhoods left it misses one time
    # in five on S1000#3). The smaller sets, which leave more requests free: the plan so far
    # (S1000#2: 2358 where the LP's pairs give 2337).
    by_lp = (relax.values > 1 - 1e-6).astype(np.int64)
    on_lp = np.zeros(len(ix.first), dtype=bool)
    on_lp[ix.group_of[by_lp == 1]] = True
    mixed = np.where(on_lp[ix.group_of], by_lp, x)  # the LP's pair where it has one, else the plan's
    # (question, set, hint, the wall seconds it is given even past the share)
    queue: list[tuple[str, np.ndarray, np.ndarray, float]] = [("solve", whole, mixed, 0.0)]
    smaller = [f for f in smaller if f.sum() < whole.sum()]
    # With two threads the first smaller set goes beside the whole set, before the reason: when the
    # whole set cannot be placed it mostly can, within a few thousandths of a deterministic second
    # (S1000#2: 898 of 950 requests), and asked after the reason it came too late or not at all
    # (S1000#2: 2352-2358, then 2365-2367; S1000#3 1890-1893, then 1902; 4 solves each). One thread
    # asks in the old order: there the smaller set's question is not beside but before the reason's,
    # and S1000#3 then ran out of its deterministic time before the set without the reason (1885).
    if smaller and len(models) > 1:
        queue.append(("solve", smaller.pop(0), x, 0.0))
    if det or left() >= CORE_NEEDS_S:  # time to use the LP worker's reason
        queue.append(("core", whole, by_lp, 0.0))
    queue += [("solve", f, x, 0.0) for f in smaller]
    lock = threading.Lock()
    found: list[tuple[int, np.ndarray]] = []  # (size of the set placed, plan)
    # the set each model is asked about now (to place it, or for the reason it cannot be placed)
    asking: dict[int, np.ndarray | None] = {id(m): None for m in models}

    def placed_most() -> int:
        return max((n for n, _ in found), default=0)

    def work(m: TargetModel) -> None:
        while True:
            with lock:
                # a set no larger than one already placed cannot give a better plan
                while queue and queue[0][0] == "solve" and queue[0][1].sum() <= placed_most():
                    queue.pop(0)
                # (the reason is worth asking after a smaller set is placed: the set without it is larger)
                if not queue or (queue[0][0] == "core" and placed_most() >= int(whole.sum())):
                    return
                allowed = left() if det else max(left(), min(queue[0][3], budget.left() - REASON_SET_KEEP_S))
                if allowed <= 0.01:
                    return
                name, force, hint, _ = queue.pop(0)
                size = int(force.sum())
                asking[id(m)] = force
                if det:  # (left() is deterministic seconds too)
                    wall, effort = None, min(CORE_TRY_REPRODUCIBLE if name == "core" else TARGET_TRY_REPRODUCIBLE, left())
                else:
                    wall, effort = allowed, CORE_TRY_DET if name == "core" else TARGET_TRY_DET
            if name == "solve":
                y, used = m.solve(force, hint, wall, effort)
            else:
                y, used = m.core(force, wall, effort)
            with lock:
                asking[id(m)] = None
                budget.used += used
                spent[0] += used
                if name == "solve" and y is not None:
                    found.append((size, y))
                    # a question about a set no larger is moot now, and so is the reason a set no
                    # larger cannot be placed (S1000#5: its whole set placed at 0.15 s, the reason's
                    # question, to no end, held the neighbourhoods back until 0.33 s)
                    for other in models:
                        if other is not m and asking[id(other)] is not None and asking[id(other)].sum() <= size:
                            other.stop()
                elif name == "core" and y:
                    # without the reason the set is the likeliest to fit; the smaller sets keep the
                    # reason's requests and fail with it (S1000#4), so they give way to the neighbourhoods
                    fewer = force.copy()
                    fewer[y] = False
                    queue[:] = [("solve", fewer, by_lp, REASON_SET_MIN_S)]
                    for other in models:  # a set holding the reason cannot be placed: its question is moot
                        if asking[id(other)] is not None and asking[id(other)][y].all():
                            other.stop()

    threads = [threading.Thread(target=work, args=(m,), daemon=True) for m in models[1:]]
    for t in threads:
        t.start()
    work(models[0])
    for t in threads:
        t.join()
    if not found:
        return None
    best = found[0][1]
    for _, y in found[1:]:
        best = better(ix, best, y)
    # (a plan found past the share still gets a short polish: its first sweep gains the most)
    seconds = left() if det else max(left(), min(REASON_SET_KEEP_S, budget.left()))
    return polish(ix, best, budget, max(seconds, 0.0), np.add.reduceat(relax.values, ix.first))
