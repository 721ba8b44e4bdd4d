"""The operator console as an operator uses it: sign in and out, log a call typed as digits, the duplicate
caller warning, the request's page, acting on a request (offer to a chosen provider, cancel with a
reason, call-back reveal, notes), the live board and its search, and Korean on every page."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from conftest import PASSWORD
from hotline.requests import intake
from hotline import offers
from hotline.requests.lifecycle import RequestStatus, transition
from hotline.models import AccessLog, CareRequest, Offer, OfferStatus, OutboxMessage, RequestEvent, Role
from hotline.requests.schemas import CareRequestCreate
from hotline.accounts.security import ensure_user


def sign_in(client, engine, role=Role.operator, username="op-park"):
    with Session(engine) as s:
        ensure_user(s, username, PASSWORD, role, full_name="박상담")
        s.commit()
    res = client.post("/console/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    return res


FORM = {
    "guardian_name": "최하람", "guardian_phone": "010-5550-4321", "reason": "business_trip",
    "child0_name": "하윤", "child0_birth": "20190601", "child1_name": "지호", "child1_birth": "2016-02-10",
    "day": "1125", "start_time": "0900", "end_time": "1700", "place": "평택시 지산동", "address": "평택시 지산동 55",
    "notes": "엄마 출장, 외할머니 오후 도착", "need_infant": "", "consent": "on", "idempotency_key": "form-1",
}

# words the pages must never show: stored codes of statuses, SMS kinds, needs, roles and providers
ENGLISH = re.compile(r"\b(pending|accepted|declined|expired|withdrawn|offered|unmatched|confirmed|in_care|"
                     r"completed|cancelled|matching|received|intake_ack|offer_details|offer|infant|special_needs|"
                     r"operator|provider|system|illness|business_trip|family_event|delivered|undelivered|"
                     r"sent|failed|suppressed|None|null)\b|\bpt-[a-z]\d+|[a-z]+\.[a-z0-9-]+-(?:dong|gu|si)\b",
                     re.IGNORECASE)


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def english_words(html: str) -> list[str]:
    return sorted({m.group(0) for m in ENGLISH.finditer(visible_text(html))})


def log_call(client, **changes):
    res = client.post("/console/new", data={**FORM, **changes}, follow_redirects=False)
    assert res.status_code == 303, res.text
    return res.headers["location"].rsplit("/", 1)[1]


def unmatched_request(engine, places, settings, clock, phone="010-5550-7777") -> str:
    """A request the offer loop gave up on (no offers at all): the operator's to resolve."""
    body = CareRequestCreate.model_validate({
        "guardian": {"name": "오가람", "phone": phone}, "reason": "illness",
        "children": [{"first_name": "나래", "birth_date": "2018-04-04"}],
        "start_at": "2026-11-25T10:00:00+09:00", "end_at": "2026-11-25T16:00:00+09:00",
        "location": {"address": "평택시 비전동 1", "place": "평택시 비전동"}, "consent": {"guardian_consent": True}})
    ctx = offers.OfferContext(settings=settings, places=places)
    with Session(engine, expire_on_commit=False) as s:
        care = intake.create_care_request(s, body, actor="operator:op-park", now=clock.now(), settings=settings,
                                          geocoder=places).request
        transition(s, care, RequestStatus.matching, actor="system", at=clock.now(), reason="매칭 시작")
        offers.escalate(s, care, now=clock.now(), ctx=ctx, reason="시험: 모두 거절")
        s.commit()
        return care.ref


def test_login_is_required_and_providers_cannot_use_the_console(client, engine):
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/login"
    assert sign_in(client, engine, Role.provider, "pt-x").status_code == 403
    bad = client.post("/console/login", data={"username": "nobody", "password": "x"})
    assert bad.status_code == 401 and "맞지 않습니다" in bad.text


