"""Twilio webhooks: signatures, retries, delivery statuses, opt-outs and parents' replies."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, func, select

from conftest import request_body
from fake_twilio import sign
import pytest

from loop_support import (PUBLIC_URL, guardian_phone, offers_of, outbox, pending, post_signed, provider,
                          request_row, sms_from)
from hotline import jobs
from hotline.models import InboundMessage, OutboxStatus
from hotline.sms.templates import render

# one offer at a time keeps these about the webhooks; tests/test_offer_waves.py answers waves by SMS
pytestmark = [pytest.mark.twilio, pytest.mark.offer_policy(mode="rounds")]


def create(client, operator, **kw) -> str:
    res = client.post("/v1/requests", json=request_body(**kw), headers=operator)
    assert res.status_code == 201, res.text
    return res.json()["ref"]


def inbound_count(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(InboundMessage)).one()


def test_unsigned_or_wrongly_signed_webhooks_get_403_and_change_nothing(client, operator, demo, loop, twilio, engine):
    ref = create(client, operator)
    [offer] = pending(offers_of(engine, ref))
    phone = provider(engine, offer.provider_id).phone
    payload = twilio.inbound_payload(phone, "1")
    wrong_token = sign(PUBLIC_URL + "/v1/webhooks/twilio/sms", payload, "not-the-auth-token")
    wrong_url = sign("https://evil.example/v1/webhooks/twilio/sms", payload, twilio.auth_token)
    for signature in ("", wrong_token, wrong_url):
        res = post_signed(client, twilio, "/v1/webhooks/twilio/sms", payload, signature=signature)
        assert res.status_code == 403 and res.headers["content-type"].startswith("application/problem+json")
    tampered = {**payload, "Body": "2"}
    good_sig = sign(PUBLIC_URL + "/v1/webhooks/twilio/sms", payload, twilio.auth_token)
    assert post_signed(client, twilio, "/v1/webhooks/twilio/sms", tampered, signature=good_sig).status_code == 403
    status = post_signed(client, twilio, "/v1/webhooks/twilio/status", {"MessageSid": "SMx", "MessageStatus": "failed"},
                         signature="bogus")
    assert status.status_code == 403
    assert inbound_count(engine) == 0
    assert pending(offers_of(engine, ref))[0].id == offer.id
    assert request_row(engine, ref).status == "offered"


def test_a_retried_webhook_is_handled_once(client, operator, demo, loop, twilio, engine):
    ref = create(client, operator)
    [offer] = pending(offers_of(engine, ref))
    payload = twilio.inbound_payload(provider(engine, offer.provider_id).phone, "2")
    for _ in range(3):
        assert post_signed(client, twilio, "/v1/webhooks/twilio/sms", payload).status_code == 200
    assert inbound_count(engine) == 1
    assert [o.status for o in offers_of(engine, ref)].count("declined") == 1


def test_delivery_status_never_moves_backwards(client, operator, demo, loop, twilio, engine):
    create(client, operator)
    jobs.dispatch()
    sid = twilio.messages[0].sid
    for status in ("delivered", "sent", "queued"):
        res = post_signed(client, twilio, "/v1/webhooks/twilio/status", twilio.status_callback_payload(sid, status))
        assert res.status_code == 204
    [row] = [r for r in outbox(engine) if r.sid == sid]
    assert row.status == OutboxStatus.delivered and row.provider_status == "delivered"


def test_undelivered_message_flags_the_request(client, operator, demo, loop, twilio, engine):
    ref = create(client, operator)
    jobs.dispatch()
    sid = twilio.messages[0].sid
    post_signed(client, twilio, "/v1/webhooks/twilio/status",
                twilio.status_callback_payload(sid, "undelivered", error_code=30003))
    assert request_row(engine, ref).needs_attention


def test_stop_and_start(client, operator, demo, loop, twilio, engine):
    ref = create(client, operator)
    [offer] = pending(offers_of(engine, ref))
    phone = provider(engine, offer.provider_id).phone
    sms_from(client, twilio, phone, "수신거부")
    # a provider who said STOP gets no more offers
    other = create(client, operator, guardian={"name": "박솔", "phone": "010-5550-3333", "language": "ko"})
    assert all(o.provider_id != offer.provider_id for o in offers_of(engine, other))
    sms_from(client, twilio, phone, "START")
    jobs.dispatch()
    assert twilio.bodies_to(phone)[-2:] == [render("opt_out_ack", "ko"), render("opt_in_ack", "ko")]


def test_parent_cancels_by_sms_and_everyone_is_told(client, operator, demo, loop, twilio, engine):
    ref = create(client, operator)
    [offer] = pending(offers_of(engine, ref))
    prov = provider(engine, offer.provider_id)
    sms_from(client, twilio, prov.phone, "1")
    parent = guardian_phone(engine, ref)
    sms_from(client, twilio, parent, "취소")
    assert request_row(engine, ref).status == "cancelled"
    jobs.dispatch()
    assert "취소" in twilio.bodies_to(parent)[-1]
    assert "취소" in twilio.bodies_to(prov.phone)[-1]
    commitments = client.get(f"/v1/providers/{prov.id}/commitments", params={"date": "2026-11-25"},
                             headers=operator).json()
    assert commitments["assignments"] == []


def test_care_day_reminders_completion_and_survey(client, operator, demo, loop, twilio, engine, clock):
    ref = create(client, operator)
    [offer] = pending(offers_of(engine, ref))
    prov = provider(engine, offer.provider_id)
    sms_from(client, twilio, prov.phone, "1")
    parent = guardian_phone(engine, ref)
    start = request_row(engine, ref).start_at
    clock.set(start - timedelta(minutes=59))
    jobs.tick()
    assert "09:00" in twilio.bodies_to(parent)[-1] and "09:00" in twilio.bodies_to(prov.phone)[-1]
    clock.set(start)
    jobs.tick()
    assert request_row(engine, ref).status == "in_care"
    clock.set(request_row(engine, ref).end_at)
    jobs.tick()
    assert request_row(engine, ref).status == "completed"
    assert twilio.bodies_to(parent)[-1] == render("survey", "ko")
    sms_from(client, twilio, parent, "5")
    assert request_row(engine, ref).survey_score == 5
    jobs.tick()
    jobs.dispatch()
    assert twilio.bodies_to(parent)[-1] == render("survey_thanks", "ko")
    reminders = [r for r in outbox(engine) if r.kind.startswith("reminder")]
    assert len(reminders) == 2  # once each, however often the job runs


def test_offer_link_get_only_shows_and_post_answers(client, operator, demo, loop, twilio, engine, settings):
    ref = create(client, operator)
    [offer] = pending(offers_of(engine, ref))
    jobs.dispatch()
    sms = twilio.bodies_to(provider(engine, offer.provider_id).phone)[0]
    path = sms[sms.index(PUBLIC_URL) + len(PUBLIC_URL):].split()[0]
    for _ in range(3):  # link scanners, previews, a curious tap
        page = client.get(path)
        assert page.status_code == 200 and "수락" in page.text and "김하늘" not in page.text
    assert pending(offers_of(engine, ref))[0].id == offer.id
    done = client.post(path, data={"action": "accept"})
    assert done.status_code == 200 and "확정" in done.text
    assert request_row(engine, ref).status == "confirmed"
    assert client.post(path, data={"action": "accept"}).status_code == 409
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert client.get(forged).status_code == 404
    status = client.get(sms[:0] + "/s/" + "1.0.x")
    assert status.status_code == 404


def test_parent_status_page(client, operator, demo, loop, twilio, engine):
    ref = create(client, operator)
    jobs.dispatch()
    ack = twilio.bodies_to(guardian_phone(engine, ref))[0]
    path = ack[ack.index(PUBLIC_URL) + len(PUBLIC_URL):].split()[0]
    assert "수락을 기다리고" in client.get(path).text
    [offer] = pending(offers_of(engine, ref))
    sms_from(client, twilio, provider(engine, offer.provider_id).phone, "1")
    page = client.get(path).text
    assert provider(engine, offer.provider_id).name in page and "1234" not in page


def test_a_delivery_callback_before_the_sid_is_recorded_is_applied(client, operator, demo, loop, twilio, engine):
    """Issue 9, defect 15: Twilio can call back before our send() has returned and the sid is stored."""
    create(client, operator)
    real = loop.sender

    class CallsBackAtOnce:
        def send(self, *args, **kwargs):
            result = real.send(*args, **kwargs)
            res = post_signed(client, twilio, "/v1/webhooks/twilio/status",
                              twilio.status_callback_payload(result.sid, "delivered"))
            assert res.status_code == 204
            return result

        def find_sent(self, *args, **kwargs):
            return real.find_sent(*args, **kwargs)

    loop.sender = CallsBackAtOnce()
    try:
        assert jobs.dispatch() >= 1
    finally:
        loop.sender = real
    sent = [r for r in outbox(engine) if r.sid]
    assert sent and {r.status for r in sent} == {OutboxStatus.delivered}
    assert {r.provider_status for r in sent} == {"delivered"}
