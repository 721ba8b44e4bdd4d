"""Bridge between the hotline's rows and the pure `matching` library: builds a `matching.Problem` from the
database (opening hours → availability intervals, placements and pending offers → commitments, declined
or expired pairs → exclusions) and turns explanations into JSON for the event log and the console.

A call reads only the providers that can reach it (issue 23: 30,000 providers in one database): those
whose own radius covers the call's point, at most the nearest `nearest_providers` of them (`reach`);
everyone when none does (the explanation then names the nearest) or when the caller asks (`everyone`: the
operator's pick of any provider). Opening hours and the JSON columns are parsed once per distinct value:
most providers share their hours."""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import String, cast, func
from sqlmodel import Session, col, select

import matching
from hotline.core.db import kept_for_transaction, needs_lock
from hotline.core.clock import at_local, epoch_minutes, local
from hotline.core.config import Settings
from hotline.places.travel import problem_travel, visit_travel
from hotline.requests.children import age_on, children_of_all
from hotline.providers.schemas import DAYS
from hotline.models import Assignment, CareRequest, Child, Offer, OfferStatus, Provider, RequestEvent
from hotline.offers.reach import among, many, nearest, near_sql, texts_allowed
from hotline.sms.outbox import opted_out_phones



def availability(weekly_hours: dict, closures: list[str], first: date, last: date) -> tuple[matching.Interval, ...]:
    """Opening hours from `first` to `last` (local dates) minus dated closures, as merged epoch-minute
    intervals: Mon 07:00–24:00 followed by Tue 00:00–02:00 is one interval, so overnight care fits."""
    closed = set(closures)
    spans: list[tuple[int, int]] = []
    day = first
    while day <= last:
        if day.isoformat() not in closed:
            for start, end in weekly_hours.get(DAYS[day.weekday()], []):
                spans.append((epoch_minutes(at_local(day, start)), epoch_minutes(at_local(day, end))))
        day += timedelta(days=1)
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple(matching.Interval(s, e) for s, e in merged)


def to_request(care: CareRequest, children: list[Child], now: datetime) -> matching.Request:
    start = epoch_minutes(care.start_at)
    # the age that matters is the oldest during the window: a birthday mid-window counts
    end_day = local(care.end_at - timedelta(minutes=1)).date()
    return matching.Request(
        id=str(care.id),
        child_ages=tuple(age_on(c.birth_date, end_day) for c in children),
        start=start,
        end=epoch_minutes(care.end_at),
        location=matching.Location(care.lat, care.lon),
        needs=frozenset(care.needs),
        language=care.language,
        priority=matching.urgency_priority(start, epoch_minutes(now)),
    )


def never_offered(session: Session, request: CareRequest) -> bool:
    """Taken by this very transaction and not offered yet (the intake's first solve and wave): it has no
    offers, pending or closed, so nobody needs to look for them. Every path that offers counts a round."""
    return request.offer_rounds == 0 and not needs_lock(session, request)


@dataclass(frozen=True)
class _Reads:
    """What a problem is built from, read once per step: the intake's or an answer's first solve, and the
    "with paused providers" / "without others' pending offers" views its offer wave may then ask for."""
    m_requests: list[matching.Request]
    first: date
    last: date
    placed: dict[int, list[matching.Commitment]]
    pending: dict[int, list[matching.Commitment]]
    providers: list[_ProviderRow]
    tried: frozenset[tuple[str, str]]
    in_radius: dict[str, tuple[int, int]]  # requests whose read was cut: in radius (not paused, with paused)


class _ProviderRow(NamedTuple):
    id: int
    code: str
    kind: str
    lat: float
    lon: float
    capacity: int
    hours: str  # weekly_hours and closures as their JSON text: the key of `_open`
    closures: str
    min_age: int
    max_age: int
    skills: frozenset[str]
    languages: frozenset[str]
    radius_km: float
    paused: bool  # paused at the problem's `now`


@functools.lru_cache(maxsize=4096)
def _set(text: str) -> frozenset[str]:
    return frozenset(json.loads(text))


@functools.lru_cache(maxsize=8192)
def _open(hours: str, closures: str, first: date, last: date) -> tuple[matching.Interval, ...]:
    return availability(json.loads(hours), json.loads(closures), first, last)


@functools.lru_cache(maxsize=40_000)
def _shape(code: str, kind: str, lat: float, lon: float, capacity: int, hours: str, closures: str, min_age: int,
           max_age: int, skills: frozenset[str], languages: frozenset[str], radius_km: float, first: date,
           last: date) -> matching.Provider:
    """A provider as the solver sees it, before commitments: the same (frozen) object for the same row and
    days, since most of a call's thousands of providers are unchanged from the last call's."""
    # codes, not row ids: the solver's explanations name providers to operators
    return matching.Provider(id=code, kind=kind, location=matching.Location(lat, lon), capacity=capacity,
                             availability=_open(hours, closures, first, last), min_age=min_age, max_age=max_age,
                             skills=skills, languages=languages, radius_km=radius_km)


