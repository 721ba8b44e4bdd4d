"""Candidate pairs: which providers could take which request, and why every other one cannot.

The problem is turned into columns (numpy arrays) once; a grid index finds the providers whose
service radius covers each request; then every hard rule that depends on one pair only (exclusion,
age, skill, language, opening hours, caregiver notice, household size, room left by existing
commitments and fixed assignments) is checked elementwise. The first failing rule is kept per pair
so explanations can count them. Feasible pairs, nearest first and optionally cut to the k nearest
per request, are the flat arrays the CP-SAT model is built from.
"""

from __future__ import annotations

import itertools
import math
import operator
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

from .distance import EARTH_RADIUS_KM, GreatCircle, haversine_km
from .types import Problem, Provider, Request

# Funnel order: a provider counts under the first rule it fails.
REASONS = ("excluded", "age", "skill", "language", "closed", "lead_time", "too_many_children", "full", "busy")
R_EXCLUDED, R_AGE, R_SKILL, R_LANGUAGE, R_CLOSED, R_LEAD, R_TOO_MANY, R_FULL, R_BUSY = range(len(REASONS))
FEASIBLE = len(REASONS)
KM_UNIT = 100  # the objective counts distance in units of 10 m
DEFAULT_MAX_CANDIDATES = 12


def km_units(km: np.ndarray | float) -> np.ndarray:
    return np.rint(np.asarray(km, dtype=float) * KM_UNIT).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Columns


@dataclass
class ProviderTable:
    providers: Sequence[Provider]
    ids: list[str]
    index: dict[str, int]
    lat: np.ndarray
    lon: np.ndarray
    radius: np.ndarray
    caregiver: np.ndarray  # bool
    cap: np.ndarray
    min_age: np.ndarray
    max_age: np.ndarray
    skill_bits: dict[str, int]
    skill_mask: np.ndarray
    lang_bits: dict[str, int]
    lang_mask: np.ndarray
    av_start: np.ndarray  # (P, A), padded with empty intervals
    av_end: np.ndarray
    # the providers' own commitments, one row each
    com_prov: np.ndarray
    com_start: np.ndarray
    com_end: np.ndarray
    com_children: np.ndarray
    com_lat: np.ndarray
    com_lon: np.ndarray
    # grid index over providers
    cell_km: float
    x_scale: float
    y_scale: float
    cell_keys: np.ndarray  # sorted
    cell_order: np.ndarray  # provider indices in cell_keys order

    def __len__(self) -> int:
        return len(self.ids)


_table_cache: list[tuple[tuple[Provider, ...], ProviderTable]] = []


def _same_objects(a: Sequence, b: Sequence) -> bool:
    """The same objects in the same order (requests and providers are frozen, so equal content)."""
    return len(a) == len(b) and all(map(operator.is_, a, b))


def provider_table(providers: Sequence[Provider]) -> ProviderTable:
    """Columns for the providers; the last table is reused when the same provider objects are passed.

    The key is a snapshot of the provider objects, not the sequence: a list changed in place (a
    provider added, replaced by one with new commitments) is a different key and gets a new table.
    """
    for snap, table in _table_cache:
        if _same_objects(snap, providers):
            return table
    table = _build_provider_table(providers)
    _table_cache[:] = [(tuple(providers), table)]
    return table


def _bits(vocab: Iterable[str]) -> dict[str, int]:
    names = sorted(set(vocab))
    if len(names) > 62:
        raise ValueError("more than 62 distinct skills or languages")
    return {name: 1 << i for i, name in enumerate(names)}


def _mask(names: Iterable[str], bits: Mapping[str, int]) -> int:
    m = 0
    for n in names:
        m |= bits.get(n, 0)
    return m