def test_sign_out_ends_the_session_on_the_server(client, engine):
    """Issue 11: the old cookie (8 h) still opened the board after logout, and pages were cached."""
    sign_in(client, engine)
    cookie = client.cookies.get("dolbom_console")
    board = client.get("/console")
    assert board.status_code == 200 and board.headers["cache-control"] == "no-store"
    assert client.post("/console/logout", follow_redirects=False).status_code == 303
    client.cookies.set("dolbom_console", cookie)  # a copy kept from before the sign-out
    again = client.get("/console", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/console/login"
    assert client.get("/console/board/version").status_code == 401


def test_operator_logs_a_call_typed_as_digits_and_reads_the_story(client, engine, demo):
    assert sign_in(client, engine).status_code == 303
    ref = log_call(client)
    res = client.get(f"/console/requests/{ref}")
    page = res.text
    assert res.headers["cache-control"] == "no-store"
    assert "하윤(만 7세)" in page and "지호(만 10세)" in page
    assert "010-****-4321" in page and "5550-4321" not in page
    assert "출장" in page and "엄마 출장, 외할머니 오후 도착" in page  # reason and notes typed at intake
    assert "11/25(수) 09:00–17:00" in page
    assert "매칭 설명" in page and "제안 내역" in page and "응답 대기" in page and "처리 기록" in page
    assert "접수 안내" in page and "발송 대기" in page  # the texts with their delivery status
    assert english_words(page) == []
    again = client.post("/console/new", data=FORM, follow_redirects=False)  # double submit: same request
    assert again.headers["location"].endswith(ref)


def test_typed_dates_presets_and_more_child_rows(client, engine, demo):
    sign_in(client, engine)
    ref = log_call(client, idempotency_key="form-3", child1_name="", child1_birth="", child3_name="다온",
                   child3_birth="190909", day="내일", start_time="지금", end_time="+4")
    page = client.get(f"/console/requests/{ref}").text
    assert "하윤(만 7세), 다온(만 7세)" in page
    assert "11/25(수) 08:00–12:00" in page  # 내일, from now (08:00 on the suite's clock) for four hours


def test_a_13_year_old_is_refused_with_words_to_read_to_the_parent(client, engine):
    sign_in(client, engine)
    form = {**FORM, "child0_birth": "20131120", "child1_name": "", "child1_birth": "", "idempotency_key": "form-2"}
    res = client.post("/console/new", data=form)
    assert res.status_code == 422
    assert "만 12세 이하 아동만 이용할 수 있습니다" in res.text and "하윤" in res.text
    assert 'value="최하람"' in res.text  # what the operator typed is kept
    assert "아동 1 생년월일" in res.text and "birth_date" not in visible_text(res.text)


def test_unreadable_times_are_named_in_korean(client, engine):
    sign_in(client, engine)
    res = client.post("/console/new", data={**FORM, "day": "내년쯤", "start_time": "아침", "idempotency_key": "f-9"})
    assert res.status_code == 422
    assert "돌봄 날짜" in res.text and "시작 시각" in res.text and english_words(res.text) == []


def test_a_place_that_contradicts_the_address_is_caught(client, engine, demo):
    sign_in(client, engine)
    res = client.post("/console/new", data={**FORM, "place": "수원시 장안구", "idempotency_key": "form-place"})
    assert res.status_code == 422 and "주소에는 평택시가 있는데 지역은 수원시입니다" in res.text


def test_a_second_call_from_the_same_phone_warns_of_the_overlap(client, engine, demo):
    """Issue 11: the same phone and children for an overlapping window were accepted silently."""
    sign_in(client, engine)
    first = log_call(client)
    panel = client.get("/console/callers", params={"phone": "010 5550 4321", "day": "1125", "start": "1300",
                                                   "end": "1800"}).text
    assert first in panel and "같은 시간대에 진행 중인 접수가 1건" in panel
    second = {**FORM, "idempotency_key": "form-second", "start_time": "1300", "end_time": "1800"}
    warned = client.post("/console/new", data=second)
    assert warned.status_code == 409 and "시간이 겹치는" in warned.text and first in warned.text
    with Session(engine) as s:
        assert len(s.exec(select(CareRequest)).all()) == 1  # nothing stored
    confirmed = client.post("/console/new", data={**second, "confirm_overlap": "on"}, follow_redirects=False)
    assert confirmed.status_code == 303
    later = {**FORM, "idempotency_key": "form-later", "start_time": "1800", "end_time": "2000"}
    assert client.post("/console/new", data=later, follow_redirects=False).status_code == 303  # no overlap


def test_operator_offers_an_unmatched_request_to_a_chosen_provider(client, engine, demo, places, settings, clock):
    sign_in(client, engine)
    ref = unmatched_request(engine, places, settings, clock)
    page = client.get(f"/console/requests/{ref}").text
    assert "기관을 골라 직접 제안" in page and "km · 이동 약" in page
    picks = re.findall(r'name="provider" id="pick-\d+" value="([^"]+)"', page)
    assert len(picks) >= 2
    refused = client.post(f"/console/requests/{ref}/offer", data={"provider": picks[1], "reason": ""})
    assert refused.status_code == 422 and "사유를 입력해 주세요" in refused.text
    with Session(engine) as s:
        assert s.exec(select(CareRequest).where(CareRequest.ref == ref)).one().status == "unmatched"
    done = client.post(f"/console/requests/{ref}/offer", data={"provider": picks[1], "reason": "보호자가 이 기관을 원함"},
                       follow_redirects=False)
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    assert "제안 문자를 보냈습니다" in page and "응답 대기" in page and "제안 중" in page
    assert "상담원 박상담" in page and "보호자가 이 기관을 원함" in page
    with Session(engine) as s:
        care = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        offer = s.exec(select(Offer).where(Offer.request_id == care.id)).one()
        assert care.status == "offered" and not care.needs_attention and offer.status == OfferStatus.pending
        assert s.exec(select(OutboxMessage).where(OutboxMessage.offer_id == offer.id)).one().kind == "offer"
    assert english_words(page) == []


def test_cancel_needs_a_reason_and_a_confirmation(client, engine, demo):
    sign_in(client, engine)
    ref = log_call(client)
    for data in ({"reason": "", "confirm": "1"}, {"reason": "보호자 요청: 가족이 돌봄"}):
        res = client.post(f"/console/requests/{ref}/cancel", data=data)
        assert res.status_code == 422 and english_words(res.text) == []
    assert "사유를 입력해 주세요" in client.post(f"/console/requests/{ref}/cancel", data={"confirm": "1"}).text
    with Session(engine) as s:
        assert s.exec(select(CareRequest).where(CareRequest.ref == ref)).one().status == "offered"
    problem = client.post(f"/console/requests/{ref}/cancel", data={"reason": ""},
                          headers={"Accept": "application/json"})
    assert problem.status_code == 422 and problem.headers["content-type"].startswith("application/problem+json")
    assert problem.json()["detail"] and problem.json()["detail_en"]
    done = client.post(f"/console/requests/{ref}/cancel", data={"reason": "보호자 요청: 가족이 돌봄", "confirm": "1"})
    assert done.status_code == 200 and "요청을 취소했습니다" in done.text
    assert "상담원 취소: 보호자 요청: 가족이 돌봄" in done.text and "취소 안내" in done.text


def test_call_back_reveals_the_number_once_and_logs_it(client, engine, demo):
    sign_in(client, engine)
    ref = log_call(client)
    res = client.post(f"/console/requests/{ref}/reveal", data={"reason": "회신 전화: 일정 확인"})
    assert res.status_code == 200 and "010-5550-4321" in res.text and "열람 기록됨" in res.text
    assert res.headers["cache-control"] == "no-store"
    assert "010-5550-4321" not in client.get(f"/console/requests/{ref}").text  # masked again afterwards
    with Session(engine) as s:
        care = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        log = s.exec(select(AccessLog).where(AccessLog.action == "reveal_guardian_phone")).all()
        assert [(a.actor, a.request_id) for a in log] == [("operator:op-park", care.id)]
        events = [e.reason for e in s.exec(select(RequestEvent).where(RequestEvent.request_id == care.id))]
    assert "보호자 번호 열람(회신 전화): 회신 전화: 일정 확인" in events
    assert client.post(f"/console/requests/{ref}/reveal", data={"reason": ""}).status_code == 422


def test_a_note_is_an_event_with_who_wrote_it(client, engine, demo):
    sign_in(client, engine)
    ref = log_call(client)
    assert client.post(f"/console/requests/{ref}/note", data={"note": ""}).status_code == 422
    page = client.post(f"/console/requests/{ref}/note", data={"note": "보호자가 오후 3시 이후 통화 가능"}).text
    assert "상담 메모: 보호자가 오후 3시 이후 통화 가능" in page and "상담원 박상담" in page


def accept_first_offer(engine, app, clock, ref: str) -> None:
    """The request's first offer accepted through its link, as a provider would."""
    with Session(engine) as s:
        care = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        offer = s.exec(select(Offer).where(Offer.request_id == care.id)).first()
        assert offers.answer(s, offer.id, accept=True, channel="link", now=clock.now(),
                             ctx=app.state.offer_context) == offers.Outcome.accepted
        s.commit()


def test_accepted_request_shows_provider_phone_address_and_handover_code(client, engine, demo, app, clock):
    sign_in(client, engine)
    ref = log_call(client)
    accept_first_offer(engine, app, clock, ref)
    page = client.get(f"/console/requests/{ref}").text
    assert "확정" in page and 'id="handover-code"' in page and "인계코드" in page
    provider = re.search(r'<dl class="facts" id="provider">(.*?)</dl>', page, re.S).group(1)
    assert re.search(r"010-\d{4}-\d{4}", provider) and "기관 주소" in provider
    assert "수락 기관에 상세 안내" in page and english_words(page) == []


def test_board_groups_searches_and_filters(client, engine, demo, places, settings, clock):
    sign_in(client, engine)
    offered = log_call(client)
    stuck = unmatched_request(engine, places, settings, clock)
    board = client.get("/console").text
    now_group = board.split('id="g-now"')[1].split("</section>")[0]
    assert stuck in now_group and offered not in now_group
    assert offered in board and "남음" in board and "접수 후" in board
    assert english_words(board) == []
    assert stuck in client.get("/console", params={"q": "7777"}).text
    assert offered not in client.get("/console", params={"q": "010-5550-7777"}).text
    assert offered in client.get("/console", params={"q": "최하람"}).text
    assert offered in client.get("/console", params={"q": "하윤"}).text
    assert offered in client.get("/console", params={"q": offered.lower()}).text
    only = client.get("/console", params={"status": "unmatched"}).text
    assert stuck in only and offered not in only
    assert offered not in client.get("/console", params={"city": "수원시"}).text
    assert offered in client.get("/console", params={"date": "2026-11-25"}).text
    assert offered not in client.get("/console", params={"date": "2026-11-26"}).text
    assert offered in client.get("/console", params={"when": "내일"}).text  # typed as on the intake form
    assert offered not in client.get("/console", params={"when": "1126"}).text
    version = client.get("/console/board/version").text
    client.post(f"/console/requests/{offered}/note", data={"note": "확인"})
    assert client.get("/console/board/version").text != version
    assert stuck in client.get("/console/board/groups").text


def test_every_page_is_korean(client, engine, demo, app, clock, settings):
    """No English status word, stored code or raw field name on any Korean page."""
    from hotline.core.links import offer_url, status_url

    sign_in(client, engine)
    ref = log_call(client)
    pages = ["/console", "/console/new", f"/console/requests/{ref}", f"/console/requests/{ref}/print",
             "/console/providers", "/console/outbox", "/console/stats", "/console/map",
             "/console/callers?phone=010-5550-4321"]
    with Session(engine) as s:
        care = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        offer = s.exec(select(Offer).where(Offer.request_id == care.id)).first()
    link = offer_url("", settings.secret_key, offer.id, offer.expires_at)
    pages += [link, status_url("", settings.secret_key, care.id, care.end_at)]
    for path in pages:
        res = client.get(path)
        assert res.status_code == 200, path
        assert english_words(res.text) == [], path
    client.post(link, data={"action": "accept"})
    reopened = client.get(link).text  # the provider who accepted opens the link again
    assert "수락하셨습니다" in reopened and "마감" not in reopened
    client.post("/console/logout")
    assert english_words(client.get("/console/login").text) == []


def test_outbox_names_the_request_and_masks_foreign_numbers(client, engine, demo):
    sign_in(client, engine)
    ref = log_call(client, guardian_phone="+1 201-555-0123", idempotency_key="form-foreign")
    with Session(engine) as s:
        s.add(OutboxMessage(to="+12015550123", body="회신: +1 201-555-0123 로 연락", kind="help", status="sent",
                            next_attempt_at=s.exec(select(CareRequest)).first().created_at,
                            created_at=s.exec(select(CareRequest)).first().created_at))
        s.commit()
    page = client.get("/console/outbox").text
    assert ref in page and "555-0123" not in page.replace("***-0123", "") and "0123" in page
    assert "201-555" not in page and english_words(page) == []


def test_providers_directory_search_and_day_load(client, engine, demo, app, clock):
    sign_in(client, engine)
    ref = log_call(client)
    accept_first_offer(engine, app, clock, ref)
    page = client.get("/console/providers", params={"when": "1125"}).text
    assert page.count("<tr>") == 29 and "2 / " in page  # two children placed that day
    assert client.get("/console/providers", params={"q": "비전동"}).text.count("<tr>") < 29


@pytest.mark.parametrize("typed,expected", [("1125", "2026-11-25"), ("11/25", "2026-11-25"), ("20261125", "2026-11-25"),
                                            ("내일", "2026-11-25"), ("0105", "2027-01-05")])
def test_days_typed_as_digits(typed, expected):
    from datetime import date

    from hotline.console.intake_form import parse_day

    assert parse_day(typed, date(2026, 11, 24)).isoformat() == expected


def test_the_count_is_shared_by_workers_and_kept_over_a_restart(settings, engine, clock):
    """Two app instances on one database stand for two workers, a third for the restarted service."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    with TestClient(create_app(settings, engine=engine, clock=clock)) as first:
        sign_in(first, engine)
        for _ in range(3):
            assert first.post("/v1/auth/token", data={"username": "op-park", "password": "guess"}).status_code == 401
    with TestClient(create_app(settings, engine=engine, clock=clock)) as second:
        for _ in range(2):
            assert second.post("/v1/auth/token", data={"username": "op-park", "password": "guess"}).status_code == 401
    with TestClient(create_app(settings, engine=engine, clock=clock)) as restarted:
        assert restarted.post("/v1/auth/token", data={"username": "op-park", "password": PASSWORD}).status_code == 429


def test_guessing_passwords_is_stopped(client, engine, clock):
    sign_in(client, engine)
    for _ in range(5):
        assert client.post("/v1/auth/token", data={"username": "op-park", "password": "guess"}).status_code == 401
    locked = client.post("/v1/auth/token", data={"username": "op-park", "password": PASSWORD})
    assert locked.status_code == 429 and locked.headers["content-type"].startswith("application/problem+json")
    assert client.post("/console/login", data={"username": "op-park", "password": PASSWORD}).status_code == 429
    clock.advance(minutes=11)
    assert client.post("/v1/auth/token", data={"username": "op-park", "password": PASSWORD}).status_code == 200


def test_a_guesser_cannot_lock_the_operator_out_from_elsewhere(client, app, engine):
    """Issue 9, defect 6: the lock is on the guessing address, not on the account."""
    from fastapi.testclient import TestClient

    sign_in(client, engine)
    with TestClient(app, client=("203.0.113.9", 40000)) as attacker:
        for _ in range(5):
            assert attacker.post("/v1/auth/token", data={"username": "op-park", "password": "guess"}).status_code == 401
        assert attacker.post("/v1/auth/token", data={"username": "op-park", "password": PASSWORD}).status_code == 429
    assert client.post("/v1/auth/token", data={"username": "op-park", "password": PASSWORD}).status_code == 200


def test_one_address_guessing_many_usernames_is_stopped(client, engine):
    sign_in(client, engine)
    for i in range(20):
        assert client.post("/v1/auth/token", data={"username": f"user{i}", "password": "guess"}).status_code == 401
    assert client.post("/v1/auth/token", data={"username": "op-park", "password": PASSWORD}).status_code == 429


def test_a_browser_gets_a_korean_page_for_an_unknown_request(client, engine):
    sign_in(client, engine)
    html = {"Accept": "text/html,application/xhtml+xml"}
    res = client.get("/console/requests/RNOPE234", headers=html)
    assert res.status_code == 404 and res.headers["content-type"].startswith("text/html")
    assert "찾을 수 없습니다" in res.text and "을(를)" not in res.text and english_words(res.text) == []
    assert client.get("/console/nowhere", headers=html).headers["content-type"].startswith("text/html")
    assert client.get("/console/requests/RNOPE234").headers["content-type"].startswith("application/problem+json")
    assert client.get("/v1/requests/RNOPE234", headers=html).headers["content-type"].startswith("application/problem+json")


def test_a_suggestion_is_applied_for_this_request_only(client, engine, demo):
    """Issue 11: "반경을 8.2 km로 넓히면 …" could not be applied. Here: a call from 안성, outside every radius."""
    sign_in(client, engine)
    ref = log_call(client, place="안성시", address="안성시 석정동 1", idempotency_key="form-anseong")
    page = client.get(f"/console/requests/{ref}").text
    assert "미매칭" in page and "매칭 제안 적용" in page and "반경 밖" in page
    key = re.search(r'name="key" id="sug-1" value="(widen:[^"]+)"', page).group(1)
    assert client.post(f"/console/requests/{ref}/suggestion", data={"key": key, "reason": ""}).status_code == 422
    done = client.post(f"/console/requests/{ref}/suggestion", data={"key": key, "reason": "보호자 동의(통화)"})
    assert done.status_code == 200 and "제안을 적용했습니다" in done.text and "제안 중" in done.text
    assert "반경 밖 제안: 보호자 동의(통화)" in done.text and english_words(done.text) == []
    with Session(engine) as s:
        care = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        assert s.exec(select(Offer).where(Offer.request_id == care.id, Offer.status == "pending")).one()
    stale = client.post(f"/console/requests/{ref}/suggestion", data={"key": key, "reason": "다시"})
    assert stale.status_code == 409


def test_a_shifted_window_is_applied_and_matched_again(client, engine, demo, places, settings, clock):
    from hotline.requests.lifecycle import record

    sign_in(client, engine)
    ref = unmatched_request(engine, places, settings, clock)
    with Session(engine) as s:  # the solver's suggestion, as the offer loop records it
        care = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        record(s, care, actor="system", at=clock.now(), reason="미매칭", detail={"explanation": {
            "summary_ko": "시간이 맞는 기관 없음", "suggestions": ["shift_window:+60min"],
            "suggestions_ko": ["시간을 +60분 옮기면 pt-f01 가능"]}})
        s.commit()
    page = client.get(f"/console/requests/{ref}").text
    assert "시간을 +60분 옮겨 다시 매칭" in page
    done = client.post(f"/console/requests/{ref}/suggestion", data={"key": "shift:60", "reason": "보호자 동의"})
    assert done.status_code == 200 and "11/25(수) 11:00–17:00" in done.text
    assert "상담원이 돌봄 시간 변경: 11/25(수) 10:00–16:00 → 11/25(수) 11:00–17:00 (보호자 동의)" in done.text
    assert "제안 중" in done.text and english_words(done.text) == []
