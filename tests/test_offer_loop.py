"""The offer loop end to end: from a logged call to a confirmed placement with nobody on the phone."""

from __future__ import annotations

from datetime import timedelta

from conftest import request_body
import pytest

from loop_support import (ON_DUTY, events, guardian_phone, offers_of, only_providers, pending, provider, request_row,
                          sms_from)
from hotline import jobs
from hotline.sms.templates import render

# the "rounds" policy, as before waves; tests/test_offer_waves.py covers the default
pytestmark = [pytest.mark.twilio, pytest.mark.offer_policy(mode="rounds")]


def create(client, operator, **overrides) -> str:
    res = client.post("/v1/requests", json=request_body(**overrides), headers=operator)
    assert res.status_code == 201, res.text
    return res.json()["ref"]


def test_call_to_confirmation_over_http(client, operator, demo, loop, twilio, engine):
    ref = create(client, operator)
    jobs.dispatch()
    parent = guardian_phone(engine, ref)
    [offer] = offers_of(engine, ref)  # care starts tomorrow: one offer at a time
    prov = provider(engine, offer.provider_id)
    [offer_sms] = twilio.bodies_to(prov.phone)
    assert "비전동" in offer_sms and "2명(5·9세)" in offer_sms and "김하늘" not in offer_sms and "123-4" not in offer_sms
    sent_offer = next(m for m in twilio.messages if m.to == prov.phone)
    assert 0 < int(sent_offer.validity_period) <= 600  # a stale offer fails instead of arriving late
    assert any("접수" in b for b in twilio.bodies_to(parent))

    sms_from(client, twilio, prov.phone, "1")
    jobs.dispatch()

    confirmation = twilio.bodies_to(parent)[-1]
    assert "연계되었습니다" in confirmation and prov.name in confirmation and "취소" in confirmation
    details = twilio.bodies_to(prov.phone)[-1]
    assert "서윤" in details and "김하늘" in details and "123-4" in details
    code = request_row(engine, ref)
    assert client.get(f"/v1/requests/{ref}", headers=operator).json()["status"] == "confirmed"
    log = [(e.from_status, e.to_status, e.actor) for e in events(engine, ref)]
    assert [(f, t) for f, t, _ in log if f != t] == [(None, "received"), ("received", "matching"),
                                                     ("matching", "offered"), ("offered", "confirmed")]
    assert log[-1][2] == f"provider:{prov.code}"
    assert any(e.reason == f"{prov.code}에 제안 문자 발송" for e in events(engine, ref))
    assert code.status == "confirmed"


def test_decline_and_expiry_lead_to_new_offers_then_escalation(client, operator, demo, loop, twilio, engine, clock):
    ref = create(client, operator)
    first = pending(offers_of(engine, ref))[0]
    sms_from(client, twilio, provider(engine, first.provider_id).phone, "거절")
    after_decline = offers_of(engine, ref)
    second = pending(after_decline)[0]
    assert second.provider_id != first.provider_id
    assert second.created_at - after_decline[0].answered_at < timedelta(seconds=1)

    clock.set(second.expires_at)
    jobs.tick()
    after_expiry = offers_of(engine, ref)
    assert after_expiry[1].status == "expired"
    third = pending(after_expiry)[0]
    assert third.provider_id not in (first.provider_id, second.provider_id)
    assert third.created_at - second.expires_at < timedelta(seconds=1)

    sms_from(client, twilio, provider(engine, third.provider_id).phone, "2")
    row = request_row(engine, ref)
    assert row.status == "unmatched" and row.needs_attention and row.offer_rounds == 3
    assert pending(offers_of(engine, ref)) == []
    jobs.dispatch()
    assert any(ref in body for body in twilio.bodies_to(ON_DUTY))
    assert "상담원" in twilio.bodies_to(guardian_phone(engine, ref))[-1]
    listed = client.get("/v1/requests", params={"attention": "true"}, headers=operator).json()
    assert [r["ref"] for r in listed["items"]] == [ref]


def test_near_start_offers_the_best_three_at_once_and_first_accept_wins(client, operator, demo, loop, twilio,
                                                                       engine, clock):
    ref = create(client, operator, start_at="2026-11-24T09:00:00+09:00", end_at="2026-11-24T13:00:00+09:00",
                 location={"address": "평택시 지산동 10", "place": "평택시 지산동"})
    offers = pending(offers_of(engine, ref))
    assert len(offers) == 3 and [o.rank for o in offers] == [1, 2, 3]
    assert all(o.expires_at <= request_row(engine, ref).start_at for o in offers)
    jobs.dispatch()
    winner, *others = offers[1], offers[0], offers[2]
    sms_from(client, twilio, provider(engine, winner.provider_id).phone, "YES")
    final = {o.id: o.status for o in offers_of(engine, ref)}
    assert final[winner.id] == "accepted" and {final[o.id] for o in others} == {"withdrawn"}
    jobs.dispatch()
    for o in others:
        phone = provider(engine, o.provider_id).phone
        assert len(twilio.bodies_to(phone)) == 2  # the offer, then a short withdrawal
    late = sms_from(client, twilio, provider(engine, others[0].provider_id).phone, "1")
    assert late.status_code == 200
    jobs.dispatch()
    assert twilio.bodies_to(provider(engine, others[0].provider_id).phone)[-1] == render("already_filled", "ko")