def _build_provider_table(providers: Sequence[Provider]) -> ProviderTable:
    P = len(providers)
    ids = [p.id for p in providers]
    index = {pid: i for i, pid in enumerate(ids)}
    if len(index) != P:
        raise ValueError("duplicate provider ids")
    lat = np.fromiter((p.location.lat for p in providers), float, P)
    lon = np.fromiter((p.location.lon for p in providers), float, P)
    skill_bits = _bits(s for p in providers for s in p.skills)
    lang_bits = _bits(s for p in providers for s in p.languages)
    A = max((len(p.availability) for p in providers), default=1) or 1
    av_start = np.full((P, A), np.iinfo(np.int64).max, dtype=np.int64)
    av_end = np.full((P, A), np.iinfo(np.int64).min, dtype=np.int64)
    for i, p in enumerate(providers):
        for j, iv in enumerate(p.availability):
            av_start[i, j] = iv.start
            av_end[i, j] = iv.end
    coms = [(i, c) for i, p in enumerate(providers) for c in p.commitments]
    radius = np.fromiter((p.radius_km for p in providers), float, P)

    # Grid in km; the x scale uses the highest latitude any in-radius point can have, so projected
    # distances never exceed true ones and the 3x3 neighbourhood of cells cannot miss a provider.
    cell_km = max(float(radius.max(initial=1.0)), 0.5) * 1.02
    top_lat = min(float(np.abs(lat).max(initial=0.0)) + cell_km / 110.0, 89.0)
    x_scale = 111.32 * math.cos(math.radians(top_lat))
    y_scale = 110.5
    keys = _cell_keys(lat, lon, cell_km, x_scale, y_scale)
    order = np.argsort(keys, kind="stable")

    return ProviderTable(
        providers=providers,
        ids=ids,
        index=index,
        lat=lat,
        lon=lon,
        radius=radius,
        caregiver=np.fromiter((p.kind == "caregiver" for p in providers), bool, P),
        cap=np.fromiter((p.capacity for p in providers), np.int64, P),
        min_age=np.fromiter((p.min_age for p in providers), np.int64, P),
        max_age=np.fromiter((p.max_age for p in providers), np.int64, P),
        skill_bits=skill_bits,
        skill_mask=np.fromiter((_mask(p.skills, skill_bits) for p in providers), np.int64, P),
        lang_bits=lang_bits,
        lang_mask=np.fromiter((_mask(p.languages, lang_bits) for p in providers), np.int64, P),
        av_start=av_start,
        av_end=av_end,
        com_prov=np.fromiter((i for i, _ in coms), np.int64, len(coms)),
        com_start=np.fromiter((c.start for _, c in coms), np.int64, len(coms)),
        com_end=np.fromiter((c.end for _, c in coms), np.int64, len(coms)),
        com_children=np.fromiter((c.children for _, c in coms), np.int64, len(coms)),
        com_lat=np.fromiter(((c.location or providers[i].location).lat for i, c in coms), float, len(coms)),
        com_lon=np.fromiter(((c.location or providers[i].location).lon for i, c in coms), float, len(coms)),
        cell_km=cell_km,
        x_scale=x_scale,
        y_scale=y_scale,
        cell_keys=keys[order],
        cell_order=order,
    )


def _cell_keys(lat, lon, cell_km, x_scale, y_scale) -> np.ndarray:
    cx = np.floor(np.asarray(lon) * x_scale / cell_km).astype(np.int64)
    cy = np.floor(np.asarray(lat) * y_scale / cell_km).astype(np.int64)
    return ((cx + (1 << 24)) << 26) + (cy + (1 << 24))


@dataclass
class RequestTable:
    requests: Sequence[Request]
    ids: list[str]
    index: dict[str, int]
    lat: np.ndarray
    lon: np.ndarray
    start: np.ndarray
    end: np.ndarray
    children: np.ndarray
    min_age: np.ndarray
    max_age: np.ndarray
    need_mask: np.ndarray
    need_unknown: np.ndarray  # a need no provider has at all
    lang_bit: np.ndarray  # 0 when no provider speaks it
    priority: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


_RT_COLUMNS = (("lat", float), ("lon", float), ("start", np.int64), ("end", np.int64), ("children", np.int64),
               ("min_age", np.int64), ("max_age", np.int64), ("need_mask", np.int64), ("need_unknown", bool),
               ("lang_bit", np.int64), ("priority", np.int64))
_rt_cache: list[tuple[ProviderTable, tuple[Request, ...], RequestTable]] = []


def _request_columns(requests: Sequence[Request], pt: ProviderTable) -> dict[str, np.ndarray]:
    R = len(requests)
    return dict(
        lat=np.fromiter((r.location.lat for r in requests), float, R),
        lon=np.fromiter((r.location.lon for r in requests), float, R),
        start=np.fromiter((r.start for r in requests), np.int64, R),
        end=np.fromiter((r.end for r in requests), np.int64, R),
        children=np.fromiter((len(r.child_ages) for r in requests), np.int64, R),
        min_age=np.fromiter((min(r.child_ages) for r in requests), np.int64, R),
        max_age=np.fromiter((max(r.child_ages) for r in requests), np.int64, R),
        need_mask=np.fromiter((_mask(r.needs, pt.skill_bits) for r in requests), np.int64, R),
        need_unknown=np.fromiter((any(n not in pt.skill_bits for n in r.needs) for r in requests), bool, R),
        lang_bit=np.fromiter((pt.lang_bits.get(r.language, 0) for r in requests), np.int64, R),
        priority=np.fromiter((r.priority for r in requests), np.int64, R),
    )


