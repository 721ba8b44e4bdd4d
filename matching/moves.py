"""Ejection chains on a part's rows: cheap local moves between the LNS's CP-SAT neighbourhoods.

On a surge most of what a neighbourhood finds is one more request placed by moving or dropping a
few others at one provider. That is found here in plain Python over the part's rows (about a
tenth of a millisecond a try, where a CP-SAT neighbourhood costs 10-30 ms): a request left out
takes one of its pairs; where the pair's rows lack room, the requests planned in those rows that
free it at the least weight are taken out, and each is put back at another of its providers,
where it fits or by a chain one level down. The move is kept only when the placed weight grows
(or stays and the km shrink).

Once such chains stop gaining, `fill` lets a chain lose weight (up to FILL_WORTH times the request's)
if the room it frees at the providers it took requests out of then takes waiting requests worth
more: a family of one in and a family of two out, then two families of one into the room it left.
On S1000 surges that is 6-11 weight more in under a tenth of a second, where the plain chains had
stalled.
"""

from __future__ import annotations

import time

import numpy as np

DEPTH = 1  # chains re-placing a taken-out request by taking out others, this many levels down
CHAIN_PAIRS = 3  # a taken-out request is chained on to this many of its providers, nearest first
EJECT_FACTOR = 2  # a chain takes out at most this many times the weight it places
FILL_WORTH = 3  # with `fill`, a chain may lose up to this many times the placed request's weight


