"""A month of a centre's work on a frozen clock, for the report's demo and its test: calls through the real
intake and offer loop (hotline.offers.take_call; a quarter of them online applications), providers that
accept after a few minutes or not at all, parents who cancel, night calls nobody can take (their reasons are
the solver's own), the care day moving placements to completed, and survey answers — a few of them low,
which open follow-up cases. Needs the providers already in the database (hotline.demo.seed)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, select

from hotline.aftercare.service import record_survey
from hotline.applications import ONLINE_ACTOR
from hotline.core.clock import SEOUL, FrozenClock
from hotline.offers.cancel import cancel_request
from hotline.requests.lifecycle import RequestStatus
from hotline.models import CareRequest, Offer, OfferStatus
from hotline.offers.loop import OfferContext, take_call
from hotline.offers.answers import answer
from hotline.offers.care_day import run_care_day
from hotline.requests.schemas import CareRequestCreate

PLACES = ["평택시 비전동", "평택시 세교동", "평택시 송탄동", "평택시 안중읍", "평택시 팽성읍", "평택시 고덕동"]
DAY_HOURS = [7, 9, 11, 13, 15]
NIGHT_SHARE = 0.1  # calls at 23:00 for care from 02:00, which few providers can take


def _body(rng: random.Random, start: datetime, hours: int, n: int) -> CareRequestCreate:
    place = rng.choice(PLACES)
    ages = [rng.randint(1, 11) for _ in range(rng.choice([1, 1, 1, 2]))]
    return CareRequestCreate.model_validate({
        "guardian": {"name": "모의보호자", "phone": f"010-5560-{n:04d}"},
        "children": [{"first_name": f"아동{j + 1}", "birth_date": (start.date() - timedelta(days=int(365.25 * a) + 40)).isoformat()}
                     for j, a in enumerate(ages)],
        "reason": rng.choice(["illness", "illness", "family_event", "business_trip"]),
        "start_at": start.isoformat(), "end_at": (start + timedelta(hours=hours)).isoformat(),
        "location": {"address": f"{place} {rng.randint(1, 300)}", "place": place},
        "consent": {"guardian_consent": True, "health_consent": False},
    })


def simulate_month(session: Session, *, ctx: OfferContext, clock: FrozenClock, year: int, month: int,
                   calls_per_day: int = 2, seed: int = 1) -> int:
    """Plays the month day by day; commits as it goes (each call is its own transaction). Returns the calls."""
    rng = random.Random(seed)
    day, n = date(year, month, 1), 0
    while day.month == month:
        hours = sorted(rng.sample(DAY_HOURS, calls_per_day))
        if rng.random() < NIGHT_SHARE:
            hours[-1] = 23
        for hour in hours:
            at = datetime.combine(day, time(hour), SEOUL)
            clock.set(at)
            _care_day(session, ctx, clock, rng)
            n += 1
            online = rng.random() < 0.25
            start = at + timedelta(hours=2 if hour < 23 else 3)
            created = take_call(session, _body(rng, start, rng.randint(3, 6), n),
                                actor=ONLINE_ACTOR if online else "operator:sim-op", now=clock.now(), ctx=ctx)
            session.commit()
            request = created.request
            fate = rng.random()
            clock.set(at + timedelta(minutes=rng.choice([2, 4, 6, 9, 14, 25, 45])))
            session.refresh(request)
            if request.status == RequestStatus.offered and fate < 0.85:
                offer = session.exec(select(Offer).where(Offer.request_id == request.id,
                                                         Offer.status == OfferStatus.pending).order_by(Offer.rank)).first()
                answer(session, offer.id, accept=True, channel="sms", now=clock.now(), ctx=ctx)
            elif request.status in (RequestStatus.offered, RequestStatus.matching):
                cancel_request(session, request, actor="guardian:sms", now=clock.now(), reason="보호자 다른 돌봄 확보")
            session.commit()
        day += timedelta(days=1)
    clock.set(datetime.combine(day, time(12), SEOUL))
    _care_day(session, ctx, clock, rng)
    return n


def _care_day(session: Session, ctx: OfferContext, clock: FrozenClock, rng: random.Random) -> None:
    run_care_day(session, now=clock.now(), ctx=ctx)
    for request in session.exec(select(CareRequest).where(CareRequest.status == RequestStatus.completed,
                                                          CareRequest.survey_sent_at != None,  # noqa: E711
                                                          CareRequest.survey_score == None)):  # noqa: E711
        if rng.random() < 0.7:
            record_survey(session, request, rng.choice([5, 5, 5, 5, 4, 4, 4, 3, 2]), now=clock.now())
    session.commit()