def _provider_rows(session: Session, near: Any | None, opted_out: set[str], now: datetime) -> list[_ProviderRow]:
    # phones that said STOP and the pause are decided in SQL: nothing to convert per row (30,000 in a sweep)
    query = (select(Provider.id, Provider.code, Provider.kind, Provider.lat, Provider.lon, Provider.capacity,
                    cast(Provider.weekly_hours, String), cast(Provider.closures, String), Provider.min_age,
                    Provider.max_age, cast(Provider.skills, String), cast(Provider.languages, String),
                    Provider.radius_km, func.coalesce(Provider.paused_until > now, False))
             .where(Provider.active == True))  # noqa: E712
    if near is not None:
        query = query.where(near)
    if opted_out:
        query = query.where(texts_allowed(session, opted_out))
    return [_ProviderRow(i, code, str(kind), lat, lon, cap, hours, closures, lo, hi, _set(skills), _set(langs),
                         radius, bool(paused))
            for i, code, kind, lat, lon, cap, hours, closures, lo, hi, skills, langs, radius, paused
            in session.exec(query)]


def _read(session: Session, requests: list[CareRequest], now: datetime, everyone: bool, limit: int,
          keep: tuple[int, ...]) -> _Reads:
    # reused until the session writes anything (any flush), rolls back, or its transaction ends
    return kept_for_transaction(session, "problem_reads", (tuple(r.id for r in requests), now, everyone, limit, keep),
                                lambda: _read_rows(session, requests, now, everyone, limit, keep))


def _read_rows(session: Session, requests: list[CareRequest], now: datetime, everyone: bool, limit: int,
               keep: tuple[int, ...]) -> _Reads:
    ids = [r.id for r in requests]
    children = children_of_all(session, requests)  # an intake's or an answer's: read already
    m_requests = [to_request(r, children[r.id], now) for r in requests]

    lo = min((r.start_at for r in requests), default=now)
    hi = max((r.end_at for r in requests), default=now)
    first, last = local(lo).date() - timedelta(days=1), local(hi).date() + timedelta(days=1)

    opted_out = opted_out_phones(session)  # they said STOP: no offers by SMS
    near, in_radius, cut = None if everyone else near_sql(requests), {}, None
    if near is not None:
        reach = nearest(session, requests, near, now=now, limit=limit, opted_out=opted_out, keep=keep)
        if reach.everyone:
            near = None
        elif reach.ids is not None:  # the read was cut to the nearest: those providers by id
            near, in_radius, cut = among(session, Provider.id, reach.ids), dict(reach.in_radius), reach.ids
    providers = _provider_rows(session, near, opted_out, now)

    def theirs(query, provider_id):  # only the commitments of the providers read
        if cut is not None:  # by the id the rows carry (an index), not through the provider table
            return query.where(among(session, provider_id, cut))
        return query if near is None else query.join(Provider, Provider.id == provider_id).where(near)

    # plain columns, not entities: this runs at every intake and answer, and the rows are only read
    window_lo, window_hi = lo - timedelta(days=1), hi + timedelta(days=1)
    placed: dict[int, list[matching.Commitment]] = {}
    query = (select(Assignment.provider_id, Assignment.start_at, Assignment.end_at, Assignment.children,
                    CareRequest.id, CareRequest.lat, CareRequest.lon)
             .join(CareRequest, CareRequest.id == Assignment.request_id)
             .where(Assignment.active == True, Assignment.start_at < window_hi,  # noqa: E712
                    Assignment.end_at > window_lo))
    for provider_id, start, end, n, rid, lat, lon in session.exec(theirs(query, Assignment.provider_id)):
        placed.setdefault(provider_id, []).append(matching.Commitment(
            epoch_minutes(start), epoch_minutes(end), n, matching.Location(lat, lon), str(rid)))
    # a pending offer holds the place until it is answered or expires; only those near these windows matter
    kids = select(func.count()).where(Child.request_id == CareRequest.id).correlate(CareRequest).scalar_subquery()
    pending: dict[int, list[matching.Commitment]] = {}
    query = (select(Offer.provider_id, CareRequest.id, CareRequest.start_at, CareRequest.end_at, CareRequest.lat,
                    CareRequest.lon, kids)
             .join(CareRequest, CareRequest.id == Offer.request_id)
             .where(Offer.status == OfferStatus.pending, col(Offer.request_id).not_in(ids),
                    CareRequest.start_at < window_hi, CareRequest.end_at > window_lo))
    for provider_id, rid, start, end, lat, lon, n in session.exec(theirs(query, Offer.provider_id)):
        pending.setdefault(provider_id, []).append(matching.Commitment(
            epoch_minutes(start), epoch_minutes(end), n or 1, matching.Location(lat, lon), str(rid)))

    asked = [r.id for r in requests if not never_offered(session, r)]
    # a provider that answered, let the offer expire, or withdrew is not asked again for this request; one
    # whose offer the system withdrew (another accepted first, the plan changed, it was full) never said
    # no, and after a fall-through it may be the family's only chance
    tried = session.exec(select(Offer.request_id, Provider.code).join(Provider, Provider.id == Offer.provider_id)
                         .where(col(Offer.request_id).in_(asked),
                                col(Offer.status).not_in([OfferStatus.pending, OfferStatus.withdrawn]))
                         ).all() if asked else []
    return _Reads(m_requests, first, last, placed, pending, providers,
                  frozenset((str(r), str(p)) for r, p in tried), in_radius)


