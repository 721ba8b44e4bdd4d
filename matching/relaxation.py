"""The LP relaxation of a packing part (HiGHS through highspy) and the bounds its prices prove.

Solved by HiGHS's dual simplex on the part's own rows, by column generation on large parts (each
request's nearest pairs first, then every pair the prices make worth having). Its prices y >= 0
give proven bounds by weak duality, evaluated here over every pair (so neither solver tolerance nor
a column generation stopped early can make them wrong): on the placed weight, and on the km of
any plan placing as much. `Prefetch` solves it in a process of its own (`LpProcess`, or on a thread)
while the caller builds the starts.
"""

from __future__ import annotations

import atexit
import math
import os
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np

from .submodel import PartIndex, _ranges

LP_MAX_COLS = 3000  # larger parts solve the LP by column generation from each request's nearest pairs
LP_MIN_PER_REQUEST = 3
LP_PROCESS = True  # Prefetch sends the LP to the process's LpProcess when it is idle


# ---------------------------------------------------------------------------------------------
# The LP relaxation


@dataclass
class Relaxation:
    """The LP's solution and two certified values of its prices y (weak duality, any y >= 0 will do):
    every plan has w.x <= weight_dual and w.x - eps*u.x <= mixed_dual."""

    values: np.ndarray
    weight_dual: float
    mixed_dual: float
    eps: float
    km_span: int  # the most km units any plan of the part can have
    wall_s: float
    lp: object = None  # the HiGHS model and its rows (or the LpProcess holding them), for km_bound

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


def set_time_left(h, seconds: float) -> None:
    """Let HiGHS's next run take `seconds` more: its time limit is compared with the run time of
    every run of that Highs object so far, not of the next run alone (HiGHS issue #1477). Given the
    seconds left, a column generation's later rounds stopped at once, returning an earlier round's
    LP, and the km bound's run on the LP's model got nothing."""
    h.setOptionValue("time_limit", float(h.getRunTime()) + max(float(seconds), 0.001))


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
        set_time_left(h, deadline - time.perf_counter())
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        sol = h.getSolution()
        y = np.maximum(-np.asarray(sol.row_dual, dtype=float), 0.0)  # a <= row's dual is <= 0 when minimizing
        reduced = cost + np.bincount(fi, weights=fv * y[rows_of], minlength=ix.n)
        last = (cols.copy(), np.asarray(sol.col_value, dtype=float), y)
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
    cols, vals, y = last
    v = np.zeros(ix.n)
    v[cols] = vals
    profit = ix.w.astype(float)
    lw = lagrangian_bound(ix, fs, fi, fv, frhs, y, profit)
    lk = lagrangian_bound(ix, fs, fi, fv, frhs, y, profit - eps * ix.u.astype(float))
    lp_model = (h, cols, full) if len(cols) == h.getNumCol() else None
    return Relaxation(values=v, weight_dual=lw, mixed_dual=lk, eps=eps,
                      km_span=int(ix.umax.sum()), wall_s=time.perf_counter() - t0, lp=lp_model)


def km_bound(ix: PartIndex, relax: Relaxation, weight: int, time_limit_s: float) -> int:
    """Fewest km units of any plan placing `weight` or more: the LP min u.x, w.x >= weight, from the
    first LP's basis, certified over every pair by its prices (y >= 0 on the rows, m >= 0 on the
    weight row): u.x >= -y.b + m*weight + sum_j min(0, u_j + (A'y)_j - m*w_j). 0 if not solved in time."""
    import highspy

    if relax.lp is None or time_limit_s <= 0.005:
        return 0
    if isinstance(relax.lp, _ProcessModel):
        lp, relax.lp = relax.lp, None
        return lp.km_bound(weight, time_limit_s)
    h, cols, (start, index, value, rhs) = relax.lp
    relax.lp = None  # the model changes: it serves once
    set_time_left(h, time_limit_s)
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


@dataclass
class LpPart:
    """What the LP reads of a `PartIndex`: sent to the `LpProcess` (3.6 MB on S1000)."""

    n: int
    first: np.ndarray
    group_of: np.ndarray
    w: np.ndarray
    u: np.ndarray
    umax: np.ndarray
    row_start: np.ndarray
    row_idx: np.ndarray
    row_coef: np.ndarray
    row_rhs: np.ndarray

    @classmethod
    def of(cls, ix: PartIndex) -> "LpPart":
        return cls(**{f: getattr(ix, f) for f in cls.__dataclass_fields__})


