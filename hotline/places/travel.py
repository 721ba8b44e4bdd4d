"""Road travel from an OSRM-compatible `table` service, when one is configured (DOLBOM_TRAVEL_URL).

The matcher measures a service radius as the crow flies and everything else (the km an explanation and an
offer show, the minutes a visiting caregiver needs between two homes) with a travel model. The default is
the great circle times a road factor at a city speed. With a routing service configured, the pairs a
problem measures are asked of its `GET /table/v1/driving/{lon,lat;…}?sources=…&destinations=…
&annotations=duration,distance` and put into `matching.MatrixTravel`; the pairs it did not answer keep the
great circle. Only coordinates are sent (rounded to ~1 m), never who is there.

A failure — a timeout, a refused connection, a non-200, an answer that does not read — is never the
caller's problem: the pairs fall back to the great circle, the outage is logged once (and its end once),
and the service is left alone for `retry_after_s` so that calls taken meanwhile do not each wait for the
timeout. Answers are kept per process (one `RoadTable` per URL), a pair of points is asked once, and the
cache is bounded (least recently used pairs go first); one call asks for at most `budget_s` (a cold cache
fills over a few calls), so no intake waits long whatever the size of its problem."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from functools import lru_cache
from typing import Callable, Iterable, Sequence

import httpx
import numpy as np

import matching

log = logging.getLogger("dolbom.travel")

Key = tuple[float, float]  # (lat, lon) as sent
Pair = tuple[Key, Key]  # from, to
Figures = tuple[float, int]  # road km, minutes (rounded up)

# ~1 m: a road network needs no more, and a family's position should not leave with more precision than it needs
DECIMALS = 5
# the matrix handed to the solver is n × n over the problem's distinct points (a few hundred at a busy sweep);
# past this the problem keeps the great circle rather than build a matrix of tens of megabytes
MAX_POINTS = 1200


class Unanswered(Exception):
    """The service gave no usable answer; the message says which kind of failure (never any data)."""


def key_of(lat: float, lon: float) -> Key:
    return (round(float(lat), DECIMALS), round(float(lon), DECIMALS))


class RoadTable:
    """A client of one table service with its cache and its outage state. Thread-safe."""

    def __init__(self, base_url: str, *, timeout_s: float = 1.0, profile: str = "driving",
                 max_locations: int = 100, cache_size: int = 50_000, retry_after_s: float = 60.0,
                 budget_s: float | None = None, monotonic: Callable[[], float] = time.monotonic, transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        # osrm-routed's --max-table-size defaults to 100 coordinates a request; bigger tables go in blocks
        self.max_locations = max(2, max_locations)
        self.retry_after_s = retry_after_s
        # a cold cache at a busy sweep is many blocks: past this the rest keep the great circle this time
        # and are asked at the next call, so no caller waits long whatever the size of its problem
        self.budget_s = 3 * timeout_s if budget_s is None else budget_s
        self._monotonic = monotonic
        self._client = httpx.Client(timeout=timeout_s, transport=transport, trust_env=False)
        self._cache: OrderedDict[Pair, Figures | None] = OrderedDict()  # None: the service knows no route
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._retry_at = 0.0
        self._down = False
        self.asked = 0  # HTTP requests sent (the cache's effect, for the tests)

    def figures(self, pairs: Iterable[Pair]) -> dict[Pair, Figures]:
        """Road (km, minutes) for every pair the service has answered, now or before; a pair it could not
        answer (failure, no route) is absent and the caller keeps its own figure."""
        known: dict[Pair, Figures] = {}
        missing: list[Pair] = []
        with self._lock:
            for pair in dict.fromkeys(pairs):
                if pair[0] == pair[1]:
                    known[pair] = (0.0, 0)
                elif pair in self._cache:
                    self._cache.move_to_end(pair)
                    if (value := self._cache[pair]) is not None:
                        known[pair] = value
                else:
                    missing.append(pair)
            resting = self._monotonic() < self._retry_at
        if missing and not resting:
            known.update(self._fetch(missing))
        return known

    def _fetch(self, missing: list[Pair]) -> dict[Pair, Figures]:
        got: dict[Pair, Figures] = {}
        deadline = self._monotonic() + self.budget_s
        try:
            for block in self._blocks(missing):
                if self._monotonic() > deadline:
                    break
                answered = self._ask(*block)
                with self._lock:
                    for pair, value in answered.items():
                        self._cache[pair] = value
                        self._cache.move_to_end(pair)
                        if value is not None:
                            got[pair] = value
                    while len(self._cache) > self._cache_size:
                        self._cache.popitem(last=False)
        except Unanswered as failure:
            with self._lock:
                self._retry_at = self._monotonic() + self.retry_after_s
                first = not self._down
                self._down = True
            if first:  # once per outage: a sweep every 30 s must not fill the log
                log.warning("travel service unavailable (%s): great-circle travel until it answers", failure)
            return got
        with self._lock:
            back, self._down = self._down, False
        if back:
            log.info("travel service answers again: road travel resumed")
        return got

    def _blocks(self, missing: list[Pair]):
        """(sources, destinations, the pairs asked) in blocks of at most max_locations coordinates."""
        half = self.max_locations // 2
        sources = sorted({a for a, _ in missing})
        targets = sorted({b for _, b in missing})
        wanted = set(missing)
        for i in range(0, len(sources), half):
            for j in range(0, len(targets), half):
                src, dst = sources[i:i + half], targets[j:j + half]
                pairs = [(a, b) for a in src for b in dst if (a, b) in wanted]
                if pairs:
                    yield src, dst, pairs

    def _ask(self, src: list[Key], dst: list[Key], pairs: list[Pair]) -> dict[Pair, Figures | None]:
        coords = ";".join(f"{lon:.{DECIMALS}f},{lat:.{DECIMALS}f}" for lat, lon in src + dst)
        n = len(src)
        # written out rather than through `params`: OSRM reads `;` and `,` literally, not percent-encoded
        url = (f"{self.base_url}/table/v1/{self.profile}/{coords}?sources={';'.join(map(str, range(n)))}"
               f"&destinations={';'.join(str(n + k) for k in range(len(dst)))}&annotations=duration,distance")
        with self._lock:
            self.asked += 1
        try:
            res = self._client.get(url)
        except httpx.TimeoutException:
            raise Unanswered("timeout") from None
        except httpx.HTTPError as error:
            raise Unanswered(type(error).__name__) from None
        if res.status_code != 200:
            raise Unanswered(f"HTTP {res.status_code}")
        try:
            body = res.json()
        except ValueError:
            raise Unanswered("not JSON") from None
        durations = _grid(body, "durations", n, len(dst))
        distances = _grid(body, "distances", n, len(dst))
        row = {a: i for i, a in enumerate(src)}
        col = {b: j for j, b in enumerate(dst)}
        out: dict[Pair, Figures | None] = {}
        for a, b in pairs:
            seconds, metres = durations[row[a]][col[b]], distances[row[a]][col[b]]
            out[(a, b)] = None if seconds is None or metres is None else \
                (metres / 1000.0, math.ceil(seconds / 60.0 - 1e-9))
        return out

    def close(self) -> None:
        self._client.close()


def _grid(body, name: str, rows: int, cols: int) -> list[list[float | None]]:
    """`body[name]` as rows × cols of non-negative numbers or null (no route), else Unanswered."""
    if not isinstance(body, dict) or body.get("code") != "Ok":
        raise Unanswered("malformed answer")
    grid = body.get(name)
    if not isinstance(grid, list) or len(grid) != rows or \
            any(not isinstance(line, list) or len(line) != cols for line in grid):
        raise Unanswered("malformed answer")
    for line in grid:
        for value in line:
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value) or value < 0):
                raise Unanswered("malformed answer")
    return grid


@lru_cache(maxsize=4)
def _table_for(url: str, timeout_s: float) -> RoadTable:
    return RoadTable(url, timeout_s=timeout_s)


def road_table(settings) -> RoadTable | None:
    """The process's client of the configured service (DOLBOM_TRAVEL_URL), or None: great circle only."""
    url = getattr(settings, "travel_url", None)
    if not url:
        return None
    return _table_for(url.rstrip("/"), float(settings.travel_timeout_s))


