"""Plans for the LNS to start from: the LP's own rounding, the LP support's own plan, ejection chains.

- `rounded`: the LP's whole pairs kept and the requests it splits decided by CP-SAT (parts where
  everyone fits, such as L, are nearly integral: a near-optimal plan at once).
- `support_plan`: the best plan on the pairs the LP uses (and the current plan's). On a surge they
  are a sixth of the pairs and fall apart into independent pieces that CP-SAT solves whole.
- `polish`: ejection chains (`moves.py`), sweep after sweep while they gain, then chains that fill
  the room they free: on a greedy start of a 1,000-call surge they place 50-100 more weight in a
  quarter of a second, what the neighbourhoods take most of a second to find.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from .candidates import linked_groups
from .moves import Moves
from .relaxation import Relaxation
from .submodel import PartIndex, build_sub, run_sub

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


def polish(ix: PartIndex, x: np.ndarray, budget, seconds: float, mass: np.ndarray | None = None,
           depth: int = 1) -> np.ndarray:
    """Plan x improved by ejection chains (moves.py), sweep after sweep while they gain and the time
    lasts. Requests the LP places (`mass`) are tried first. Each sweep, and in reproducible mode the
    whole polish, is bounded by a count of chain steps, not by the clock."""
    mv = Moves(ix, x, depth)
    key = ix.w[ix.first] * ((mass if mass is not None else np.zeros(len(ix.first))) + LP_MASS_FLOOR)
    order = np.argsort(-key, kind="stable").tolist()
    end = time.perf_counter() + (1e9 if budget.deterministic else max(min(seconds, budget.left()), 0.0))
    for _ in range(2 * POLISH_SWEEPS):
        gained = mv.sweep([g for g in order if mv.cur[g] < 0], end, POLISH_WORK)
        if time.perf_counter() >= end or mv.work >= POLISH_WORK or (not gained and mv.fill):
            break
        mv.fill |= not gained  # plain chains stalled: let them lose weight to fill the room they free
    return mv.x


def _linked(ix: PartIndex, keep: np.ndarray) -> list[np.ndarray]:
    """The kept pairs grouped by the requests and providers they link (rows are per provider)."""
    k = np.flatnonzero(keep)
    ng = len(ix.first)
    return [k[g] for g in linked_groups(ix.group_of[k], ng + ix.prov[k], ng + int(ix.prov.max()) + 1)]


def support_plan(ix: PartIndex, relax: Relaxation, x: np.ndarray, budget, seconds: float, workers: int) -> np.ndarray:
    """The best plan on the pairs the LP uses (and x's): on a surge they are a sixth of the pairs and
    fall apart into independent pieces, each solved whole by CP-SAT in a fraction of the time the
    neighbourhoods take to get there from a greedy start. Pieces are taken one by one where better."""
    y = x.copy()
    keep = (relax.values > 1e-6) | (x == 1)
    pieces = sorted(_linked(ix, keep), key=len, reverse=True) if keep.any() else []
    total = float(sum(len(c) for c in pieces)) or 1.0
    lock = threading.Lock()
    queue = list(pieces)
    end = time.perf_counter() + seconds
    spent = [0.0]

    def work() -> None:
        while True:
            with lock:
                if not queue:
                    return
                c = queue.pop(0)
            sub = build_sub(ix, c, x)
            if sub is None:
                continue
            if budget.deterministic:
                limit = seconds * len(c) / total
            else:
                limit = min(end - time.perf_counter(), budget.left())
            if limit <= 0.002:
                continue
            z, _, _, det = run_sub(sub, x[sub.free], limit, 1, budget.deterministic, first_better=False)
            with lock:
                spent[0] += det
                if z is not None:
                    y[sub.free] = z

    n = 1 if budget.deterministic else max(1, min(workers, len(pieces)))
    threads = [threading.Thread(target=work, daemon=True) for _ in range(n - 1)]
    for t in threads:
        t.start()
    work()
    for t in threads:
        t.join()
    budget.used += spent[0]
    return y
