"""Online applications: same rules as the operator form, a one-time SMS code (throttled, expiring, five
tries), the request lands in the offer loop marked 온라인, and the parent's status page cancels, asks
for a call-back and takes the survey (a 2 opens a follow-up case). No answer reveals whether a phone
already has a request."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from conftest import request_body
from test_console import sign_in
from hotline.models.aftercare import FollowUpCase
from hotline.applications import ONLINE_ACTOR
from hotline.requests.lifecycle import RequestStatus
from hotline.models import AccessLog, CareRequest, Offer, OutboxMessage

FORM = {
    "guardian_name": "김하늘", "guardian_phone": "010-5550-1234", "child0_name": "서윤", "child0_birth": "2021-03-14",
    "reason": "illness", "day": "2026-11-25", "start_time": "09:00", "end_time": "18:00",
    "place": "평택시 비전동", "address": "평택시 비전동 123-4", "consent": "yes",
}


def apply(client, **changes):
    return client.post("/apply", data={**FORM, **changes}, follow_redirects=False)


def last_code(engine) -> str:
    with Session(engine) as s:
        body = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "apply_code")
                      .order_by(OutboxMessage.id.desc())).first().body
    return re.search(r"\d{6}", body).group()


def test_online_application_lands_in_the_offer_loop(client, engine, demo):
    page = client.get("/apply")
    assert page.status_code == 200 and "긴급 돌봄 온라인 신청" in page.text and "[선택] 건강정보" in page.text
    sent = apply(client)
    assert sent.status_code == 303, sent.text
    code_url = sent.headers["location"]
    wrong = client.post(code_url, data={"code": "000000" if last_code(engine) != "000000" else "111111"})
    assert wrong.status_code == 422 and "4번 더" in wrong.text
    done = client.post(code_url, data={"code": last_code(engine)}, follow_redirects=False)
    assert done.status_code == 303
    status_url = done.headers["location"]
    with Session(engine) as s:
        care = s.exec(select(CareRequest)).one()
        assert care.created_by == ONLINE_ACTOR and care.consent_by == ONLINE_ACTOR
        assert care.status == RequestStatus.offered  # the same intake and offer loop as a call
        assert s.exec(select(Offer).where(Offer.request_id == care.id)).first() is not None
    assert client.post(code_url, data={"code": last_code(engine)}).status_code == 410  # one use
    page = client.get(status_url)
    assert "기관 답 기다리는 중" in page.text and "수락을 기다리고" in page.text and care.ref in page.text
    assert "제안 중" not in page.text  # the operator's word
    sign_in(client, engine)  # the operator sees the channel on the board and the request
    board = client.get("/console").text
    assert re.search(care.ref + r'</a> <span class="sub muted small-text channel">온라인</span>', board)
    assert '<span id="channel">온라인</span>' in client.get(f"/console/requests/{care.ref}").text
    assert client.post(status_url + "/callback", follow_redirects=False).status_code == 303
    with Session(engine) as s:
        assert s.get(CareRequest, care.id).needs_attention
    assert client.post(status_url + "/cancel", follow_redirects=False).status_code == 303
    with Session(engine) as s:
        assert s.get(CareRequest, care.id).status == RequestStatus.cancelled
    assert client.post(status_url + "/cancel").status_code == 422  # once


def test_the_operator_forms_rules_apply(client, engine):
    too_old = apply(client, child0_birth="2013-01-05")  # 13 since January
    assert too_old.status_code == 422 and "만 12세 이하" in too_old.text and "이미 만 13세입니다" in too_old.text
    no_consent = apply(client, consent="")
    assert no_consent.status_code == 422 and "개인정보 수집·이용 동의" in no_consent.text
    health = apply(client, health_notes="땅콩 알레르기")
    assert health.status_code == 422 and "건강 정보" in health.text
    problem = client.post("/apply", data={**FORM, "place": "없는동네"}, headers={"Accept": "application/json"})
    assert problem.status_code == 422 and problem.headers["content-type"].startswith("application/problem+json")
    assert problem.json()["errors"][0]["field"] == "location.place" and problem.json()["errors"][0]["message_en"]
    with Session(engine) as s:
        assert s.exec(select(CareRequest)).first() is None
        assert s.exec(select(OutboxMessage)).first() is None  # nothing sent for a refused form


def test_code_guessing_is_throttled_and_codes_expire(client, engine, clock, demo):
    code_url = apply(client).headers["location"]
    right = last_code(engine)
    wrong = "123456" if right != "123456" else "654321"
    for left in (4, 3, 2, 1):
        assert f"{left}번 더" in client.post(code_url, data={"code": wrong}).text
    assert client.post(code_url, data={"code": wrong}).status_code == 410  # fifth wrong try ends the code
    assert client.post(code_url, data={"code": right}).status_code == 410  # even the right one, now
    later = apply(client, guardian_phone="010-5550-2222").headers["location"]
    clock.advance(minutes=11)
    assert client.post(later, data={"code": last_code(engine)}).status_code == 410  # expired
    # a third code for the same phone within the hour is the last; the fourth is refused
    assert apply(client).status_code == 303 and apply(client).status_code == 303
    assert apply(client).status_code == 429
    with Session(engine) as s:
        assert s.exec(select(CareRequest)).first() is None


def test_per_client_limit_and_no_enumeration(client, engine, operator):
    existing = client.post("/v1/requests", json=request_body(), headers=operator)
    assert existing.status_code == 201, existing.text  # 010-5550-1234 has a request; 010-5550-7777 has none
    known = apply(client)
    unknown = apply(client, guardian_phone="010-5550-7777")
    assert known.status_code == unknown.status_code == 303
    assert client.get(known.headers["location"]).text.replace(known.headers["location"], "") == \
        client.get(unknown.headers["location"]).text.replace(unknown.headers["location"], "")
    for i in range(8):  # ten codes an hour from one address, whatever the phones
        assert apply(client, guardian_phone=f"010-5551-{i:04d}").status_code == 303
    assert apply(client, guardian_phone="010-5559-0000").status_code == 429


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite serialises writers anyway
def test_parallel_guesses_count_one_after_another(app, engine, clock, demo):
    from concurrent.futures import ThreadPoolExecutor

    from hotline.applications import service
    from hotline.requests.schemas import CareRequestCreate

    ctx = app.state.offer_context
    with Session(engine) as s:
        ticket = service.send_code(s, CareRequestCreate.model_validate(request_body()), client="10.0.0.1",
                                   now=clock.now(), ctx=ctx, secret="k")
        s.commit()
        ticket_id = ticket.id

    def guess(_):
        with Session(engine) as s:
            try:
                service.confirm_code(s, ticket_id, "abcdef", now=clock.now(), ctx=ctx, secret="k")
            except (service.WrongCode, service.CodeGone) as exc:
                s.commit()
                return type(exc).__name__

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(guess, range(12)))
    assert outcomes.count("WrongCode") == service.MAX_TRIES - 1 and outcomes.count("CodeGone") == 12 - 4


def test_an_unconfirmed_draft_is_unreadable_and_gone_when_its_code_expires(client, engine, clock, demo, loop):
    """Issue 18, defect 11: the draft kept the guardian's name, phone and children in clear until a day after
    it expired. Now it is sealed with the code (nobody reading the database can open it) and deleted at
    the code's expiry; the row stays for the hourly limits."""

    from sqlalchemy import text

    from hotline import jobs
    from hotline.models.applications import VerificationCode

    def stored() -> str:
        with Session(engine) as s:
            return repr(s.exec(text("SELECT * FROM verification_code")).all())

    assert apply(client).status_code == 303
    first = stored()
    for plain in ("김하늘", "서윤", "010-5550-1234", "+821055501234", "1055501234", "비전동", "2021-03-14"):
        assert plain not in first
    sent = apply(client, guardian_phone="010-5550-2222")  # a second one, confirmed in time
    code = last_code(engine)
    assert client.post(sent.headers["location"], data={"code": code}, follow_redirects=False).status_code == 303
    clock.advance(minutes=11)
    jobs.tick()
    with Session(engine) as s:
        tickets = s.exec(select(VerificationCode).order_by(VerificationCode.id)).all()
        assert [t.sealed_draft for t in tickets] == [None, None] and tickets[1].request_id is not None