def test_two_expired_offers_in_a_row_pause_the_provider(client, operator, admin, demo, loop, engine, clock):
    [pid] = only_providers(engine, "pt-f03")
    for phone in ("010-5550-7001", "010-5550-7002"):
        ref = create(client, operator, guardian={"name": "이바다", "phone": phone, "language": "ko"})
        [offer] = pending(offers_of(engine, ref))
        assert offer.provider_id == pid
        clock.set(offer.expires_at)
        jobs.tick()
        assert request_row(engine, ref).status == "unmatched"  # its only provider let it expire
    paused = provider(engine, pid)
    assert paused.paused_until == clock.now() + timedelta(minutes=60)
    shown = client.get(f"/v1/providers/{pid}", headers=operator).json()
    assert shown["paused_until"] is not None
    # while paused, no new offers reach it
    ref = create(client, operator, guardian={"name": "이바다", "phone": "010-5550-7003", "language": "ko"})
    assert offers_of(engine, ref) == [] and request_row(engine, ref).status == "unmatched"
    # an hour later it is back
    clock.advance(minutes=61)
    ref = create(client, operator, guardian={"name": "이바다", "phone": "010-5550-7004", "language": "ko"})
    assert [o.provider_id for o in pending(offers_of(engine, ref))] == [pid]


def test_sweep_places_waiting_requests_without_moving_pending_offers(client, operator, demo, loop, engine, clock,
                                                                     settings, places):
    from sqlmodel import Session

    from hotline.requests.intake import create_care_request
    from hotline.requests.lifecycle import RequestStatus, transition
    from hotline.requests.schemas import CareRequestCreate

    held = create(client, operator)
    [kept] = pending(offers_of(engine, held))
    waiting = []
    with Session(engine) as s:  # logged, but their matching was interrupted before an offer went out
        for i in range(3):
            body = CareRequestCreate.model_validate(request_body(
                guardian={"name": "대기", "phone": f"010-5550-61{i:02d}", "language": "ko"},
                location={"address": "평택시 지산동 3", "place": "평택시 지산동"}))
            request = create_care_request(s, body, actor="operator:test", now=clock.now(), settings=settings,
                                          geocoder=places).request
            transition(s, request, RequestStatus.matching, actor="system", at=clock.now())
            waiting.append(request.ref)
        s.commit()
    jobs.sweep()
    for ref in waiting:
        assert request_row(engine, ref).status == "offered" and len(pending(offers_of(engine, ref))) == 1
    [still] = pending(offers_of(engine, held))
    assert (still.id, still.provider_id, still.expires_at) == (kept.id, kept.provider_id, kept.expires_at)


def test_care_that_should_have_begun_is_never_offered(client, operator, demo, loop, engine, clock):
    late = create(client, operator, start_at="2026-11-24T07:50:00+09:00", end_at="2026-11-24T12:00:00+09:00",
                  location={"address": "평택시 지산동 10", "place": "평택시 지산동"})  # within the intake grace
    assert offers_of(engine, late) == [] and request_row(engine, late).status == "unmatched"
    assert "시작 시각" in request_row(engine, late).attention_reason
    soon = create(client, operator, start_at="2026-11-24T08:30:00+09:00", end_at="2026-11-24T12:00:00+09:00",
                  location={"address": "평택시 지산동 10", "place": "평택시 지산동"})
    first_round = pending(offers_of(engine, soon))
    assert first_round and all(o.expires_at <= request_row(engine, soon).start_at for o in first_round)
    clock.set(request_row(engine, soon).start_at)
    jobs.tick()
    assert pending(offers_of(engine, soon)) == [] and request_row(engine, soon).status == "unmatched"


def test_a_visiting_caregiver_is_sent_to_the_family_not_the_other_way(client, operator, demo, loop, twilio, engine):
    only_providers(engine, "pt-c01")
    ref = create(client, operator)
    [offer] = pending(offers_of(engine, ref))
    caregiver = provider(engine, offer.provider_id)
    sms_from(client, twilio, caregiver.phone, "1")
    jobs.dispatch()
    confirmation = twilio.bodies_to(guardian_phone(engine, ref))[-1]
    assert "평택시 비전동 123-4" in confirmation and caregiver.address not in confirmation
