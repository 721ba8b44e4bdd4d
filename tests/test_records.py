"""The provider's workspace and the operator's side of it: check-in with the handover code (wrong codes
counted), the daily log (health details only with consent, apart; an incident opens a follow-up case), an
extension the operator approves that moves the placement the solver sees, check-out that ends care and
sends the survey, the result, a low score's follow-up case, and the access records of every read."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlmodel import Session, select

from conftest import request_body
from hotline.core import links
from hotline import offers
from hotline.models.aftercare import FollowUpCase
from hotline.core.clock import SEOUL
from hotline.requests.lifecycle import RequestStatus
from hotline.models import AccessLog, Assignment, CareRequest, Offer, OfferStatus, OutboxMessage
from hotline.models.records import Adjustment, CareVisit, HealthRecord, ServiceLog
from test_console import sign_in


def placed(client, app, engine, clock, operator, **body):
    ref = client.post("/v1/requests", json=request_body(**body), headers=operator).json()["ref"]
    with Session(engine, expire_on_commit=False) as s:
        care = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        offer = s.exec(select(Offer).where(Offer.request_id == care.id, Offer.status == OfferStatus.pending)).first()
        offers.answer(s, offer.id, accept=True, channel="link", now=clock.now(), ctx=app.state.offer_context)
        s.commit()
        assignment = s.exec(select(Assignment).where(Assignment.request_id == care.id)).one()
    token = links.sign(app.state.settings.secret_key, "provider", assignment.provider_id, clock.now() + timedelta(days=30))
    return ref, care.id, assignment, f"/p/{token}"


def test_a_shift_from_check_in_to_follow_up(client, app, engine, clock, operator, demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    shift = f"{home}/r/{ref}"
    assert ref in client.get(home).text
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=SEOUL))
    wrong = "0000" if assignment.handover_code != "0000" else "1111"
    assert client.post(f"{shift}/checkin", data={"code": wrong}).status_code == 422
    assert client.post(f"{shift}/checkin", data={"code": assignment.handover_code}, follow_redirects=False).status_code == 303
    log = {"start_time": "09:00", "end_time": "18:00", "activities": "그림 그리기", "meals": "점심", "notes": ""}
    no_consent = client.post(f"{shift}/log", data={**log, "health": "해열제 복용"})
    assert no_consent.status_code == 422 and "건강정보 동의" in no_consent.text
    assert client.post(f"{shift}/log", data={**log, "incident": "yes", "incident_note": "넘어져 무릎 찰과상"},
                       follow_redirects=False).status_code == 303
    assert client.post(f"{shift}/adjust", data={"kind": "extend", "minutes": "60", "reason": "보호자 귀가 지연"},
                       follow_redirects=False).status_code == 303
    with Session(engine) as s:
        adjustment = s.exec(select(Adjustment)).one()
        assert s.get(CareRequest, care_id).status == RequestStatus.in_care
        assert s.exec(select(ServiceLog)).one().incident
        assert s.exec(select(HealthRecord)).first() is None
    sign_in(client, engine)  # the operator's shift (the console session lasts hours, not days)
    assert "보호자 귀가 지연" in client.get("/console/adjustments").text
    assert client.post(f"/console/adjustments/{adjustment.id}", data={"decision": "approve"},
                       follow_redirects=False).status_code == 303
    with Session(engine) as s:
        moved = s.get(Assignment, assignment.id)
        assert moved.end_at == assignment.end_at + timedelta(hours=1)  # the commitment the solver sees
        assert s.get(CareRequest, care_id).end_at == moved.end_at
    clock.set(datetime(2026, 11, 25, 19, 0, tzinfo=SEOUL))
    assert "퇴실 확정" in client.get(f"{shift}/checkout").text  # the confirmation step (issue 19)
    assert client.post(f"{shift}/checkout", data={"confirm": "yes"}, follow_redirects=False).status_code == 303
    assert client.post(f"{shift}/result", data={"result": "provided", "note": "연장 포함 제공"},
                       follow_redirects=False).status_code == 303
    status = "/apply/s/" + links.sign(app.state.settings.secret_key, "apply-status", care_id, clock.now() + timedelta(days=3))
    assert client.post(f"{status}/survey", data={"score": "2"}, follow_redirects=False).status_code == 303
    with Session(engine) as s:
        care = s.get(CareRequest, care_id)
        assert care.status == RequestStatus.completed and care.survey_score == 2
        assert s.exec(select(OutboxMessage).where(OutboxMessage.kind == "survey")).one()
        assert sorted(c.source for c in s.exec(select(FollowUpCase))) == ["incident", "survey"]
    sign_in(client, engine)
    board = client.get("/console/followups").text
    assert "만족도 2점" in board and "넘어져 무릎" in board
    records = client.get(f"/console/requests/{ref}/records").text
    assert "그림 그리기" in records and "제공 완료" in records and ">전화<" in records
    with Session(engine) as s:
        actions = {a.action for a in s.exec(select(AccessLog).where(AccessLog.request_id == care_id))}
    assert {"provider_read_shift", "read_service_records"} <= actions


def test_health_details_apart_and_other_providers_shifts_hidden(client, app, engine, clock, operator, demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator, health_notes="땅콩 알레르기",
                                            consent={"guardian_consent": True, "health_consent": True})
    page = client.get(f"{home}/r/{ref}").text
    assert "땅콩 알레르기" in page
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=SEOUL))
    client.post(f"{home}/r/{ref}/checkin", data={"code": assignment.handover_code})
    client.post(f"{home}/r/{ref}/log", data={"start_time": "09:00", "end_time": "12:00", "health": "37.8도 발열"})
    with Session(engine) as s:
        assert s.exec(select(HealthRecord)).one().note == "37.8도 발열"
        assert "37.8" not in s.exec(select(ServiceLog)).one().notes
        actions = [a.action for a in s.exec(select(AccessLog).where(AccessLog.request_id == care_id))]
    assert "provider_read_health" in actions
    other = links.sign(app.state.settings.secret_key, "provider", assignment.provider_id + 1, clock.now() + timedelta(days=1))
    assert client.get(f"/p/{other}/r/{ref}").status_code == 404
    assert client.get(f"/p/forged.token.x/r/{ref}").status_code == 404


def test_officials_forms_are_kept_printable_and_logged(client, engine, operator, demo):
    ref = client.post("/v1/requests", json=request_body(), headers=operator).json()["ref"]
    sign_in(client, engine)
    missing = client.post(f"/console/requests/{ref}/forms/referral", data={"official_name": "", "service_kind": "x"})
    assert missing.status_code == 422 and "담당 공무원 이름" in missing.text
    assert client.post(f"/console/requests/{ref}/forms/referral", follow_redirects=False, data={
        "official_name": "오지원", "official_org": "평택시 비전1동 행정복지센터", "service_kind": "visiting",
        "needs_summary": "보호자 입원", "consent_confirmed": "yes"}).status_code == 303
    assert client.post(f"/console/requests/{ref}/forms/site-visit", follow_redirects=False, data={
        "visitor": "오지원", "child_safe": "yes", "handover": "yes", "findings": "이상 없음"}).status_code == 303
    printed = client.get(f"/console/requests/{ref}/forms/print").text
    assert "서비스 제공의뢰서" in printed and "방문형 긴급돌봄" in printed and printed.count("☑ 예") == 2
    with Session(engine) as s:
        assert s.exec(select(AccessLog).where(AccessLog.action == "read_official_forms")).first() is not None


def test_provider_marks_a_closure_but_not_over_confirmed_care(client, app, engine, clock, operator, demo):
    from hotline.models import Provider

    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    assert "휴무로 표시" in client.get(home).text
    busy = client.post(f"{home}/closures", data={"day": "2026-11-25", "closed": "yes"})
    assert busy.status_code == 409 and "확정된 돌봄" in busy.text
    assert client.post(f"{home}/closures", data={"day": "2026-11-26", "closed": "yes"},
                       follow_redirects=False).status_code == 303
    with Session(engine) as s:
        assert "2026-11-26" in s.get(Provider, assignment.provider_id).closures


def test_a_survey_answered_by_sms_with_1_opens_a_follow_up(client, app, engine, clock, operator, demo):
    from hotline.offers.inbound import handle_sms

    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=SEOUL))
    client.post(f"{home}/r/{ref}/checkin", data={"code": assignment.handover_code})
    clock.set(datetime(2026, 11, 25, 18, 0, tzinfo=SEOUL))  # a check-out needs care to have begun (issue 19)
    assert client.post(f"{home}/r/{ref}/checkout", data={"confirm": "yes"}, follow_redirects=False).status_code == 303
    with Session(engine) as s:
        assert handle_sms(s, sid="SM-survey-1", from_number="+821055501234", body="1", now=clock.now(),
                          ctx=app.state.offer_context) == "survey"
        s.commit()
        case = s.exec(select(FollowUpCase)).one()
        assert case.source == "survey" and case.due_at == clock.now() + timedelta(days=2)


def test_a_callers_sms_status_page_leads_to_their_own_page(client, app, engine, clock, operator, demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    moved = client.get(links.status_url("", app.state.settings.secret_key, care_id, clock.now() + timedelta(days=2)),
                       follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"].startswith("/apply/s/")  # one page (issue 21)
    own = client.get(moved.headers["location"]).text
    assert "돌봄 확정" in own and assignment.handover_code in own and "상담원 전화 요청" in own


def test_retention_reaches_the_new_records(client, app, engine, clock, operator, demo):
    from hotline.models.applications import VerificationCode
    from hotline.models.forms import ReferralForm
    from hotline.privacy.retention import purge

    ref, care_id, assignment, home = placed(client, app, engine, clock, operator, health_notes="천식",
                                            consent={"guardian_consent": True, "health_consent": True})
    client.post("/apply", data={"guardian_name": "김하늘", "guardian_phone": "010-5550-1234", "child0_name": "서윤",
                                "child0_birth": "2021-03-14", "day": "2026-11-25", "start_time": "09:00",
                                "end_time": "12:00", "place": "평택시 비전동", "address": "평택시 비전동 1", "consent": "yes"})
    sign_in(client, engine)
    client.post(f"/console/requests/{ref}/forms/referral", data={"official_name": "오지원", "official_org": "비전1동",
                                                                 "official_phone": "031-000-0000", "service_kind": "facility",
                                                                 "needs_summary": "보호자 입원", "consent_confirmed": "yes"})
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=SEOUL))
    client.post(f"{home}/r/{ref}/checkin", data={"code": assignment.handover_code})
    client.post(f"{home}/r/{ref}/log", data={"start_time": "09:00", "end_time": "18:00", "activities": "서윤이와 놀이",
                                             "incident": "yes", "incident_note": "서윤 넘어짐", "health": "흡입기 사용"})
    clock.set(datetime(2026, 11, 25, 12, 0, tzinfo=SEOUL))  # early: the reason is free text, blanked below
    assert client.post(f"{home}/r/{ref}/checkout", data={"confirm": "yes", "reason": "서윤 조퇴"},
                       follow_redirects=False).status_code == 303
    clock.advance(days=91)
    with Session(engine) as s:
        assert purge(s, now=clock.now(), retention_days=90, access_log_days=730) == 1
        s.commit()
        assert s.exec(select(HealthRecord)).first() is None
        log = s.exec(select(ServiceLog)).one()
        assert log.activities == log.incident_note == "" and log.incident  # the fact stays, the words go
        assert s.exec(select(CareVisit)).one().checkout_reason == ""
        assert s.exec(select(ReferralForm)).one().needs_summary == ""
        assert s.exec(select(VerificationCode)).first() is None
        assert "(삭제됨)" == s.exec(select(OutboxMessage).where(OutboxMessage.kind == "apply_code")).one().body


def test_unicode_digits_in_an_adjustment_are_a_clear_refusal(client, app, engine, clock, operator, demo, caplog):
    """Issue 18, defect 2: `minutes=²` passed `str.isdigit()` and then broke `int()` — a 500 whose log line
    carried the workspace token."""
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    token = home.rsplit("/", 1)[1]
    for typed in ("²", "①", "٣٠", "6O", "-30", "99999999"):
        res = client.post(f"{home}/r/{ref}/adjust", data={"kind": "extend", "minutes": typed, "reason": "지연"})
        assert res.status_code == 422, (typed, res.status_code)
        assert "숫자" in res.text or "15분 이상" in res.text
        api = client.post(f"{home}/r/{ref}/adjust", data={"kind": "extend", "minutes": typed},
                          headers={"Accept": "application/json"})
        assert api.status_code == 422 and api.json()["errors"][0]["field"] == "minutes"
    with Session(engine) as s:
        assert s.exec(select(Adjustment)).first() is None
    assert not any(token in r.getMessage() for r in caplog.records)


def test_a_new_workspace_link_revokes_the_old_one_and_lives_as_long_as_the_setting(client, app, engine, clock,
                                                                                   operator, demo):
    """Issue 18: re-sending a provider's workspace link revokes the one sent before; the lifetime is a setting.
    The providers page that shows their phones is an access record."""
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    sign_in(client, engine)

    def send() -> str:
        assert client.post(f"/console/providers/{assignment.provider_id}/workspace-link",
                           follow_redirects=False).status_code == 303
        with Session(engine) as s:
            body = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "workspace_link")
                          .order_by(OutboxMessage.id.desc())).first().body
        return re.search(r"/p/\S+", body).group()

    first = send()
    assert client.get(first).status_code == 200 and client.get(home).status_code == 404  # the test's own link: older
    second = send()
    assert client.get(first).status_code == 404 and client.get(second).status_code == 200
    assert client.get(f"{second}/r/{ref}").status_code == 200
    assert client.get("/console/providers", follow_redirects=False).status_code == 200
    with Session(engine) as s:
        assert s.exec(select(AccessLog).where(AccessLog.action == "console_read_providers")).first() is not None
    clock.advance(days=app.state.settings.workspace_link_days, minutes=1)
    assert client.get(second).status_code == 404