def marked(html: str) -> list[str]:
    """The inputs a page marks invalid, in page order."""
    return re.findall(r'<(?:input|textarea|select)\b[^>]*?\bid="([\w-]+)"[^>]*aria-invalid="true"', html)


def test_errors_are_marked_at_each_field_summed_up_with_links_and_the_form_kept(client, engine):
    """Issue 21: errors only at the top of a long form. Each field is marked, its message beside it, a
    summary links to each in page order, the first takes the focus, and everything typed comes back."""
    res = apply(client, guardian_phone="010-12", start_time="18:00", end_time="09:00", consent="",
                notes="현관 비밀번호는 전화로")
    assert res.status_code == 422
    html = res.text
    assert marked(html) == ["guardian_phone", "end_time", "consent"]
    summary = html[html.index('class="card error-summary"'):html.index("</div>", html.index("error-summary"))]
    assert re.findall(r'<a href="#([\w-]+)"', summary) == ["guardian_phone", "end_time", "consent"]
    assert re.search(r'<input id="guardian_phone"[^>]*aria-describedby="guardian_phone-hint guardian_phone-error"'
                     r'[^>]*aria-invalid="true" autofocus>', html)
    assert html.count(" autofocus") == 1
    assert '<p class="field-error" id="end_time-error">' in html
    # the end before the start is said so (not "at most 12 hours" as the only reason)
    assert "종료 시각(09:00)이 시작 시각(18:00)보다 빠릅니다" in html
    for typed in ('value="김하늘"', 'value="010-12"', 'value="2021-03-14"', 'value="18:00"', 'value="09:00"',
                  "현관 비밀번호는 전화로", 'value="평택시 비전동 123-4"', '<option value="illness" selected>'):
        assert typed in html, typed
    # Korean only on the Korean page: the English is the problem+json's
    assert 'lang="en"' not in html and "Check the mobile number" not in html and "The end" not in html
    problem = client.post("/apply", data={**FORM, "start_time": "18:00", "end_time": "09:00"},
                          headers={"Accept": "application/json"}).json()
    assert problem["errors"][0]["field"] == "end_at" and problem["errors"][0]["message_en"].startswith("The end (09:00)")


