"""When care falls through (issue 19): a provider withdraws after confirming (SMS `취소 A7`), does not turn
up (no check-in by the start plus 10 minutes, or the parent says so), checks in by SMS, the plan changes,
and the operator moves the child. Driven on the frozen clock through the real API and signed SMS."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select

from conftest import request_body
from hotline import jobs
from hotline.core.clock import SEOUL
from hotline.models import Assignment, CareRequest, Offer, OfferStatus, OutboxMessage, Provider, RequestEvent
from hotline.offers import fallthrough, plans
from hotline.offers.history import provider_odds
from hotline.offers.policy import History
from hotline.offers.policy import odds as odds_of
from loop_support import guardian_phone, offers_of, request_row, sms_from

pytestmark = pytest.mark.twilio
START = datetime(2026, 11, 25, 9, 0, tzinfo=SEOUL)


def confirmed(client, operator, engine, twilio, **body) -> tuple[str, Offer, Provider]:
    """A call confirmed by SMS: the provider answered "1 <code>"."""
    res = client.post("/v1/requests", json=request_body(**body), headers=operator)
    assert res.status_code == 201, res.text
    ref = res.json()["ref"]
    offer = next(o for o in offers_of(engine, ref) if o.status == OfferStatus.pending)
    with Session(engine) as s:
        provider = s.get(Provider, offer.provider_id)
    sms_from(client, twilio, provider.phone, f"1 {offer.reply_code}")
    assert request_row(engine, ref).status == "confirmed"
    return ref, offer, provider


def texts(engine, kind: str, to: str | None = None) -> list[OutboxMessage]:
    with Session(engine) as s:
        q = select(OutboxMessage).where(OutboxMessage.kind == kind)
        return list(s.exec(q.where(OutboxMessage.to == to) if to else q))


def test_a_provider_withdraws_by_sms_and_the_request_is_offered_again_without_it(client, operator, demo, loop,
                                                                                 twilio, engine, clock):
    ref, offer, provider = confirmed(client, operator, engine, twilio)
    sms_from(client, twilio, provider.phone, "취소")  # no code: asked which, nothing changes
    assert [m.body for m in texts(engine, "which_placement", provider.phone)] and request_row(engine, ref).status == "confirmed"
    sms_from(client, twilio, provider.phone, f"취소 {offer.reply_code}")
    care = request_row(engine, ref)
    assert care.status == "offered" and care.needs_attention and "기관 취소" in care.attention_reason
    assert care.fell_through_at == clock.now()
    with Session(engine) as s:
        assert s.get(Offer, offer.id).status == OfferStatus.retracted
        assert s.exec(select(Assignment).where(Assignment.request_id == care.id, Assignment.active == True)).first() is None  # noqa: E712
        again = s.exec(select(Offer).where(Offer.request_id == care.id, Offer.status == OfferStatus.pending)).all()
        events = s.exec(select(RequestEvent).where(RequestEvent.request_id == care.id)).all()
        odds = provider_odds(s, [provider.id], now=clock.now(), policy=demo_policy(client))
    assert again and provider.id not in {o.provider_id for o in again}  # left out for this request
    assert any((e.detail or {}).get("fall_through") == "withdrawal" and e.to_status == "matching" for e in events)
    assert len(texts(engine, "fallthrough_parent", guardian_phone(engine, ref))) == 1
    assert len(texts(engine, "withdraw_ack", provider.phone)) == 1
    kept = odds_of(History(accepted=1, declined=0, silent=0, log_delays=(0.0,)), demo_policy(client))
    assert odds[provider.id].accept < kept.accept  # the withdrawal counts as a decline in its record

    second = next(o for o in again)  # another provider confirms through the offer loop
    with Session(engine) as s:
        other = s.get(Provider, second.provider_id)
    sms_from(client, twilio, other.phone, f"1 {second.reply_code}")
    assert request_row(engine, ref).status == "confirmed"
    with Session(engine) as s:
        minutes = fallthrough.minutes_to_replace(s, request_row(engine, ref))
    assert minutes == [0.0]


def demo_policy(client):
    return client.app.state.settings.offer_policy


def test_no_check_in_texts_the_provider_then_lets_the_operator_re_place(client, operator, demo, loop, twilio,
                                                                        engine, clock):
    ref, offer, provider = confirmed(client, operator, engine, twilio)
    clock.set(START + timedelta(minutes=9))
    jobs.tick()
    assert not texts(engine, "no_show_provider") and not request_row(engine, ref).needs_attention
    clock.set(START + timedelta(minutes=10))
    jobs.tick()
    care = request_row(engine, ref)
    assert care.needs_attention and "미도착" in care.attention_reason and care.status == "in_care"
    assert len(texts(engine, "no_show_provider", provider.phone)) == 1
    ctx = client.app.state.offer_context
    assert not fallthrough.can_replace(care, now=clock.now(), ctx=ctx)
    clock.set(START + timedelta(minutes=20))
    jobs.tick()
    assert len(texts(engine, "no_show_provider", provider.phone)) == 1  # once
    with Session(engine) as s:
        care = s.get(CareRequest, care.id)
        assert fallthrough.can_replace(care, now=clock.now(), ctx=ctx)
        fallthrough.replace_no_show(s, care, actor="operator:op", now=clock.now(), ctx=ctx)
        s.commit()
    care = request_row(engine, ref)
    assert care.status in ("offered", "unmatched") and care.start_at == START + timedelta(minutes=50)
    with Session(engine) as s:
        assert s.get(Offer, offer.id).status == OfferStatus.retracted


def test_the_parents_report_acts_at_once_and_an_sms_check_in_prevents_a_no_show(client, operator, demo, loop,
                                                                                 twilio, engine, clock):
    ref, offer, provider = confirmed(client, operator, engine, twilio)
    parent = guardian_phone(engine, ref)
    clock.set(START - timedelta(minutes=40))
    sms_from(client, twilio, provider.phone, f"도착 {offer.reply_code}")  # too early: nothing recorded
    clock.set(START + timedelta(minutes=2))
    sms_from(client, twilio, parent, "선생님이 안 오셨어요")
    care = request_row(engine, ref)
    assert care.needs_attention and "보호자 신고" in care.attention_reason
    assert fallthrough.can_replace(care, now=clock.now(), ctx=client.app.state.offer_context)
    assert len(texts(engine, "no_show_provider", provider.phone)) == 1 and texts(engine, "not_arrived_ack", parent)
    sms_from(client, twilio, provider.phone, f"도착 {offer.reply_code}")  # it was there after all
    care = request_row(engine, ref)
    assert care.status == "in_care" and not care.needs_attention and texts(engine, "arrived_ack", provider.phone)


def test_a_changed_window_keeps_the_provider_when_it_fits_and_rematches_when_not(client, operator, demo, loop,
                                                                              twilio, engine, clock):
    ref, offer, provider = confirmed(client, operator, engine, twilio)
    ctx = client.app.state.offer_context
    with Session(engine) as s:
        care = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        kept = plans.change_plan(s, care, plans.PlanChange(start=START + timedelta(hours=1),
                                                           end=START + timedelta(hours=8)),
                                 actor="guardian:status", reason="보호자 요청", now=clock.now(), ctx=ctx)
        s.commit()
    assert kept == "kept" and request_row(engine, ref).status == "confirmed"
    with Session(engine) as s:
        a = s.exec(select(Assignment).where(Assignment.offer_id == offer.id)).one()
        assert a.active and a.start_at == START + timedelta(hours=1)
    assert len(texts(engine, "plan_changed")) == 2
    with Session(engine) as s:  # a night the provider does not open
        care = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        moved = plans.change_plan(s, care, plans.PlanChange(start=START + timedelta(hours=13),
                                                            end=START + timedelta(hours=22)),
                                  actor="operator:op", reason="보호자 요청", now=clock.now(), ctx=ctx)
        s.commit()
    care = request_row(engine, ref)
    assert moved == "rematched" and care.status in ("offered", "unmatched", "matching")
    with Session(engine) as s:
        assert s.get(Offer, offer.id).status == OfferStatus.released


# --- the console and the parent's page -------------------------------------------------------------

@pytest.fixture
def console(app):
    """A browser on the public URL: under the twilio settings the console's cookie is Secure."""
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="https://dolbom.test") as browser:
        yield browser