def request_table(requests: Sequence[Request], pt: ProviderTable) -> RequestTable:
    """Columns for the requests (their skill and language bits depend on `pt`).

    The last table is kept: the same request objects against the same provider table reuse it, and
    when the new sequence only appends requests to the last one (a new call during the day) only the
    new rows are built. Anything else (a request removed, replaced or reordered; other providers)
    builds the table from scratch. The cached arrays are never written to.
    """
    snap = tuple(requests)
    if _rt_cache:
        cpt, csnap, ct = _rt_cache[0]
        n = len(csnap)
        if cpt is pt and len(snap) >= n and all(map(operator.is_, csnap, snap)):
            if len(snap) == n:
                return ct
            tail = snap[n:]
            tail_ids = [r.id for r in tail]
            if len(set(tail_ids)) == len(tail_ids) and not any(i in ct.index for i in tail_ids):
                cols = _request_columns(tail, pt)
                index = dict(ct.index)
                index.update((rid, n + i) for i, rid in enumerate(tail_ids))
                table = RequestTable(requests=requests, ids=ct.ids + tail_ids, index=index,
                                     **{k: np.concatenate([getattr(ct, k), cols[k]]) for k, _ in _RT_COLUMNS})
                _rt_cache[:] = [(pt, snap, table)]
                return table
    R = len(requests)
    ids = [r.id for r in requests]
    index = {rid: i for i, rid in enumerate(ids)}
    if len(index) != R:
        raise ValueError("duplicate request ids")
    table = RequestTable(requests=requests, ids=ids, index=index, **_request_columns(requests, pt))
    _rt_cache[:] = [(pt, snap, table)]
    return table


# ---------------------------------------------------------------------------------------------
# Load already on each provider: its commitments plus assignments that are taken as given


@dataclass
class LoadIndex:
    """Items (start, end, children, location) per provider, sorted by provider, with offsets.

    For facilities also the step function of children present: disjoint segments with their load.
    """

    offs: np.ndarray
    start: np.ndarray
    end: np.ndarray
    children: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    seg_offs: np.ndarray
    seg_start: np.ndarray
    seg_end: np.ndarray
    seg_load: np.ndarray


def load_index(P: int, prov, start, end, children, lat, lon) -> LoadIndex:
    prov = np.asarray(prov, dtype=np.int64)
    order = np.argsort(prov, kind="stable")
    offs = np.searchsorted(prov[order], np.arange(P + 1))
    # Step function: sweep start/end events per provider; ends before starts at equal times.
    ev_prov = np.concatenate([prov, prov])
    ev_t = np.concatenate([start, end]).astype(np.int64)
    ev_d = np.concatenate([children, -np.asarray(children)]).astype(np.int64)
    ev = np.lexsort((ev_d, ev_t, ev_prov))
    ev_prov, ev_t, ev_d = ev_prov[ev], ev_t[ev], ev_d[ev]
    level = np.cumsum(ev_d)  # each provider's events sum to zero, so a global cumsum is per provider
    same = ev_prov[:-1] == ev_prov[1:]
    keep = same & (ev_t[:-1] < ev_t[1:]) & (level[:-1] > 0)
    seg_prov = ev_prov[:-1][keep]
    return LoadIndex(
        offs=offs,
        start=np.asarray(start, dtype=np.int64)[order],
        end=np.asarray(end, dtype=np.int64)[order],
        children=np.asarray(children, dtype=np.int64)[order],
        lat=np.asarray(lat, dtype=float)[order],
        lon=np.asarray(lon, dtype=float)[order],
        seg_offs=np.searchsorted(seg_prov, np.arange(P + 1)),
        seg_start=ev_t[:-1][keep],
        seg_end=ev_t[1:][keep],
        seg_load=level[:-1][keep],
    )