def test_a_13_year_old_and_windows_past_midnight(client, engine, demo):
    old = apply(client, child0_birth="2013-01-01")
    assert old.status_code == 422 and marked(old.text) == ["child0_birth"]
    assert "서윤 어린이는 이미 만 13세입니다(2026년 1월 1일에 만 13세가 되었습니다)" in old.text
    assert "돌봄 중" not in old.text
    second_row = apply(client, child0_name="", child0_birth="", child2_name="서윤", child2_birth="2013-01-01")
    assert marked(second_row.text) == ["child2_birth"]  # the row the parent filled, not the first
    night = apply(client, start_time="20:00", end_time="02:00")  # six hours past midnight: fine
    assert night.status_code == 303, night.text
    long_day = apply(client, guardian_phone="010-5550-2222", start_time="09:00", end_time="24:00")
    assert long_day.status_code == 422 and "최대 12시간" in long_day.text and "빠릅니다" not in long_day.text
    empty = apply(client, guardian_name="", day="", place="")
    assert marked(empty.text) == ["guardian_name", "day", "place"]
    assert "보호자 이름을 입력해 주세요." in empty.text and "돌봄 날짜를 입력해 주세요." in empty.text


def test_placeholders_are_no_answers_and_the_hotline_number_is_given(client, app):
    page = client.get("/apply").text
    assert "placeholder=" not in page
    assert "오늘은 2026-11-24입니다" in page  # the day's hint, from the clock: never a date gone by
    number = app.state.settings.hotline_number
    assert f'상담 전화(<a href="tel:{number.replace("-", "")}" id="hotline">{number}</a>)로도 신청할 수 있습니다' in page


def test_send_the_code_again_and_change_the_number(client, engine, demo):
    first = apply(client)
    code_url = first.headers["location"]
    first_code = last_code(engine)
    page = client.get(code_url).text
    assert f'action="{code_url}/resend"' in page and f'href="{code_url}/edit"' in page
    again = client.post(code_url + "/resend", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].endswith("?sent=1")
    new_url = again.headers["location"].split("?")[0]
    assert "새 인증번호를 보냈습니다" in client.get(again.headers["location"]).text
    second_code = last_code(engine)
    assert client.post(code_url, data={"code": first_code}).status_code == 410  # the old one is retired
    # the hourly limit holds: a third code is the last for this phone; the fourth is refused, the third still works
    third = client.post(new_url + "/resend", follow_redirects=False)
    assert third.status_code == 303 and last_code(engine) != second_code
    third_url = third.headers["location"].split("?")[0]
    refused = client.post(third_url + "/resend")
    assert refused.status_code == 429 and "1시간 뒤에 다시 시도" in refused.text
    assert marked(refused.text) == [] and "errors-title" in refused.text
    # change the number: the form as typed, focus on the phone
    edit = client.get(third_url + "/edit")
    assert edit.status_code == 200 and 'value="김하늘"' in edit.text and 'value="2021-03-14"' in edit.text
    assert re.search(r'<input id="guardian_phone"[^>]*value="010-5550-1234"[^>]*autofocus>', edit.text)
    moved = client.post("/apply", data={**FORM, "guardian_phone": "010-5550-4444"}, follow_redirects=False)
    assert moved.status_code == 303
    done = client.post(moved.headers["location"], data={"code": last_code(engine)}, follow_redirects=False)
    assert done.status_code == 303 and "/apply/s/" in done.headers["location"]
    # another browser (no cookie) cannot open the form as typed
    client.cookies.clear()
    assert "이 브라우저에서 입력하신 내용을 찾을 수 없습니다" in client.get(third_url + "/edit").text


