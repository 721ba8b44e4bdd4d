"""Which providers a call's problem reads (issue 23: 30,000 providers in one database, thousands within
reach of each call), and what its explanation then says.

A problem of few requests (an intake, an answer, a wave) reads the providers whose own radius reaches one of
its requests: a box in SQL, then the exact great circle on a light read (id, place, radius, pause). When more
than `limit` providers (not paused) reach a request, only the nearest `limit` of them are read for it — and
every paused one nearer than the last of those, so that a view with paused providers is the same circle.
The problem carries the count in reach (`matching.Problem.in_radius`), so that the explanation counts every
provider in reach and says that only the nearest were reviewed. Below `limit` nothing changes: the whole box
is read, as before. When some request has nobody (not paused) in reach, the caller reads everyone: its
explanation names the nearest provider anywhere.

A problem of many requests (the sweep) reads every provider once, and the solver pairs each request with
only the nearest `limit` of those in reach (`matching.Problem.nearest`, the same circle as a call's read:
issue 23, the sweep's 250 requests had some 800,000 pairs in reach); the solver counts those in reach
itself, and its explanations name both numbers."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import ARRAY, Integer, LargeBinary, String, all_, and_, any_, bindparam, func, literal, or_
from sqlmodel import Session, select

from matching.distance import haversine_km
from hotline.models import CareRequest, Provider

# A degree of latitude on matching's earth; a box this much wider than a radius holds its whole circle.
KM_PER_DEGREE = math.pi * 6371.0088 / 180
BOX_SLACK = 1.02
NEAR_REQUESTS = 16  # a problem of more requests (the sweep) reads every provider: once, for all of them


@dataclass(frozen=True)
class Reach:
    everyone: bool  # some request has nobody (not paused) in reach: read every provider
    ids: tuple[int, ...] | None  # the providers to read when some request was cut; None: the whole box
    in_radius: Mapping[str, tuple[int, int]]  # cut requests: in radius (not paused, with paused)


def _degrees(lat: float) -> tuple[float, float]:
    """Degrees of latitude and longitude per km of radius (with the slack) around `lat`."""
    # a degree of longitude is shortest on the box's side nearer the pole
    return (BOX_SLACK / KM_PER_DEGREE,
            BOX_SLACK / (KM_PER_DEGREE * max(math.cos(math.radians(min(abs(lat) + 1.0, 89.0))), 1e-3)))


def near_sql(requests: list[CareRequest]) -> Any | None:
    """SQL for the providers whose own radius can reach one of `requests` (a box around each request,
    as wide as the provider's radius), or None for everyone."""
    if not requests or many(requests):
        return None
    boxes = []
    for r in requests:
        dlat, dlon = _degrees(r.lat)
        boxes.append(and_(func.abs(Provider.lat - r.lat) <= Provider.radius_km * dlat,
                          func.abs(Provider.lon - r.lon) <= Provider.radius_km * dlon))
    return or_(*boxes)


def nearest(session: Session, requests: list[CareRequest], near: Any, *, now: datetime, limit: int,
            opted_out: set[str], keep: Iterable[int] = ()) -> Reach:
    """Reads the box's providers lightly and decides, per request, whether its read is cut (see the module's
    docstring). `keep`: providers a cut read includes whatever their distance (a placed provider that a changed
    plan re-checks, which nearer ones could otherwise push out; an uncut read has every one in reach)."""
    # a band of latitude as wide as the largest radius lets the reach index be read, not the table (0017)
    widest = select(func.max(Provider.radius_km)).where(Provider.active == True).scalar_subquery()  # noqa: E712
    bands = [Provider.lat.between(r.lat - widest * _degrees(r.lat)[0], r.lat + widest * _degrees(r.lat)[0])
             for r in requests]
    ids, lat, lon, radius, paused = _light(session, [Provider.active == True, or_(*bands), near],  # noqa: E712
                                           now=now, opted_out=opted_out)
    chosen = np.zeros(len(ids), dtype=bool)
    cut: dict[str, tuple[int, int]] = {}
    for r in requests:
        d = haversine_km(r.lat, r.lon, lat, lon)
        reach = d <= radius
        open_ = reach & ~paused
        n = int(np.count_nonzero(open_))
        if n == 0:
            return Reach(True, None, {})
        if n > limit:  # the nearest `limit` not paused, and the paused ones among them
            last = np.partition(d[open_], limit - 1)[limit - 1]
            chosen |= reach & (d <= last)
            cut[str(r.id)] = (n, int(np.count_nonzero(reach)))
        else:  # the whole box, as a read of every provider in reach has always been
            dlat, dlon = _degrees(r.lat)
            chosen |= (np.abs(lat - r.lat) <= radius * dlat) & (np.abs(lon - r.lon) <= radius * dlon)
    if not cut:
        return Reach(False, None, {})
    return Reach(False, tuple(sorted(set(ids[chosen].tolist()) | set(keep))), cut)


def _light(session: Session, where: list, *, now: datetime, opted_out: set[str]):
    """id, lat, lon, radius and whether paused, as arrays, of the providers `where` selects whose phone did not
    say STOP (they get no offers by SMS)."""
    if session.autoflush:  # through the connection, not the ORM: flush as a query would
        session.flush()
    if opted_out:
        where = [*where, texts_allowed(session, opted_out)]
    paused = func.coalesce(Provider.paused_until > now, False)
    if session.get_bind().dialect.name == "postgresql":
        # thousands of rows as five binary strings, the columns' own bytes: ~1 ms of Python where building
        # the rows took ~5 ms of a call's ~30 (issue 23); the values are the rows' exactly
        def packed(column):
            return func.string_agg(column, literal(b"", LargeBinary))

        query = select(packed(func.int4send(Provider.id)), packed(func.float8send(Provider.lat)),
                       packed(func.float8send(Provider.lon)), packed(func.float8send(Provider.radius_km)),
                       packed(func.boolsend(paused))).where(*where)
        row = session.connection().execute(query).one()
        if row[0] is None:
            return (np.zeros(0, dtype=np.int64),) + tuple(np.zeros(0) for _ in range(3)) + (np.zeros(0, dtype=bool),)
        return (np.frombuffer(row[0], ">i4").astype(np.int64),
                *(np.frombuffer(b, ">f8").astype(float) for b in row[1:4]),
                np.frombuffer(row[4], np.uint8).astype(bool))
    rows = session.connection().execute(
        select(Provider.id, Provider.lat, Provider.lon, Provider.radius_km, paused).where(*where)).all()
    return (np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=float),
            np.array([r[2] for r in rows], dtype=float), np.array([r[3] for r in rows], dtype=float),
            np.array([bool(r[4]) for r in rows], dtype=bool))


def texts_allowed(session: Session, opted_out: Iterable[str]) -> Any:
    """SQL: the provider's phone did not say STOP (`opted_out`: one array parameter on PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return Provider.phone != all_(bindparam("opted_out", sorted(opted_out), type_=ARRAY(String)))
    return Provider.phone.not_in(sorted(opted_out))


def many(requests: list[CareRequest]) -> bool:
    """A problem of so many requests that it reads every provider (see the module's docstring)."""
    return len(requests) > NEAR_REQUESTS


def among(session: Session, column: Any, ids: Iterable[int]) -> Any:
    """`column IN ids`; on PostgreSQL one array parameter (`= ANY`), so that a call's few hundred provider ids
    make the same statement every time rather than one with as many parameters to build and parse."""
    ids = list(ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(Integer)))
    return column.in_(ids)