def index_pairs(rt: RequestTable, pt: ProviderTable, assignments: Mapping[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """(request row, provider row) of each assignment whose request and provider are in the tables, in order."""
    n = len(assignments)
    ri = np.fromiter(map(rt.index.get, assignments.keys(), itertools.repeat(-1)), np.int64, n)
    pi = np.fromiter(map(pt.index.get, assignments.values(), itertools.repeat(-1)), np.int64, n)
    ok = (ri >= 0) & (pi >= 0)
    return ri[ok], pi[ok]


def base_loads(problem: Problem, pt: ProviderTable, rt: RequestTable, assignments: Mapping[str, str],
               only: np.ndarray | None = None) -> LoadIndex:
    """Commitments plus the given assignments (e.g. fixed ones) as load.

    `only` (a flag per provider row) leaves every other provider's load out: for callers that read
    no other provider.
    """
    ri, pi = index_pairs(rt, pt, assignments)
    cm = slice(None)
    if only is not None:
        cm = only[pt.com_prov]
        keep = only[pi]
        pi, ri = pi[keep], ri[keep]
    return load_index(
        len(pt),
        np.concatenate([pt.com_prov[cm], pi]),
        np.concatenate([pt.com_start[cm], rt.start[ri]]),
        np.concatenate([pt.com_end[cm], rt.end[ri]]),
        np.concatenate([pt.com_children[cm], rt.children[ri]]),
        np.concatenate([pt.com_lat[cm], rt.lat[ri]]),
        np.concatenate([pt.com_lon[cm], rt.lon[ri]]),
    )


# Explanations look this far for a provider whose wider radius would place a request.
WIDEN_MAX_KM = 30.0
# Up to this many request rows, a candidate set built for some rows only carries the load of the
# providers those rows can reach (radius or WIDEN_MAX_KM, plus a margin): all any reader looks at.
LOCAL_LOAD_ROWS = 64


def _expand(offs: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each row with owner o, the range offs[o]:offs[o+1]: (row of each item, item index, counts)."""
    cnt = offs[owner + 1] - offs[owner]
    total = int(cnt.sum())
    rows = np.repeat(np.arange(len(owner)), cnt)
    first = np.cumsum(cnt) - cnt
    items = np.repeat(offs[owner] - first, cnt) + np.arange(total)
    return rows, items, cnt


def max_load(loads: LoadIndex, prov: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Largest number of children already present at each provider during [start, end)."""
    out = np.zeros(len(prov), dtype=np.int64)
    if len(prov) == 0:
        return out
    rows, seg, cnt = _expand(loads.seg_offs, prov)
    if len(rows) == 0:
        return out
    hit = (loads.seg_start[seg] < end[rows]) & (start[rows] < loads.seg_end[seg])
    vals = np.where(hit, loads.seg_load[seg], 0)
    nz = cnt > 0
    out[nz] = np.maximum.reduceat(vals, (np.cumsum(cnt) - cnt)[nz])
    return out


def visit_conflict(loads: LoadIndex, prov, start, end, lat, lon, travel) -> np.ndarray:
    """True where a caregiver's existing visit overlaps [start, end) or leaves too little travel time."""
    out = np.zeros(len(prov), dtype=bool)
    if len(prov) == 0:
        return out
    rows, it, cnt = _expand(loads.offs, prov)
    if len(rows) == 0:
        return out
    to_item = travel.travel_min(lat[rows], lon[rows], loads.lat[it], loads.lon[it])
    from_item = travel.travel_min(loads.lat[it], loads.lon[it], lat[rows], lon[rows])
    ok = (end[rows] + to_item <= loads.start[it]) | (loads.end[it] + from_item <= start[rows])
    np.logical_or.at(out, rows[~ok], True)
    return out


# ---------------------------------------------------------------------------------------------
# Pairs


def pairs_in_radius(pt: ProviderTable, lat: np.ndarray, lon: np.ndarray, use_grid: bool = True):
    """(request row, provider row, straight km) for every provider whose radius covers the point."""
    R, P = len(lat), len(pt)
    if R == 0 or P == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0)
    if use_grid:
        keys = _cell_keys(lat, lon, pt.cell_km, pt.x_scale, pt.y_scale)
        offsets = np.array([(dx << 26) + dy for dx in (-1, 0, 1) for dy in (-1, 0, 1)], dtype=np.int64)
        q = (keys[:, None] + offsets[None, :]).ravel()
        lo = np.searchsorted(pt.cell_keys, q, "left")
        hi = np.searchsorted(pt.cell_keys, q, "right")
        cnt = hi - lo
        ri = np.repeat(np.repeat(np.arange(R), 9), cnt)
        first = np.cumsum(cnt) - cnt
        pi = pt.cell_order[np.repeat(lo - first, cnt) + np.arange(int(cnt.sum()))]
    else:
        ri = np.repeat(np.arange(R), P)
        pi = np.tile(np.arange(P), R)
    # Within a radius the grid's projection is within a fraction of a percent of the true distance:
    # a cheap first filter (1 % slack) before the haversine.
    dx = (lon[ri] - pt.lon[pi]) * pt.x_scale
    dy = (lat[ri] - pt.lat[pi]) * pt.y_scale
    near = dx * dx + dy * dy <= (pt.radius[pi] * 1.01 + 1e-6) ** 2
    ri, pi = ri[near], pi[near]
    d = haversine_km(lat[ri], lon[ri], pt.lat[pi], pt.lon[pi])
    ok = d <= pt.radius[pi]
    return ri[ok], pi[ok], d[ok]


def nearest_pairs(ri: np.ndarray, straight: np.ndarray, n: int) -> np.ndarray:
    """Per in-radius pair: whether it is among its request's `n` nearest by straight km (every pair at the
    n-th distance included, so that the set does not depend on the pairs' order)."""
    keep = np.ones(len(ri), dtype=bool)
    if len(ri) <= n:
        return keep
    order = np.argsort(ri, kind="stable")  # pairs_in_radius gives them grouped by request: one cheap pass
    rs = ri[order]
    bounds = np.flatnonzero(np.r_[True, rs[1:] != rs[:-1], True]).tolist()
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b - a > n:
            at = order[a:b]
            d = straight[at]
            keep[at] = d <= np.partition(d, n - 1)[n - 1]
    return keep


def classify(problem: Problem, pt: ProviderTable, rt: RequestTable, ri, pi, loads: LoadIndex,
             start=None, end=None) -> np.ndarray:
    """First failing rule per pair (index into REASONS), FEASIBLE when all pass.

    `start`/`end` override the requests' windows (used to test shifted windows).
    """
    n = len(ri)
    reason = np.full(n, FEASIBLE, dtype=np.int8)
    if n == 0:
        return reason
    rs = rt.start[ri] if start is None else np.asarray(start, dtype=np.int64)
    re = rt.end[ri] if end is None else np.asarray(end, dtype=np.int64)

    def mark(code: int, fails: np.ndarray) -> None:
        reason[(reason == FEASIBLE) & fails] = code

    if problem.exclude:
        P = len(pt)
        ex = [rt.index[r] * P + pt.index[p] for r, p in problem.exclude if r in rt.index and p in pt.index]
        if ex:
            mark(R_EXCLUDED, np.isin(ri * P + pi, np.asarray(ex, dtype=np.int64)))
    mark(R_AGE, (rt.min_age[ri] < pt.min_age[pi]) | (rt.max_age[ri] > pt.max_age[pi]))
    mark(R_SKILL, ((rt.need_mask[ri] & ~pt.skill_mask[pi]) != 0) | rt.need_unknown[ri])
    mark(R_LANGUAGE, (pt.lang_mask[pi] & rt.lang_bit[ri]) == 0)
    inside = (pt.av_start[pi] <= rs[:, None]) & (re[:, None] <= pt.av_end[pi])
    mark(R_CLOSED, ~inside.any(axis=1))
    mark(R_LEAD, pt.caregiver[pi] & (rs - problem.now < problem.caregiver_lead_min))
    mark(R_TOO_MANY, rt.children[ri] > pt.cap[pi])

    care = pt.caregiver[pi]
    todo = np.flatnonzero((reason == FEASIBLE) & ~care)
    if len(todo):
        used = max_load(loads, pi[todo], rs[todo], re[todo])
        reason[todo[rt.children[ri[todo]] + used > pt.cap[pi[todo]]]] = R_FULL
    todo = np.flatnonzero((reason == FEASIBLE) & care)
    if len(todo):
        r = ri[todo]
        busy = visit_conflict(loads, pi[todo], rs[todo], re[todo], rt.lat[r], rt.lon[r], problem.travel)
        reason[todo[busy]] = R_BUSY
    return reason


@dataclass
class CandidateSet:
    """In-radius pairs with their first failing rule (for explanations) and the model's pairs."""

    problem: Problem
    pt: ProviderTable
    rt: RequestTable
    loads: LoadIndex  # commitments + fixed assignments (built for some rows: only the providers they reach)
    decide: np.ndarray  # per request: left to the solver (not fixed)
    # every in-radius pair, grouped by request, nearest (road km) first
    all_ri: np.ndarray
    all_pi: np.ndarray
    all_straight: np.ndarray
    all_km: np.ndarray
    all_min: np.ndarray
    all_reason: np.ndarray
    all_offs: np.ndarray
    # the model's pairs: feasible, for decided requests, grouped by request, nearest first
    ri: np.ndarray
    pi: np.ndarray
    km: np.ndarray
    units: np.ndarray  # km in KM_UNIT
    travel_min: np.ndarray
    shortcut: np.ndarray | None = None  # per request row: a kept provider free for it, or -1 (see _safe_cut)
    in_radius: np.ndarray | None = None  # per request row: pairs in radius before `problem.nearest`'s cut

    def pairs_of(self, r: int) -> slice:
        return slice(self.all_offs[r], self.all_offs[r + 1])


def build_candidates(problem: Problem, *, prune: bool = True, max_per_request: int | None = DEFAULT_MAX_CANDIDATES,
                     requests: np.ndarray | None = None, extra_load: Mapping[str, str] | None = None) -> CandidateSet:
    """Candidate pairs for the problem.

    prune=True finds in-radius providers through the grid index and keeps the `max_per_request`
    nearest feasible ones per request where that is provably safe (else all, see `_safe_cut`);
    prune=False checks every provider and keeps all feasible.
    `requests` limits the work to those request rows; `extra_load` adds assignments taken as given.
    """
    pt = provider_table(problem.providers)
    rt = request_table(problem.requests, pt)
    given = dict(problem.fixed)
    if extra_load:
        given.update(extra_load)
    for r, p in given.items():
        if p not in pt.index:
            raise ValueError(f"assignment {r} -> unknown provider {p}")
    rows = np.arange(len(rt)) if requests is None else np.asarray(requests, dtype=np.int64)
    near = None
    if requests is not None and len(rows) <= LOCAL_LOAD_ROWS and len(pt) > 4 * LOCAL_LOAD_ROWS:
        reach = max(float(pt.radius.max()), WIDEN_MAX_KM) + 1.0
        near = np.zeros(len(pt), dtype=bool)
        for r in rows.tolist():
            near |= haversine_km(rt.lat[r], rt.lon[r], pt.lat, pt.lon) <= reach
    loads = base_loads(problem, pt, rt, given, only=near)
    decide = np.ones(len(rt), dtype=bool)
    for r in given:
        if r in rt.index:
            decide[rt.index[r]] = False

    ri, pi, straight = pairs_in_radius(pt, rt.lat[rows], rt.lon[rows], use_grid=prune)
    in_radius = None
    if problem.nearest is not None:  # counted here, where the pairs are at hand, for the explanations
        in_radius = np.bincount(rows[ri], minlength=len(rt))
        near_only = nearest_pairs(ri, straight, problem.nearest)
        ri, pi, straight = ri[near_only], pi[near_only], straight[near_only]
    ri = rows[ri]
    travel = problem.travel
    if isinstance(travel, GreatCircle):  # the same figures as its road_km / travel_min, without a second haversine
        km = straight * travel.road_factor
    else:
        km = travel.road_km(rt.lat[ri], rt.lon[ri], pt.lat[pi], pt.lon[pi])
    order = np.lexsort((pi, km, ri))
    ri, pi, straight, km = ri[order], pi[order], straight[order], km[order]
    if isinstance(travel, GreatCircle):
        tmin = np.ceil(km / travel.speed_kmh * 60.0 - 1e-9).astype(np.int64)
    else:
        tmin = travel.travel_min(rt.lat[ri], rt.lon[ri], pt.lat[pi], pt.lon[pi])
    reason = classify(problem, pt, rt, ri, pi, loads)
    offs = np.searchsorted(ri, np.arange(len(rt) + 1))

    ok = np.flatnonzero((reason == FEASIBLE) & decide[ri])
    shortcut = np.full(len(rt), -1, dtype=np.int64)
    if prune and max_per_request is not None and len(ok):
        ok, shortcut = _safe_cut(problem, pt, rt, loads, ri, pi, km, ok, max_per_request)
    return CandidateSet(
        problem=problem, pt=pt, rt=rt, loads=loads, decide=decide,
        all_ri=ri, all_pi=pi, all_straight=straight, all_km=km, all_min=tmin, all_reason=reason, all_offs=offs,
        ri=ri[ok], pi=pi[ok], km=km[ok], units=km_units(km[ok]), travel_min=tmin[ok], shortcut=shortcut,
        in_radius=in_radius,
    )


def _safe_cut(problem: Problem, pt: ProviderTable, rt: RequestTable, loads: LoadIndex, ri, pi, km, ok, k: int):
    """Keep the k nearest feasible pairs of a request only where that provably loses nothing.

    A request's far pairs are dropped only if one of its kept providers is *free* for it (it has
    room for the request whatever else is placed, every feasible pair counted at once) and strictly
    nearer, in objective units, than every dropped one. Then any plan using a dropped pair is beaten
    by moving that request to the free provider (same placements, fewer km), so the optimum of the
    cut model is the optimum of the whole problem at every level and its bounds hold for both.
    Other requests keep all their feasible pairs. Returns (kept pair indices, free provider row
    per request row or -1) — the latter maps any plan of the whole problem into the cut model.
    """
    r = ri[ok]
    first = np.r_[0, np.flatnonzero(r[1:] != r[:-1]) + 1]
    rank = np.arange(len(ok)) - np.repeat(first, np.diff(np.r_[first, len(ok)]))
    keep = rank < k
    shortcut = np.full(len(rt), -1, dtype=np.int64)
    if keep.all():
        return ok, shortcut
    free = free_pairs(problem, pt, rt, loads, r, pi[ok])
    u = km_units(km[ok])
    cut_u = np.full(len(rt), np.iinfo(np.int64).max)
    np.minimum.at(cut_u, r[~keep], u[~keep])
    good = keep & free & (u < cut_u[r])
    # nearest good pair per request (pairs are sorted nearest first within a request)
    g = np.flatnonzero(good)
    rows, at = np.unique(r[g], return_index=True)
    shortcut[rows] = pi[ok][g[at]]
    cut_rows = np.unique(r[~keep])
    widen = np.isin(r, cut_rows[shortcut[cut_rows] < 0])
    return ok[keep | widen], shortcut


def free_pairs(problem: Problem, pt: ProviderTable, rt: RequestTable, loads: LoadIndex, ri, pi) -> np.ndarray:
    """Per pair of the full feasible set (ri, pi): whether the provider can take that request no
    matter which of the other pairs are chosen. Facilities: committed peak over the window plus every
    candidate child overlapping it fits. Caregivers (straight-line travel only): no other candidate
    within the longest travel time inside the radius of the window."""
    n = len(ri)
    out = np.zeros(n, dtype=bool)
    if n == 0:
        return out
    s, e, c = rt.start[ri], rt.end[ri], rt.children[ri]
    t0 = int(min(s.min(), e.min())) - 10**6
    span = int(max(s.max(), e.max())) - t0 + 10**6 + 1

    def count_before(times, weights, q, t, inclusive):
        """Per query (q, t): sum of weights of pairs at provider q with time < t (<= if inclusive)."""
        key = pi * span + (times - t0)
        order = np.argsort(key, kind="stable")
        csum = np.r_[0, np.cumsum(weights[order])]
        qkey = q * span + (np.clip(t, t0, t0 + span - 1) - t0)
        pos = np.searchsorted(key[order], qkey, "right" if inclusive else "left")
        low = np.searchsorted(key[order], q * span, "left")
        return csum[pos] - csum[low]

    fac = ~pt.caregiver[pi]
    if fac.any():
        f = np.flatnonzero(fac)
        overlap = count_before(s, c, pi[f], e[f], False) - count_before(e, c, pi[f], s[f], True)
        peak = max_load(loads, pi[f], s[f], e[f])
        out[f] = peak + overlap <= pt.cap[pi[f]]
    travel = problem.travel
    if (~fac).any() and isinstance(travel, GreatCircle):
        g = np.flatnonzero(~fac)
        reach = np.ceil(2 * pt.radius[pi[g]] * travel.road_factor / travel.speed_kmh * 60.0).astype(np.int64) + 1
        ones = np.ones(n, dtype=np.int64)
        near = count_before(s, ones, pi[g], e[g] + reach, False) - count_before(e, ones, pi[g], s[g] - reach, True)
        out[g] = near <= 1
    return out


# ---------------------------------------------------------------------------------------------
# Scalar room check, for one pair against a list of items (greedy, incremental, explanations)


def _scalar_minutes(travel):
    """Plain-float travel minutes for GreatCircle (numpy on scalars costs ~10 us a call); None otherwise."""
    if not isinstance(travel, GreatCircle):
        return None
    f, v = travel.road_factor, travel.speed_kmh

    def minutes(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> int:
        p1, p2 = math.radians(a_lat), math.radians(b_lat)
        h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b_lon - a_lon) / 2) ** 2
        km = 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(h, 1.0))) * f
        return math.ceil(km / v * 60.0 - 1e-9)

    return minutes