def test_the_operator_offers_outside_the_rules_only_with_a_recorded_override(console, engine, demo, places, settings,
                                                                             clock):
    import re

    client = console

    from hotline.models import Provider as P
    from test_console import sign_in, unmatched_request

    sign_in(client, engine)
    ref = unmatched_request(engine, places, settings, clock)
    with Session(engine) as s:  # a provider far outside its radius: moved to the other end of the province
        far = s.exec(select(P).where(P.kind == "facility").order_by(P.id)).first()
        far.lat, far.lon = 37.9, 127.2
        s.add(far)
        s.commit()
        code, name = far.code, far.name
    page = client.get(f"/console/requests/{ref}").text
    assert f'value="{code}"' in page  # any active provider can be picked, not only the ranked ones
    refused = client.post(f"/console/requests/{ref}/offer", data={"other": code, "reason": "보호자가 원함"})
    assert refused.status_code == 422
    assert "서비스 반경 밖" in refused.text and "예외 사유" in refused.text
    assert 'value="보호자가 원함"' in refused.text and f'<option value="{code}" selected' in refused.text  # kept
    assert 'id="override-reason"' in refused.text and 'aria-invalid="true"' in refused.text
    with Session(engine) as s:
        assert s.exec(select(Offer).join(CareRequest).where(CareRequest.ref == ref)).first() is None
    done = client.post(f"/console/requests/{ref}/offer", data={"other": code, "reason": "보호자가 원함",
                                                             "override_reason": "기관과 통화: 방문 가능"},
                       follow_redirects=False)
    assert done.status_code == 303
    with Session(engine) as s:
        care = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        offer = s.exec(select(Offer).where(Offer.request_id == care.id)).one()
        event = [e for e in s.exec(select(RequestEvent).where(RequestEvent.request_id == care.id))
                 if (e.detail or {}).get("override")][-1]
    assert offer.provider_id == far.id and care.status == "offered"
    assert "radius" in event.detail["override"] and event.detail["override_reason"] == "기관과 통화: 방문 가능"
    assert re.search(r"규칙 예외\(서비스 반경 밖[^)]*\): 기관과 통화", client.get(f"/console/requests/{ref}").text)