def forget_tables() -> None:
    """Drop the per-process clients and their caches (tests; a changed configuration)."""
    _table_for.cache_clear()


def great_circle(settings) -> matching.GreatCircle:
    return matching.GreatCircle(road_factor=settings.road_factor, speed_kmh=settings.speed_kmh)


class _Points:
    """The distinct points of a problem (exactly as the solver will look them up), numbered."""

    def __init__(self) -> None:
        self.index: dict[tuple[float, float], int] = {}
        self.locations: list[matching.Location] = []

    def at(self, lat: float, lon: float) -> int:
        key = (float(lat), float(lon))
        if key not in self.index:
            self.index[key] = len(self.locations)
            self.locations.append(matching.Location(*key))
        return self.index[key]


def road_matrix(table: RoadTable, points: _Points, pairs: set[tuple[int, int]],
                fallback: matching.GreatCircle) -> matching.TravelModel:
    """`MatrixTravel` over the points: the service's figures for the pairs it answered, the great circle's
    for every other pair."""
    if len(points.locations) > MAX_POINTS:
        return fallback
    lat = np.array([p.lat for p in points.locations])
    lon = np.array([p.lon for p in points.locations])
    km = fallback.road_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    minutes = fallback.travel_min(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    keys = [key_of(p.lat, p.lon) for p in points.locations]
    got = table.figures((keys[i], keys[j]) for i, j in pairs)
    for i, j in pairs:
        if (value := got.get((keys[i], keys[j]))) is not None:
            km[i, j], minutes[i, j] = value
    return matching.MatrixTravel(points=points.locations, km=km, minutes=minutes, fallback=fallback)


def problem_travel(settings, requests: Sequence[matching.Request],
                   providers: Sequence[matching.Provider]) -> matching.TravelModel:
    """The travel model for a problem: the great circle, or road figures for the pairs the solver measures —
    each request to every provider whose radius covers it, and for a visiting caregiver also the request to
    and from each of its visits and the other requests it could take (the chain of visits)."""
    fallback = great_circle(settings)
    table = road_table(settings)
    if table is None or not requests or not providers:
        return fallback
    points = _Points()
    rows = np.array([points.at(r.location.lat, r.location.lon) for r in requests])
    r_lat = np.array([r.location.lat for r in requests])
    r_lon = np.array([r.location.lon for r in requests])
    pairs: set[tuple[int, int]] = set()
    for p in providers:
        near = rows[matching.haversine_km(r_lat, r_lon, p.location.lat, p.location.lon) <= p.radius_km].tolist()
        if not near:
            continue
        base = points.at(p.location.lat, p.location.lon)
        pairs.update((r, base) for r in near)
        if p.kind == "caregiver":
            visits = {points.at(*((c.location.lat, c.location.lon) if c.location else (p.location.lat, p.location.lon)))
                      for c in p.commitments}
            for r in near:
                pairs.update((r, v) for v in visits)
                pairs.update((v, r) for v in visits)
                pairs.update((r, s) for s in near if s != r)
    return road_matrix(table, points, pairs, fallback)


def visit_travel(settings, lat: float, lon: float, visits: Iterable[tuple[float, float]]) -> matching.TravelModel:
    """The travel model for one visit against a caregiver's other visits (the accept-time re-check), so
    that it measures as the solver did."""
    fallback = great_circle(settings)
    table = road_table(settings)
    if table is None:
        return fallback
    points = _Points()
    here = points.at(lat, lon)
    others = {points.at(a, b) for a, b in visits} - {here}
    if not others:
        return fallback
    pairs = {(here, v) for v in others} | {(v, here) for v in others}
    return road_matrix(table, points, pairs, fallback)