def room_ok(provider: Provider, start: int, end: int, children: int, loc_lat: float, loc_lon: float,
            items: Sequence[tuple[int, int, int, float, float]], travel) -> bool:
    """Whether the provider has room for the window given items (start, end, children, lat, lon)."""
    if children > provider.capacity:
        return False
    if provider.kind != "facility":
        return busy_span(provider, start, end, children, loc_lat, loc_lon, items, travel) is None
    room = provider.capacity - children
    inside = [it for it in items if it[0] < end and start < it[1]]
    if sum(it[2] for it in inside) <= room:  # fits even if all overlap at once
        return True
    # The load only rises where an item starts: the window's peak is at its start or at one of those.
    for t in {start} | {it[0] for it in inside if it[0] > start}:
        if sum(it[2] for it in inside if it[0] <= t < it[1]) > room:
            return False
    return True


def busy_span(provider: Provider, start: int, end: int, children: int, loc_lat: float, loc_lon: float,
              items: Sequence[tuple[int, int, int, float, float]], travel) -> tuple[int, int] | None:
    """None if there is room, else the first span of the window [a, b) where there is not."""
    if children > provider.capacity:
        return (start, end)
    if provider.kind == "facility":
        inside = [it for it in items if it[0] < end and start < it[1]]
        if sum(it[2] for it in inside) + children <= provider.capacity:  # fits even if all overlap at once
            return None
        pts = sorted({start, end} | {t for it in inside for t in (it[0], it[1]) if start < t < end})
        over: list[tuple[int, int]] = []
        for a, b in zip(pts, pts[1:]):
            load = sum(it[2] for it in inside if it[0] <= a < it[1])
            if load + children > provider.capacity:
                if over and over[-1][1] == a:
                    over[-1] = (over[-1][0], b)
                else:
                    over.append((a, b))
        return over[0] if over else None
    minutes = _scalar_minutes(travel)
    for it_start, it_end, _, lat, lon in items:
        to_it = minutes(loc_lat, loc_lon, lat, lon) if minutes else int(travel.travel_min(loc_lat, loc_lon, lat, lon))
        from_it = minutes(lat, lon, loc_lat, loc_lon) if minutes else int(travel.travel_min(lat, lon, loc_lat, loc_lon))
        if not (end + to_it <= it_start or it_end + from_it <= start):
            return (max(start, it_start - to_it), min(end, it_end + from_it))
    return None