def test_the_window_changes_on_the_parents_page_and_in_the_console(client, console, operator, demo, loop, twilio,
                                                                   engine, clock, app):
    from datetime import timedelta as td

    from hotline.core import links
    from test_console import sign_in

    ref, offer, provider = confirmed(client, operator, engine, twilio)
    care = request_row(engine, ref)
    page = "/apply/s/" + links.sign(app.state.settings.secret_key, "apply-status", care.id, care.end_at + td(days=1))
    assert 'id="change"' in client.get(page).text
    bad = client.post(f"{page}/change", data={"day": "2026-11-25", "start_time": "25:00", "end_time": "17:00"})
    assert bad.status_code == 422 and 'value="25:00"' in bad.text  # what the parent typed stays
    kept = client.post(f"{page}/change", data={"day": "2026-11-25", "start_time": "10:00", "end_time": "17:00"},
                       follow_redirects=False)
    assert kept.status_code == 303 and request_row(engine, ref).status == "confirmed"
    assert request_row(engine, ref).start_at == START + td(hours=1)
    assert any("10:00" in m.body for m in texts(engine, "plan_changed", provider.phone))

    client = console
    sign_in(client, engine)  # the console: a night the provider does not open, so another is found
    form = client.get(f"/console/requests/{ref}/edit").text
    assert 'value="1000"' in form and 'value="1700"' in form
    refused = client.post(f"/console/requests/{ref}/edit", data={"day": "2026-11-25", "start_time": "2200",
                                                                "end_time": "0600", "place": "평택시 비전동",
                                                                "address": "평택시 비전동 123-4", "child0_name": "서윤",
                                                                "child0_birth": "20210314", "reason": ""})
    assert refused.status_code == 422 and 'value="2200"' in refused.text
    moved = client.post(f"/console/requests/{ref}/edit", data={"day": "2026-11-25", "start_time": "2200",
                                                              "end_time": "0600", "place": "평택시 비전동",
                                                              "address": "평택시 비전동 123-4", "child0_name": "서윤",
                                                              "child0_birth": "20210314", "reason": "보호자 야간 근무"},
                        follow_redirects=False)
    assert moved.status_code == 303 and "다른 기관" in client.get(moved.headers["location"]).text
    with Session(engine) as s:
        assert s.get(Offer, offer.id).status == OfferStatus.released
        story = " ".join(e.reason for e in s.exec(select(RequestEvent).where(RequestEvent.request_id == care.id)))
    assert "일정 변경" in story and "보호자 야간 근무" in story