def build_problem(session: Session, requests: list[CareRequest], *, now: datetime, settings: Settings,
                  include_paused: bool = False, count_pending_offers: bool = True,
                  everyone: bool = False, keep: tuple[int, ...] = ()) -> matching.Problem:
    """The problem of placing `requests` given everything already committed: active placements and other
    requests' pending offers use capacity; pairs that were declined or expired are excluded. Paused
    providers are left out unless `include_paused`; `count_pending_offers=False` asks whether a request
    is blocked only by other requests' pending offers. Providers that cannot reach any of the requests are
    left out, and beyond the nearest `settings.nearest_providers` those that can (see the module's
    docstring), unless `everyone`; `keep`: provider ids read whatever their distance. A problem of many
    requests reads everyone, and the solver pairs each with its nearest `nearest_providers` (`reach`)."""
    limit = settings.nearest_providers
    reads = _read(session, requests, now, everyone, limit, keep)
    m_providers = []
    for p in reads.providers:
        if not include_paused and p.paused:
            continue
        shape = _shape(p.code, p.kind, p.lat, p.lon, p.capacity, p.hours, p.closures, p.min_age, p.max_age,
                       p.skills, p.languages, p.radius_km, reads.first, reads.last)
        held = tuple(reads.placed.get(p.id, ())) + (tuple(reads.pending.get(p.id, ())) if count_pending_offers else ())
        m_providers.append(dataclasses.replace(shape, commitments=held) if held else shape)
    cut_each = not everyone and many(requests)
    return matching.Problem(
        requests=reads.m_requests, providers=m_providers, now=epoch_minutes(now), exclude=reads.tried,
        # the great circle, or a routing service's road figures when one is configured (docs/places.md)
        travel=problem_travel(settings, reads.m_requests, m_providers),
        caregiver_lead_min=settings.caregiver_lead_minutes, nearest=limit if cut_each else None,
        in_radius={rid: both[1 if include_paused else 0] for rid, both in reads.in_radius.items()},
    )


def room_for(session: Session, provider: Provider, request: CareRequest, children: int, settings: Settings) -> bool:
    """Accept-time re-check, by the solver's own room rule: capacity at every moment for a facility, one
    household at a time with travel both ways for a caregiver. Only confirmed placements count (pending
    offers are tentative; the first accept wins)."""
    day = timedelta(days=1)
    rows = session.exec(
        select(Assignment, CareRequest).join(CareRequest, CareRequest.id == Assignment.request_id)
        .where(Assignment.provider_id == provider.id, Assignment.active == True,  # noqa: E712
               Assignment.start_at < request.end_at + day, Assignment.end_at > request.start_at - day)).all()
    items = [(epoch_minutes(a.start_at), epoch_minutes(a.end_at), a.children, care.lat, care.lon) for a, care in rows]
    shape = matching.Provider(id=provider.code, kind=str(provider.kind), location=matching.Location(provider.lat, provider.lon),
                              capacity=provider.capacity, availability=())
    visits = [(it[3], it[4]) for it in items] if shape.kind == "caregiver" else []  # a facility's guests come to it
    return matching.room_ok(shape, epoch_minutes(request.start_at), epoch_minutes(request.end_at), children,
                            request.lat, request.lon, items, visit_travel(settings, request.lat, request.lon, visits))


def explanation_json(explanation: matching.Explanation | None) -> dict[str, Any] | None:
    return dataclasses.asdict(explanation) if explanation is not None else None


def last_explanation(session: Session, request: CareRequest) -> dict[str, Any] | None:
    """The newest solver explanation recorded for this request, for the console."""
    for event in session.exec(select(RequestEvent).where(RequestEvent.request_id == request.id)
                              .order_by(col(RequestEvent.id).desc())):
        if event.detail and "explanation" in event.detail:
            return event.detail["explanation"]
    return None
