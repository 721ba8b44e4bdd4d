"""Row locks under a burst of accepts (PostgreSQL; SQLite serialises whole transactions). An answer locks its
provider's row and, when that provider turns out to be full, re-plans the request in the same transaction:
it offers the request to another provider, inserting an offer row whose foreign key points at that provider.
A row locked FOR UPDATE blocks such inserts (the foreign-key check takes FOR KEY SHARE on the provider), so
two full providers' answers re-planning onto each other's provider deadlocked: 500s and lost inbound SMS in
bench/burst.py's 40-accept bursts. The answer locks must let rows that only refer to the locked row in."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from conftest import NOW
from hotline.core.db import lock
from hotline.requests.lifecycle import RequestStatus
from hotline.models import Assignment, CareRequest, Child, Guardian, Offer, OfferStatus, Provider, ProviderKind
from hotline.offers.loop import OfferContext
from hotline.offers.answers import Outcome, answer

ALL_WEEK = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def facility(s: Session, code: str, capacity: int) -> Provider:
    p = Provider(code=code, kind=ProviderKind.facility, name=f"{code} 센터", phone="+821055500" + code[-2:],
                 address="평택시 지산동 1", lat=37.07, lon=127.06, capacity=capacity, weekly_hours=ALL_WEEK,
                 created_at=NOW, updated_at=NOW)
    s.add(p)
    s.flush()
    return p


def request(s: Session, i: int, status: RequestStatus) -> CareRequest:
    g = Guardian(name=f"보호자{i}", phone=f"+82105551{i:04d}", created_at=NOW)
    s.add(g)
    s.flush()
    start = NOW + timedelta(hours=3)
    r = CareRequest(ref=f"LOCK{i:04d}", guardian_id=g.id, status=status, reason="illness", start_at=start,
                    end_at=start + timedelta(hours=4), address="평택시 지산동 2", place_code="pyeongtaek.jisan-dong",
                    city_ko="평택시", lat=37.07, lon=127.06, consent_at=NOW, consent_by="op", created_by="op",
                    created_at=NOW, updated_at=NOW, offer_rounds=1)
    s.add(r)
    s.flush()
    s.add(Child(request_id=r.id, first_name=f"아이{i}", birth_date=date(2018, 1, 1)))
    return r


def test_a_full_providers_answer_re_plans_onto_a_provider_another_answer_holds(backend, engine, settings, places):
    if backend == "sqlite":
        pytest.skip("SQLite has no row locks: BEGIN IMMEDIATE serialises the two answers whole")
    with Session(engine, expire_on_commit=False) as s:
        full, other = facility(s, "lk-f01", 1), facility(s, "lk-f02", 5)
        placed = request(s, 1, RequestStatus.confirmed)  # takes lk-f01's only place
        s.add(Assignment(request_id=placed.id, provider_id=full.id, start_at=placed.start_at, end_at=placed.end_at,
                         children=1, handover_code="1234", created_at=NOW))
        asking = request(s, 2, RequestStatus.offered)
        offer = Offer(request_id=asking.id, provider_id=full.id, created_at=NOW,
                      expires_at=NOW + timedelta(minutes=30), reply_code="A1")
        s.add(offer)
        s.commit()
    ctx = OfferContext(settings=settings, places=places)

    # an answer in progress at lk-f02: its provider row locked, as `answer` locks it, until it commits
    holder = Session(engine)
    lock(holder, Provider, other.id)
    outcome: list[object] = []

    def answer_at_the_full_provider() -> None:
        with Session(engine, expire_on_commit=False) as s:
            try:
                s.execute(text("SET LOCAL lock_timeout = '3s'"))  # a blocked insert fails here instead of hanging
                outcome.append(answer(s, offer.id, accept=True, channel="sms", now=NOW, ctx=ctx))
                s.commit()
            except Exception as exc:  # noqa: BLE001  (reported below)
                outcome.append(exc)

    worker = threading.Thread(target=answer_at_the_full_provider)
    worker.start()
    worker.join(timeout=30)
    try:
        assert outcome == [Outcome.filled], f"the re-plan waited for lk-f02's answer to end: {outcome}"
        lock(holder, Provider, full.id)  # and that answer could now take lk-f01 (before: a deadlock)
    finally:
        holder.rollback()
        holder.close()
    with Session(engine) as s:
        offers = {o.provider_id: o.status for o in s.exec(select(Offer).where(Offer.request_id == asking.id))}
    assert offers == {full.id: OfferStatus.withdrawn, other.id: OfferStatus.pending}  # re-offered to lk-f02


def test_the_sweeps_one_statement_locks_its_requests_as_each_wave_would(backend, engine):
    """`lock_all` (the sweep's waiting requests, one statement) holds every row's lock until the transaction
    ends, as a lock per request did; until then a transition does not lock them again, after it does."""
    from hotline.core.db import lock_all, needs_lock

    with Session(engine, expire_on_commit=False) as s:
        rows = [request(s, i, RequestStatus.matching) for i in (11, 12, 13)]
        s.commit()
    with Session(engine) as s:
        held = [s.get(CareRequest, r.id) for r in rows]
        assert all(needs_lock(s, r) for r in held)
        lock_all(s, CareRequest, [r.id for r in held])
        assert not any(needs_lock(s, r) for r in held)
        if backend != "sqlite":
            with engine.connect() as other:
                for r in held:
                    with pytest.raises(Exception, match="LockNotAvailable"):
                        with other.begin():
                            other.execute(text("SET LOCAL lock_timeout = '200ms'"))
                            other.execute(text("UPDATE care_request SET notes = 'x' WHERE id = :id"), {"id": r.id})
        s.commit()
        assert all(needs_lock(s, r) for r in held)  # a later transaction locks as usual