def test_a_withdrawal_within_the_hour_alerts_the_on_duty_operator_and_counts_in_the_report(
        client, operator, demo, loop, twilio, engine, clock, app):
    from hotline.centre_report.figures import PROVINCE, month_report
    from loop_support import ON_DUTY

    ref, offer, provider = confirmed(client, operator, engine, twilio)
    clock.set(START - timedelta(minutes=40))  # care starts within the hour
    sms_from(client, twilio, provider.phone, f"취소 {offer.reply_code}")
    care = request_row(engine, ref)
    assert [m.kind for m in texts(engine, "fallthrough_operator", ON_DUTY)] == ["fallthrough_operator"]
    assert care.start_at == START  # 40 minutes ahead is still reachable: the booking stands
    with Session(engine) as s:
        report = month_report(s, app.state.geocoder, 2026, 11)
    assert report[PROVINCE].withdrawals == 1 and report[PROVINCE].no_shows == 0


def test_the_parent_reports_on_the_status_page_and_the_operator_re_places_in_one_action(
        client, console, operator, demo, loop, twilio, engine, clock, app):
    from hotline.core import links
    from test_console import sign_in

    ref, offer, provider = confirmed(client, operator, engine, twilio)
    care = request_row(engine, ref)
    page = "/apply/s/" + links.sign(app.state.settings.secret_key, "apply-status", care.id, care.end_at + timedelta(days=1))
    assert 'id="absent"' not in client.get(page).text  # not before a quarter hour ahead of the start
    clock.set(START + timedelta(minutes=3))
    assert 'id="absent"' in client.get(page).text
    done = client.post(f"{page}/absent", follow_redirects=False)
    assert done.status_code == 303 and "접수되었습니다" in client.get(page).text
    assert len(texts(engine, "no_show_provider", provider.phone)) == 1
    sign_in(console, engine)
    request_page = console.get(f"/console/requests/{ref}").text
    assert 'id="replace-submit"' in request_page and "기관 미도착" in request_page
    moved = console.post(f"/console/requests/{ref}/replace", follow_redirects=False)  # one action
    assert moved.status_code == 303 and "다른 기관을 찾고 있습니다" in console.get(moved.headers["location"]).text
    care = request_row(engine, ref)
    assert care.status in ("offered", "unmatched") and care.start_at == START + timedelta(minutes=35)


def test_providers_whose_offer_was_only_withdrawn_are_asked_again_after_a_fall_through(client, operator, demo, loop,
                                                                                     twilio, engine, clock):
    """A provider whose offer the system withdrew (another accepted first) never said no: after the placement
    falls through it may be the family's only chance (found by the day simulator in Pyeongtaek)."""
    soon = clock.now() + timedelta(minutes=50)  # care within the hour: the first wave asks several at once
    ref, offer, provider = confirmed(client, operator, engine, twilio, start_at=soon.isoformat(),
                                     end_at=(soon + timedelta(hours=4)).isoformat())
    withdrawn = {o.provider_id for o in offers_of(engine, ref) if o.status == OfferStatus.withdrawn}
    assert withdrawn, "the first wave asked more than one provider"
    sms_from(client, twilio, provider.phone, f"취소 {offer.reply_code}")
    asked_again = {o.provider_id for o in offers_of(engine, ref) if o.status == OfferStatus.pending}
    assert asked_again & withdrawn and provider.id not in asked_again