_com_items_cache: list[tuple[ProviderTable, dict[int, tuple]]] = []


def _commitment_items(pt: ProviderTable) -> dict[int, tuple]:
    """The providers' own commitments as scalar items per provider row (kept for the last table)."""
    for table, com in _com_items_cache:
        if table is pt:
            return com
    com: dict[int, list] = {}
    for row in zip(pt.com_prov.tolist(), pt.com_start.tolist(), pt.com_end.tolist(), pt.com_children.tolist(),
                   pt.com_lat.tolist(), pt.com_lon.tolist()):
        com.setdefault(row[0], []).append(row[1:])
    frozen = {p: tuple(c) for p, c in com.items()}
    _com_items_cache[:] = [(pt, frozen)]
    return frozen


def provider_items(problem: Problem, pt: ProviderTable, assignments: Mapping[str, str],
                   requests: Mapping[str, Request]) -> dict[int, list[tuple[int, int, int, float, float]]]:
    """Per provider row: its commitments plus the given assignments, as scalar items."""
    items: dict[int, list[tuple[int, int, int, float, float]]] = {p: list(c) for p, c in _commitment_items(pt).items()}
    for rid, pid in assignments.items():
        r = requests.get(rid)
        if r is None or pid not in pt.index:
            continue
        items.setdefault(pt.index[pid], []).append((r.start, r.end, len(r.child_ages), r.location.lat, r.location.lon))
    return items


def linked_groups(a: np.ndarray, b: np.ndarray, nodes: int) -> list[np.ndarray]:
    """Positions of the edges (a[i], b[i]) grouped by the connected part of the graph on `nodes` they lie in,
    each group sorted: requests and providers that share no pair can be solved apart."""
    label = np.arange(nodes)
    while True:  # min-label propagation with pointer jumping: O(log n) rounds of vector work
        m = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, m)
        np.minimum.at(new, b, m)
        new = new[new]
        if np.array_equal(new, label):
            break
        label = new
    roots = label[a]
    order = np.argsort(roots, kind="stable")
    return [np.sort(g) for g in np.split(order, np.flatnonzero(np.diff(roots[order])) + 1)]
