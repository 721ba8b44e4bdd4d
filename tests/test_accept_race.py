"""Fifty answers at once for one facility: exactly as many placements succeed as fit, on both backends."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlmodel import Session, select

from conftest import NOW
import pytest

from loop_support import post_signed
from hotline.core import links
from hotline.requests.lifecycle import RequestStatus
from hotline.models import Assignment, CareRequest, Child, Guardian, Offer, OfferStatus, Provider, ProviderKind

CAPACITY = 7
ANSWERS = 50

pytestmark = pytest.mark.twilio


def seed_offers(engine, settings) -> tuple[Provider, list[tuple[int, str]]]:
    """One facility of capacity 7, fifty requests each holding a pending offer to it (as if capacity had
    been cut after the offers went out), each offer with its signed link."""
    start = NOW + timedelta(hours=3)
    with Session(engine, expire_on_commit=False) as s:
        facility = Provider(code="race-f", kind=ProviderKind.facility, name="경쟁 테스트 센터", phone="+821055504242",
                            address="평택시 지산동 1", lat=37.07, lon=127.06, capacity=CAPACITY,
                            weekly_hours={d: [["07:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
                            created_at=NOW, updated_at=NOW)
        s.add(facility)
        s.flush()
        offers = []
        for i in range(ANSWERS):
            g = Guardian(name=f"보호자{i}", phone=f"+8210555{i:05d}", created_at=NOW)
            s.add(g)
            s.flush()
            r = CareRequest(ref=f"RACE{i:04d}", guardian_id=g.id, status=RequestStatus.offered, reason="illness",
                            start_at=start, end_at=start + timedelta(hours=4), address="평택시 지산동 2",
                            place_code="pyeongtaek.jisan-dong", city_ko="평택시", lat=37.07, lon=127.06,
                            consent_at=NOW, consent_by="op", created_by="op", created_at=NOW, updated_at=NOW,
                            offer_rounds=1)
            s.add(r)
            s.flush()
            s.add(Child(request_id=r.id, first_name=f"아이{i}", birth_date=date(2018, 1, 1)))
            o = Offer(request_id=r.id, provider_id=facility.id, created_at=NOW, expires_at=NOW + timedelta(minutes=10),
                      reply_code=f"{'ABCDEFGH'[i // 9]}{i % 9 + 1}")
            s.add(o)
            s.flush()
            offers.append((o.reply_code, links.sign(settings.secret_key, "offer", o.id, o.expires_at)))
        s.commit()
        return facility, offers


def test_fifty_concurrent_accepts_never_overbook(client, engine, settings, twilio, loop_runtime):
    facility, offers = seed_offers(engine, settings)
    barrier = threading.Barrier(ANSWERS)
    results: list[tuple[str, int, str]] = []

    def by_link(token: str):
        barrier.wait()
        res = client.post(f"/o/{token}", data={"action": "accept"})
        results.append(("link", res.status_code, res.text))

    def by_sms(code: str):
        barrier.wait()  # each SMS names its offer, as the offer text asks ("1 A7")
        res = post_signed(client, twilio, "/v1/webhooks/twilio/sms", twilio.inbound_payload(facility.phone, f"1 {code}"))
        results.append(("sms", res.status_code, res.text))

    threads = [threading.Thread(target=by_link, args=(token,)) if i % 2 else threading.Thread(target=by_sms, args=(code,))
               for i, (code, token) in enumerate(offers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(results) == ANSWERS  # no thread died
    assert all(code in (200, 409) for _, code, _ in results), [r[:2] for r in results if r[1] not in (200, 409)]
    with Session(engine) as s:
        placed = s.exec(select(Assignment).where(Assignment.provider_id == facility.id, Assignment.active == True)).all()  # noqa: E712
        accepted = s.exec(select(Offer).where(Offer.status == OfferStatus.accepted)).all()
        confirmed = s.exec(select(CareRequest).where(CareRequest.status == "confirmed")).all()
        assert len(placed) == len(accepted) == len(confirmed) == CAPACITY
        # everyone else heard "already filled": on the page (409) or by SMS
        link_refused = [r for r in results if r[0] == "link" and r[1] == 409]
        assert all("이미 마감된" in text for _, _, text in link_refused)
        from hotline.models import OutboxMessage

        sms_refusals = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "already_filled")).all()
        link_accepts = sum(1 for r in results if r[0] == "link" and r[1] == 200)
        sms_accepts = CAPACITY - link_accepts
        assert len(sms_refusals) == ANSWERS // 2 - sms_accepts
        assert len(link_refused) == ANSWERS // 2 - link_accepts
