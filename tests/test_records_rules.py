"""Issue 19, acceptance 5: records that cannot contradict themselves. A first-time provider checked in 21 hours
early, checked out with one tap before the start (the booking became "13:45–13:45", the survey went at once,
"제공 완료" was filed for 0 minutes) and saved a log ending before it began. Each rule here: check-in only from
`checkin_early_minutes` before the start until the end; check-out only after check-in and after the start, with
a confirmation step and, when early, a reason (the placement ends at the real check-out, the request keeps its
booked end); a log's times inside the shift; a result of care given needs a positive duration; the operator's
decision on an adjustment texts the provider and the parent; the handover code is read without its spaces and
dashes; and a refused adjustment request shows the form again with what was typed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select

from hotline import offers
from hotline.core.clock import SEOUL
from hotline.models import Assignment, CareRequest, Guardian, OutboxMessage, Provider
from hotline.models.records import Adjustment, CareVisit, ServiceLog
from hotline.records.rules import normal_code
from hotline.requests.lifecycle import RequestStatus
from test_console import sign_in
from test_records import placed

JSON = {"Accept": "application/json"}


def at(hour: int, minute: int = 0, day: int = 25) -> datetime:
    """A moment of the day of care (the suite's request: 25 November 2026, 09:00–18:00 Seoul)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SEOUL)


def visit_of(engine, care_id: int) -> CareVisit | None:
    with Session(engine) as s:
        return s.exec(select(CareVisit).where(CareVisit.request_id == care_id)).first()


def texts(engine, kind: str) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def _language(engine, provider_id: int, language: str) -> None:
    with Session(engine) as s:
        provider = s.get(Provider, provider_id)
        provider.language = language
        s.add(provider)
        s.commit()


def checked_in(client, clock, assignment, shift: str, when: datetime) -> None:
    clock.set(when)
    assert client.post(f"{shift}/checkin", data={"code": assignment.handover_code},
                       follow_redirects=False).status_code == 303


# --- check-in -------------------------------------------------------------------------------------------

def test_check_in_21_hours_early_is_refused_naming_when_it_opens(client, app, engine, clock, operator, demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    shift = f"{home}/r/{ref}"
    assert app.state.settings.checkin_early_minutes == 30
    clock.set(at(12, 0, day=24))  # 21 hours before the 09:00 start
    page = client.post(f"{shift}/checkin", data={"code": assignment.handover_code})
    assert page.status_code == 422 and "체크인(입실)은 11/25(수) 08:30부터 할 수 있습니다" in page.text
    assert "Check-in opens" not in page.text  # a Korean page speaks Korean only (issue 21) ...
    _language(engine, assignment.provider_id, "en")  # ... and a provider whose language is English reads English
    english = client.post(f"{shift}/checkin", data={"code": assignment.handover_code})
    assert english.status_code == 422 and '<html lang="en">' in english.text
    assert "Check-in opens at Wed 11/25 08:30" in english.text and "체크인(입실)은" not in english.text
    _language(engine, assignment.provider_id, "ko")
    api = client.post(f"{shift}/checkin", data={"code": assignment.handover_code}, headers=JSON)
    assert api.status_code == 422 and api.headers["content-type"].startswith("application/problem+json")
    assert "08:30" in api.json()["detail"] and "08:30" in api.json()["detail_en"]
    assert "입실은 11/25(수) 08:30부터" in client.get(shift).text  # the shift page says so before anyone tries
    clock.set(at(8, 29))  # the same day: the time alone
    early = client.post(f"{shift}/checkin", data={"code": assignment.handover_code})
    assert early.status_code == 422 and "체크인(입실)은 08:30부터 할 수 있습니다" in early.text
    with Session(engine) as s:
        assert s.get(CareRequest, care_id).status == RequestStatus.confirmed
        visit = s.exec(select(CareVisit).where(CareVisit.request_id == care_id)).first()
        assert visit is None or (visit.checked_in_at is None and visit.code_tries == 0)  # not a wrong code
    checked_in(client, clock, assignment, shift, at(8, 30))
    with Session(engine) as s:
        assert s.get(CareRequest, care_id).status == RequestStatus.in_care


def test_check_in_after_the_end_is_refused(client, app, engine, clock, operator, demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    clock.set(at(18, 0))
    late = client.post(f"{home}/r/{ref}/checkin", data={"code": assignment.handover_code}, headers=JSON)
    assert late.status_code == 422 and "18:00" in late.json()["detail"]
    assert visit_of(engine, care_id) is None


@pytest.mark.parametrize("typed", ["{a}{b} {c}{d}", "{a} {b} {c} {d}", "{a}{b}-{c}{d}", " {a}{b}–{c}{d} ",
                                   "{a}{b}－{c}{d}", "１２３４"])
def test_a_spaced_or_dashed_handover_code_is_accepted(typed, client, app, engine, clock, operator, demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    code = assignment.handover_code
    if typed == "１２３４":  # fullwidth digits, as some keyboards type them
        typed = "".join(chr(ord(d) - ord("0") + ord("０")) for d in code)
    typed = typed.format(a=code[0], b=code[1], c=code[2], d=code[3])
    assert normal_code(typed) == code
    clock.set(at(9, 0))
    assert client.post(f"{home}/r/{ref}/checkin", data={"code": typed}, follow_redirects=False).status_code == 303
    assert visit_of(engine, care_id).checked_in_at == at(9, 0)


def test_a_wrong_spaced_code_still_counts(client, app, engine, clock, operator, demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    wrong = "0000" if assignment.handover_code != "0000" else "1111"
    clock.set(at(9, 0))
    res = client.post(f"{home}/r/{ref}/checkin", data={"code": f"{wrong[:2]} {wrong[2:]}"})
    assert res.status_code == 422 and "4번 남음" in res.text
    assert visit_of(engine, care_id).code_tries == 1


# --- check-out ------------------------------------------------------------------------------------------

def test_check_out_before_the_start_is_refused(client, app, engine, clock, operator, demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    shift = f"{home}/r/{ref}"
    clock.set(at(8, 40))
    assert client.post(f"{shift}/checkout", data={"confirm": "yes", "reason": "x"}).status_code == 409  # not in yet
    checked_in(client, clock, assignment, shift, at(8, 40))  # the child is dropped off early
    clock.set(at(8, 50))
    for data in ({"confirm": "yes", "reason": "보호자가 일찍 옴"}, {}):
        page = client.post(f"{shift}/checkout", data=data)
        assert page.status_code == 422 and "돌봄 시작(09:00) 후에 퇴실할 수 있습니다" in page.text
    step = client.get(f"{shift}/checkout")
    assert step.status_code == 422 and "돌봄 시작(09:00) 후에 퇴실할 수 있습니다" in step.text
    assert "퇴실은 돌봄 시작(09:00) 후에" in client.get(shift).text  # the shift page says so too
    api = client.post(f"{shift}/checkout", data={"confirm": "yes", "reason": "보호자가 일찍 옴"}, headers=JSON)
    assert api.status_code == 422 and api.json()["type"] == "/problems/outside-shift"
    clock.set(at(9, 0))  # at the start itself: still nothing to end
    assert client.post(f"{shift}/checkout", data={"confirm": "yes", "reason": "보호자가 일찍 옴"}).status_code == 422
    with Session(engine) as s:
        assert s.get(CareRequest, care_id).status == RequestStatus.in_care
        assert s.get(Assignment, assignment.id).end_at == assignment.end_at
        assert s.exec(select(CareVisit)).one().checked_out_at is None
    assert texts(engine, "survey") == []


def test_check_out_needs_the_confirmation_step(client, app, engine, clock, operator, demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    shift = f"{home}/r/{ref}"
    checked_in(client, clock, assignment, shift, at(8, 55))
    clock.set(at(18, 2))
    assert 'action="/p/' in client.get(shift).text and 'id="checkout"' in client.get(shift).text
    step = client.get(f"{shift}/checkout")  # the button opens the confirmation page: nothing happens yet
    assert step.status_code == 200 and "퇴실 확정" in step.text and "9시간 7분" in step.text
    assert 'name="confirm" value="yes"' in step.text and "조기 퇴실 사유" not in step.text
    one_tap = client.post(f"{shift}/checkout")  # the old one-tap form: the confirmation page instead
    assert one_tap.status_code == 422 and "퇴실 확정" in one_tap.text
    api = client.post(f"{shift}/checkout", headers=JSON)
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "confirm"
    assert visit_of(engine, care_id).checked_out_at is None
    assert client.post(f"{shift}/checkout", data={"confirm": "yes"}, follow_redirects=False).status_code == 303
    with Session(engine) as s:
        assert s.get(CareRequest, care_id).status == RequestStatus.completed
        assert s.get(Assignment, assignment.id).end_at == assignment.end_at  # a late check-out moves nothing
        assert s.exec(select(CareVisit)).one().checked_out_at == at(18, 2)
    assert len(texts(engine, "survey")) == 1


def test_an_early_check_out_asks_a_reason_and_records_the_real_times(client, app, engine, clock, operator, demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    shift = f"{home}/r/{ref}"
    checked_in(client, clock, assignment, shift, at(9, 5))
    clock.set(at(13, 45))
    step = client.get(f"{shift}/checkout")
    assert "예약 종료(18:00)보다 일찍 퇴실합니다" in step.text and "조기 퇴실 사유" in step.text
    no_reason = client.post(f"{shift}/checkout", data={"confirm": "yes", "reason": " "})
    assert no_reason.status_code == 422 and "사유를 적어 주세요" in no_reason.text and "퇴실 확정" in no_reason.text
    api = client.post(f"{shift}/checkout", data={"confirm": "yes"}, headers=JSON)
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "reason"
    unconfirmed = client.post(f"{shift}/checkout", data={"reason": "보호자 조기 귀가"})  # the reason is kept
    assert unconfirmed.status_code == 422 and "보호자 조기 귀가</textarea>" in unconfirmed.text
    assert visit_of(engine, care_id).checked_out_at is None
    assert client.post(f"{shift}/checkout", data={"confirm": "yes", "reason": "보호자 조기 귀가"},
                       follow_redirects=False).status_code == 303
    with Session(engine) as s:
        care, placement = s.get(CareRequest, care_id), s.get(Assignment, assignment.id)
        visit = s.exec(select(CareVisit)).one()
        assert (visit.checked_in_at, visit.checked_out_at) == (at(9, 5), at(13, 45))
        assert visit.checkout_reason == "보호자 조기 귀가"
        assert placement.end_at == at(13, 45)  # the provider is free from now on
        assert (care.start_at, care.end_at) == (at(9, 0), at(18, 0))  # the booking as it was
        assert care.status == RequestStatus.completed
    page = client.get(shift).text
    assert "13:45" in page and "11/25(수) 09:00–18:00" in page and "보호자 조기 귀가" in page
    sign_in(client, engine)
    records = client.get(f"/console/requests/{ref}/records").text
    assert "11/25(수) 09:00–18:00" in records and "보호자 조기 귀가" in records and "13:45" in records


def test_a_check_out_after_the_day_job_completed_the_care_is_still_recorded(client, app, engine, clock, operator,
                                                                             demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    shift = f"{home}/r/{ref}"
    checked_in(client, clock, assignment, shift, at(9, 0))
    clock.set(at(18, 20))
    with Session(engine) as s:  # the care day job ends the care at its booked end, and sends the survey
        offers.run_care_day(s, now=clock.now(), ctx=app.state.offer_context)
        s.commit()
    assert client.post(f"{shift}/checkout", data={"confirm": "yes"}, follow_redirects=False).status_code == 303
    assert visit_of(engine, care_id).checked_out_at == at(18, 20)
    assert len(texts(engine, "survey")) == 1  # not twice
    assert client.post(f"{shift}/result", data={"result": "provided"}, follow_redirects=False).status_code == 303


# --- the daily log ----------------------------------------------------------------------------------------

LOG = {"activities": "블록 놀이", "meals": "점심", "notes": "낮잠 1시간"}


def test_a_log_ending_before_it_starts_is_refused_and_the_form_keeps_what_was_typed(client, app, engine, clock,
                                                                                    operator, demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    shift = f"{home}/r/{ref}"
    checked_in(client, clock, assignment, shift, at(9, 0))
    clock.set(at(17, 0))
    backwards = client.post(f"{shift}/log", data={**LOG, "start_time": "17:00", "end_time": "09:00"})
    assert backwards.status_code == 422 and "종료 시각은 시작 시각보다 늦어야 합니다" in backwards.text
    assert "블록 놀이</textarea>" in backwards.text and 'value="17:00"' in backwards.text  # nothing lost
    same = client.post(f"{shift}/log", data={**LOG, "start_time": "10:00", "end_time": "10:00"}, headers=JSON)
    assert same.status_code == 422 and same.json()["errors"][0]["field"] == "end_time"
    with Session(engine) as s:
        assert s.exec(select(ServiceLog)).first() is None


def test_log_times_lie_inside_the_shift(client, app, engine, clock, operator, demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    shift = f"{home}/r/{ref}"
    checked_in(client, clock, assignment, shift, at(8, 40))  # early: the real check-in widens the shift
    clock.set(at(12, 0))
    for start, end, field in (("06:00", "12:00", "start_time"), ("09:00", "19:00", "end_time"),
                              ("20:00", "22:00", "start_time")):
        res = client.post(f"{shift}/log", data={**LOG, "start_time": start, "end_time": end}, headers=JSON)
        assert res.status_code == 422 and res.json()["errors"][0]["field"] == field, (start, end, res.text)
        assert "돌봄 시간(08:40–18:00)" in res.json()["errors"][0]["message"]
    # a rounded time a few minutes outside (LOG_SLACK) is fine; "9:00" is stored as 09:00
    assert client.post(f"{shift}/log", data={**LOG, "start_time": "8:35", "end_time": "18:10"},
                       follow_redirects=False).status_code == 303
    with Session(engine) as s:
        log = s.exec(select(ServiceLog)).one()
        assert (log.start_time, log.end_time) == ("08:35", "18:10")
    # after an early check-out the shift ends there: a log to the booked end would contradict it
    clock.set(at(14, 0))
    assert client.post(f"{shift}/checkout", data={"confirm": "yes", "reason": "보호자 조기 귀가"},
                       follow_redirects=False).status_code == 303
    after = client.post(f"{shift}/log", data={**LOG, "start_time": "08:40", "end_time": "18:00"}, headers=JSON)
    assert after.status_code == 422 and after.json()["errors"][0]["field"] == "end_time"
    assert client.post(f"{shift}/log", data={**LOG, "start_time": "08:40", "end_time": "14:00"},
                       follow_redirects=False).status_code == 303


def test_a_night_shift_log_runs_past_midnight(client, app, engine, clock, operator, demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    shift = f"{home}/r/{ref}"
    with Session(engine) as s:  # the same placement moved to the night of the 25th
        for row in (s.get(Assignment, assignment.id), s.get(CareRequest, care_id)):
            row.start_at, row.end_at = at(22, 0), at(6, 0, day=26)
            s.add(row)
        s.commit()
    checked_in(client, clock, assignment, shift, at(21, 55))
    clock.set(at(5, 50, day=26))
    assert client.post(f"{shift}/log", data={**LOG, "start_time": "22:00", "end_time": "06:00"},
                       follow_redirects=False).status_code == 303
    backwards = client.post(f"{shift}/log", data={**LOG, "start_time": "05:00", "end_time": "23:00"}, headers=JSON)
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "end_time"


# --- the service result -----------------------------------------------------------------------------------

def test_a_zero_minute_result_is_refused_but_not_provided_is_possible(client, app, engine, clock, operator, demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    shift = f"{home}/r/{ref}"
    checked_in(client, clock, assignment, shift, at(9, 5))  # in and out at once: no care was given
    assert client.post(f"{shift}/checkout", data={"confirm": "yes", "reason": "아동 미등원"},
                       follow_redirects=False).status_code == 303
    for result in ("provided", "partial"):
        page = client.post(f"{shift}/result", data={"result": result, "note": ""})
        assert page.status_code == 422 and "0분" in page.text and "미제공" in page.text
        api = client.post(f"{shift}/result", data={"result": result}, headers=JSON)
        assert api.status_code == 422 and api.json()["errors"][0]["field"] == "result"
    assert visit_of(engine, care_id).result is None
    assert client.post(f"{shift}/result", data={"result": "not_provided", "note": "아동 미등원"},
                       follow_redirects=False).status_code == 303
    assert visit_of(engine, care_id).result == "not_provided"


# --- the operator's decision on an adjustment --------------------------------------------------------------

def _ask(client, engine, clock, assignment, shift: str, *, kind="extend", minutes="60", reason="아이가 열이 나서 보호자 늦음"):
    checked_in(client, clock, assignment, shift, at(9, 0))
    assert client.post(f"{shift}/adjust", data={"kind": kind, "minutes": minutes, "reason": reason},
                       follow_redirects=False).status_code == 303
    with Session(engine) as s:
        return s.exec(select(Adjustment)).one()


def _people(engine, care_id: int, assignment) -> tuple[Provider, Guardian]:
    with Session(engine) as s:
        provider = s.get(Provider, assignment.provider_id)
        guardian = s.get(Guardian, s.get(CareRequest, care_id).guardian_id)
        return provider, guardian


def test_an_approved_adjustment_texts_the_provider_and_the_parent(client, app, engine, clock, operator, demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator, health_notes="땅콩 알레르기",
                                            consent={"guardian_consent": True, "health_consent": True})
    adjustment = _ask(client, engine, clock, assignment, f"{home}/r/{ref}")
    sign_in(client, engine)
    assert client.post(f"/console/adjustments/{adjustment.id}", data={"decision": "approve"},
                       follow_redirects=False).status_code == 303
    provider, guardian = _people(engine, care_id, assignment)
    [to_provider] = texts(engine, "adjustment_provider_approved")
    [to_parent] = texts(engine, "adjustment_parent_approved")
    assert to_provider.to == provider.phone and ref in to_provider.body and "09:00–19:00" in to_provider.body
    assert to_parent.to == guardian.phone and "09:00–19:00" in to_parent.body and "승인" in to_parent.body
    for body in (to_provider.body, to_parent.body):
        assert "땅콩" not in body and "열이" not in body  # neither health notes nor the typed reason
    assert texts(engine, "adjustment_parent_refused") == []


def test_a_refused_adjustment_texts_both_in_their_languages(client, app, engine, clock, operator, demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator,
                                            guardian={"name": "Kim Haneul", "phone": "010-5550-1234",
                                                      "language": "en"})
    adjustment = _ask(client, engine, clock, assignment, f"{home}/r/{ref}", kind="shorten", minutes="120")
    sign_in(client, engine)
    assert client.post(f"/console/adjustments/{adjustment.id}", data={"decision": "reject"},
                       follow_redirects=False).status_code == 303
    provider, guardian = _people(engine, care_id, assignment)
    [to_provider] = texts(engine, "adjustment_provider_refused")
    [to_parent] = texts(engine, "adjustment_parent_refused")
    assert to_provider.to == provider.phone and "반려" in to_provider.body and "09:00–18:00" in to_provider.body
    assert to_parent.to == guardian.phone and to_parent.language == "en"
    assert "not approved" in to_parent.body and "09:00-18:00" in to_parent.body  # GSM-folded dash
    with Session(engine) as s:
        assert s.get(Assignment, assignment.id).end_at == at(18, 0)


# --- a refused adjustment request keeps what was typed ------------------------------------------------------

def test_a_second_adjustment_request_is_refused_and_the_typed_reason_is_kept(client, app, engine, clock, operator,
                                                                            demo):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    shift = f"{home}/r/{ref}"
    _ask(client, engine, clock, assignment, shift, reason="보호자 귀가 지연")
    second = client.post(f"{shift}/adjust", data={"kind": "shorten", "minutes": "30", "reason": "아이 컨디션 저하로 일찍 귀가"})
    assert second.status_code == 409 and "처리를 기다리는 조정신청이 이미 있습니다" in second.text
    assert 'value="아이 컨디션 저하로 일찍 귀가"' in second.text and 'value="30"' in second.text
    assert '<option value="shorten" selected>' in second.text
    bad_minutes = client.post(f"{shift}/adjust", data={"kind": "extend", "minutes": "5", "reason": "잠깐 연장"})
    assert bad_minutes.status_code in (409, 422) and 'value="잠깐 연장"' in bad_minutes.text
    with Session(engine) as s:
        assert len(s.exec(select(Adjustment)).all()) == 1