class Moves:
    """A plan of a part as each row's room left and the planned pairs in it, for trying ejection chains."""

    def __init__(self, ix, x: np.ndarray, depth: int = DEPTH):
        self.ix, self.depth = ix, depth
        order = np.argsort(ix.row_idx, kind="stable")
        self._prow, self._pcoef = ix.entry_row[order], ix.row_coef[order]
        # Rows of a pair and pairs of a row as Python lists, made when first needed: a sweep reads
        # a small share of them, and building all costs more than the sweep.
        self._rows: dict[int, tuple[list[int], list[int]]] = {}
        ends = np.r_[ix.first[1:], ix.n]
        self.gpairs = [range(a, b) for a, b in zip(ix.first.tolist(), ends.tolist())]
        self.group = ix.group_of.tolist()
        self.w = ix.w.tolist()
        self.u = ix.u.tolist()
        self.work = 0  # chain steps tried: a bound on a sweep that does not depend on the clock
        self.fill = False  # fill the room a losing chain frees with waiting requests (see the module doc)
        self.prov = ix.prov.tolist()
        self.ppairs = {int(p): k.tolist() for p, k in ix.prov_pairs.items()}
        self.reset(x)

    def rows(self, k: int) -> tuple[list[int], list[int]]:
        got = self._rows.get(k)
        if got is None:
            a, b = int(self.ix.pr_start[k]), int(self.ix.pr_start[k + 1])
            got = self._rows[k] = (self._prow[a:b].tolist(), self._pcoef[a:b].tolist())
        return got

    def reset(self, x: np.ndarray) -> None:
        ix = self.ix
        x = np.asarray(x, dtype=np.int64)
        used = np.bincount(ix.entry_row, weights=ix.row_coef * x[ix.row_idx], minlength=len(ix.row_rhs))
        self.slack = (ix.row_rhs - np.rint(used).astype(np.int64)).tolist()
        self.cur = [-1] * len(ix.first)
        # the planned pairs of each row with their coefficients (a row holds many candidates, few planned)
        self.inrow: list[dict[int, int]] = [{} for _ in range(len(ix.row_rhs))]
        for k in np.flatnonzero(x).tolist():
            self.cur[self.group[k]] = k
            for r, c in zip(*self.rows(k)):
                self.inrow[r][k] = c

    @property
    def x(self) -> np.ndarray:
        out = np.zeros(self.ix.n, dtype=np.int64)
        chosen = [k for k in self.cur if k >= 0]
        out[chosen] = 1
        return out

    def _fits(self, k: int) -> bool:
        slack = self.slack
        return all(slack[r] >= c for r, c in zip(*self.rows(k)))

    def _apply(self, k: int, sign: int) -> None:
        slack, inrow = self.slack, self.inrow
        for r, c in zip(*self.rows(k)):
            slack[r] -= sign * c
            if sign > 0:
                inrow[r][k] = c
            else:
                del inrow[r][k]
        self.cur[self.group[k]] = k if sign > 0 else -1

    def place(self, k: int) -> bool:
        """Put pair k in if it fits as things stand (its request left out); whether it did."""
        if self.cur[self.group[k]] >= 0 or not self._fits(k):
            return False
        self._apply(k, +1)
        return True

    def try_insert(self, g: int) -> int:
        """Place request g by an ejection chain if that gains weight (or keeps it for fewer km);
        the weight gained (0: nothing changed)."""
        if self.cur[g] >= 0:
            return 0
        best, best_key = None, (0, 0)
        wg = self.w[self.gpairs[g][0]]
        for k in self.gpairs[g]:
            log: list[tuple[int, int]] = []
            lost = self._insert(k, self.depth, set(), log, FILL_WORTH * wg if self.fill else wg)
            if lost is not None:
                gain = wg - lost
                if gain <= 0 and self.fill:
                    gain += self._fill(log)
                key = (gain, -sum(sign * self.u[j] for j, sign in log))
                if key > best_key:
                    best, best_key = list(log), key
            self._undo(log)
        if best is None:
            return 0
        for j, sign in best:
            self._apply(j, sign)
        return best_key[0]

    def _fill(self, log: list[tuple[int, int]]) -> int:
        """Waiting requests put where the chain in `log` took others out, heaviest first, where they
        fit; logged. The weight placed."""
        provs = {self.prov[j] for j, sign in log if sign < 0}
        cur, group, w = self.cur, self.group, self.w
        waiting = sorted({(-w[q], q) for p in provs for q in self.ppairs[p] if cur[group[q]] < 0})
        placed = 0
        for _, q in waiting:
            self.work += 1
            if cur[group[q]] < 0 and self._fits(q):
                self._apply(q, +1)
                log.append((q, +1))
                placed += w[q]
        return placed

    def _undo(self, log: list[tuple[int, int]], to: int = 0) -> None:
        while len(log) > to:
            j, sign = log.pop()
            self._apply(j, -sign)

    def _insert(self, k: int, depth: int, locked: set[int], log: list[tuple[int, int]], worth: int) -> int | None:
        """Put pair k in, taking out the planned requests of its short rows (none of `locked`) and
        putting each back elsewhere, by a shorter chain while `depth` lasts. The weight lost, or
        None when k cannot go in or would lose more than `worth`."""
        self.work += 1
        slack, w = self.slack, self.w
        need = {r: c - slack[r] for r, c in zip(*self.rows(k)) if slack[r] < c}
        ejected: list[int] = []
        if need:
            cover: dict[int, list[tuple[int, int]]] = {}
            for r in need:
                for j, c in self.inrow[r].items():
                    if j not in locked:
                        cover.setdefault(j, []).append((r, c))
            left = dict(need)

            def freed(j: int) -> int:
                return sum(min(c, left[r]) for r, c in cover[j] if left[r] > 0)

            # least weight per unit of shortfall freed first (a greedy cover; the rows are few)
            for j in sorted(cover, key=lambda j: (w[j] / max(freed(j), 1), self.u[j])):
                if freed(j) <= 0:
                    continue
                ejected.append(j)
                for r, c in cover[j]:
                    left[r] -= c
                if all(v <= 0 for v in left.values()):
                    break
            if any(v > 0 for v in left.values()) or sum(w[j] for j in ejected) > EJECT_FACTOR * worth:
                return None
        for j in ejected:
            self._apply(j, -1)
            log.append((j, -1))
        self._apply(k, +1)
        log.append((k, +1))
        locked.add(k)
        lost = 0
        for j in ejected:  # each taken-out request back elsewhere: where it fits, else by a chain
            wj, placed = w[j], False
            for k2 in self.gpairs[self.group[j]]:
                if k2 != j and self._fits(k2):
                    self._apply(k2, +1)
                    log.append((k2, +1))
                    locked.add(k2)
                    placed = True
                    break
            if not placed and depth > 0:
                for k2 in self.gpairs[self.group[j]][:CHAIN_PAIRS]:  # its nearest providers
                    if k2 == j:
                        continue
                    mark = len(log)
                    sub = self._insert(k2, depth - 1, locked, log, wj)
                    if sub is not None and sub < wj:
                        lost += sub
                        placed = True
                        break
                    self._undo(log, mark)
            if not placed:
                lost += wj
            if lost > worth:
                return None
        return lost

    def shorten(self, deadline: float, max_work: int) -> int:
        """Each placed request moved to the nearest of its providers that has room as things stand, if
        nearer than its own; the km units saved. (After a feasibility question has placed requests
        wherever they fit first, this takes back about a third of the extra km in a few milliseconds.)"""
        saved = 0
        for g, k in enumerate(self.cur):
            if k < 0:
                continue
            if time.perf_counter() >= deadline or self.work >= max_work:
                break
            for k2 in self.gpairs[g]:  # nearest first
                if self.u[k2] >= self.u[k]:
                    break
                self.work += 1
                self._apply(k, -1)
                if self._fits(k2):
                    self._apply(k2, +1)
                    saved += self.u[k] - self.u[k2]
                    break
                self._apply(k, +1)
        return saved

    def sweep(self, order: list[int], deadline: float, max_work: int, stop=None) -> int:
        """Try each request of `order` left out once, until the deadline, `max_work` chain steps or
        `stop()`; the weight gained."""
        gained = 0
        for g in order:
            if time.perf_counter() >= deadline or self.work >= max_work or (stop is not None and stop()):
                break
            gained += self.try_insert(g)
        return gained