def _accept_first_offer(app, engine, clock, care_id: int) -> int:
    from hotline import offers
    from hotline.models import OfferStatus

    with Session(engine, expire_on_commit=False) as s:
        offer = s.exec(select(Offer).where(Offer.request_id == care_id, Offer.status == OfferStatus.pending)
                       .order_by(Offer.rank)).first()
        offers.answer(s, offer.id, accept=True, channel="link", now=clock.now(), ctx=app.state.offer_context)
        s.commit()
        return offer.provider_id


def test_one_status_page_for_every_request_refreshing_itself(client, app, engine, clock, operator, demo):
    """Issue 21: `/s/` (the SMS link of a call) and `/apply/s/` said different things. Now the SMS link leads
    to the one page, which speaks the parent's words, says what comes next and when, and serves its
    changing parts as JSON for the page to refresh itself."""
    from hotline.core import links
    from hotline.models import Provider

    care = client.post("/v1/requests", json=request_body(), headers=operator).json()
    sms_link = links.status_url("", app.state.settings.secret_key, care["id"], clock.now() + timedelta(days=2))
    moved = client.get(sms_link, follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"].startswith("/apply/s/")
    page_url = moved.headers["location"]
    page = client.get(page_url).text
    assert '<span id="status">기관 답 기다리는 중</span>' in page and "제안 중" not in page
    assert "보통 15분 안에 정해집니다. 08:15까지 정해지지 않으면 상담원도 함께 확인합니다." in page
    assert 'data-live-url="' + page_url + '/live"' in page and 'id="announce" role="status" aria-live="polite"' in page
    before = client.get(page_url + "/live").json()
    assert before["poll"] == 10 and "기관 답 기다리는 중" in before["live"]
    provider_id = _accept_first_offer(app, engine, clock, care["id"])
    after = client.get(page_url + "/live").json()
    assert after["version"] != before["version"] and after["poll"] == 30
    assert '<span id="status">돌봄 확정</span>' in after["live"] and "돌봄 1시간 전에 문자로" in after["live"]
    assert after["announce"].startswith("돌봄 확정. 돌봄이 정해졌습니다")
    with Session(engine) as s:
        provider = s.get(Provider, provider_id)
    # a facility: the parent brings the child; a caregiver comes to the family's home
    assert provider.name in after["live"] and ("아이와 함께" if provider.kind == "facility" else "댁으로") in after["live"]
    assert client.get(page_url + "/live").json()["version"] == after["version"]  # nothing new: same version
    assert client.get(page_url.replace("/apply/s/", "/apply/s/x") + "/live").status_code == 404


def test_a_visiting_caregiver_comes_to_the_familys_home(client, app, engine, clock, operator, demo):
    from hotline.core import links

    baby = request_body(children=[{"first_name": "하율", "birth_date": "2025-08-01"}])  # only caregivers take her
    care = client.post("/v1/requests", json=baby, headers=operator).json()
    _accept_first_offer(app, engine, clock, care["id"])
    page = client.get(links.status_url("", app.state.settings.secret_key, care["id"], clock.now() + timedelta(days=2))).text
    assert "선생님이 댁으로 찾아갑니다" in page and "돌봄은 댁에서 이루어집니다" in page
    assert '<dd id="care-place">댁 (신청하신 주소로 선생님이 찾아갑니다)</dd>' in page
    assert "자택 주소 비공개" not in page


def test_the_status_page_speaks_the_guardians_language(client, app, engine, clock, operator, demo):
    from hotline.core import links

    body = request_body(guardian={"name": "Kim Haneul", "phone": "010-5550-7878", "language": "en"}, language="en")
    care = client.post("/v1/requests", json=body, headers=operator).json()
    page = client.get(links.status_url("", app.state.settings.secret_key, care["id"], clock.now() + timedelta(days=2))).text
    assert '<html lang="en">' in page and "Waiting for a provider&#39;s answer" in page
    assert "기관 답 기다리는 중" not in page