class LpProcess:
    """A process of its own that solves parts' LPs (`_serve`), one at a time.

    On a thread the LP shares the interpreter lock with the caller's ejection chains and model
    building, and every hand-over of the lock costs it up to the switch interval (5 ms): on S1000
    the LP took 0.38 s beside them where it takes 0.13 s alone. A forked child per LP does not
    share the lock but costs the parent a copy of every page it writes while the child lives
    (a long-running process got slower solve after solve). So one is started once per process
    (`LpProcess.get`, ~0.5 s of imports, in the background) and kept: a part's LP goes to it when
    it is idle, else to a thread. It keeps the last LP's HiGHS model for `km_bound`."""

    _lock = threading.Lock()
    _current: "LpProcess | None" = None
    _failed = False  # one ended before it was ever ready: this process solves its LPs on threads

    def __init__(self) -> None:
        import socket
        import subprocess
        from multiprocessing.connection import Connection

        mine, theirs = socket.socketpair()
        code = f"from matching.relaxation import _serve; _serve({theirs.fileno()})"
        self.proc = subprocess.Popen([sys.executable, "-c", code],
                                     pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, cwd=os.path.dirname(os.path.dirname(__file__)))
        theirs.close()
        self.conn = Connection(mine.detach())
        self.ready = False
        self.busy = threading.Lock()  # held by the Prefetch using it

    @classmethod
    def get(cls) -> "LpProcess | None":
        """The LP process if it is up and idle (reserved for the caller: `release` it), else None,
        and one is started for the next caller if there is none."""
        if not LP_PROCESS or os.name != "posix" or cls._failed:
            return None
        with cls._lock:
            w = cls._current
            if w is not None and w.proc.poll() is not None and not w.ready:
                cls._failed = True
                return None
            if w is None or w.proc.poll() is not None:
                cls._current = LpProcess()
                return None
            if not w.busy.acquire(blocking=False):
                return None
            try:
                if not w.ready:
                    w.ready = w.conn.poll(0) and w.conn.recv() == "ready"
            except (EOFError, OSError):
                w.ready = False
            if not w.ready:
                w.busy.release()
                return None
            return w

    @classmethod
    def warm(cls, timeout: float = 10.0) -> bool:
        """Start the LP process and wait until it is ready (a benchmark, before it times anything)."""
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            w = cls.get()
            if w is not None:
                w.busy.release()
                return True
            time.sleep(0.02)
        return False

    def release(self) -> None:
        self.busy.release()

    @classmethod
    def _shut_down(cls) -> None:
        """At the parent's exit: the LP process ends and is reaped (not left to whoever adopts it)."""
        w, cls._current = cls._current, None
        if w is not None:
            w.proc.kill()
            w.proc.wait()

    def discard(self) -> None:
        """Ends an LP process whose answer is no longer awaited (it may be mid-solve); the next caller
        starts another."""
        with LpProcess._lock:
            if LpProcess._current is self:
                LpProcess._current = None
        self.proc.kill()
        self.proc.wait()
        self.conn.close()
        self.busy.release()


atexit.register(LpProcess._shut_down)


class Prefetch:
    """A part's LP solved while the caller builds the start, by the `LpProcess` when it is free (or
    on a thread of its own); `cpsat.solve_pairs` starts one for every part that may go to
    `solve_part`. `close` when done with it."""

    def __init__(self, ix: PartIndex, time_limit_s: float):
        self.ix, self.result = ix, None
        self.done = threading.Event()
        self.lp_process = LpProcess.get()
        if self.lp_process is not None:
            try:
                self.lp_process.conn.send(("lp", LpPart.of(ix), time_limit_s))
            except OSError:
                self.lp_process.discard()
                self.lp_process = None
        target = self._receive if self.lp_process is not None else self._run
        self.thread = threading.Thread(target=target, args=(time_limit_s,), daemon=True)
        self.thread.start()

    def _run(self, time_limit_s: float) -> None:
        try:
            self.result = relaxation(self.ix, time_limit_s)
        finally:
            self.done.set()

    def _receive(self, time_limit_s: float) -> None:
        try:
            relax, has_model = self.lp_process.conn.recv()
            if relax is not None and has_model:
                relax.lp = _ProcessModel(self)
            self.result = relax
        except (EOFError, OSError):
            self.result = None
        finally:
            self.done.set()

    def get(self, timeout: float | None) -> Relaxation | None:
        self.done.wait(timeout)
        return self.result if self.done.is_set() else None

    def close(self) -> None:
        """Gives the LP process back (or ends it, if its answer is still to come)."""
        proc, self.lp_process = self.lp_process, None
        if proc is None:
            return
        if self.done.is_set():
            proc.release()
        else:
            proc.discard()


class _ProcessModel:
    """`Relaxation.lp` when the LP's HiGHS model lives in the `LpProcess`."""

    def __init__(self, prefetch: Prefetch):
        self.prefetch = prefetch

    def km_bound(self, weight: int, time_limit_s: float) -> int:
        proc = self.prefetch.lp_process
        if proc is None:
            return 0
        try:
            proc.conn.send(("km", weight, time_limit_s))
            if proc.conn.poll(time_limit_s + 0.1):
                return int(proc.conn.recv())
        except (EOFError, OSError):
            pass
        self.prefetch.lp_process = None  # no answer in time: that process is of no more use
        proc.discard()
        return 0


def _serve(fd: int) -> None:
    """The LP process's loop: an LP (its Relaxation sent back without the model), then km questions
    about the last LP, until the parent closes its end."""
    import signal
    from multiprocessing.connection import Connection

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; its exit ends this loop
    conn = Connection(fd)
    conn.send("ready")
    part = relax = model = None
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "lp":
                _, part, seconds = msg
                relax = relaxation(part, seconds)
                model = None if relax is None else relax.lp
                if relax is not None:
                    relax.lp = None
                conn.send((relax, model is not None))
            else:
                _, weight, seconds = msg
                if relax is not None:
                    relax.lp, model = model, None
                conn.send(0 if relax is None else km_bound(part, relax, weight, seconds))
    except (EOFError, OSError):  # the parent closed its end, or exited
        return
