"""Issue 21, the operator's side: the sign-in's end (a warning the page can draw, the page to come back to,
nothing stored from a form sent too late), adjustment requests and follow-up cases on the board with their
counts in the menu, a stale adjustment closed instead of waiting forever, a search that finds finished
requests (and says where else to look), provider names instead of codes, a success message for every save,
the referral's consent tick, forms that keep what was typed when they are refused, and the providers page's
workspace-link button saying what it did."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlmodel import Session, select

from conftest import PASSWORD
from hotline.core.clock import SEOUL
from hotline.models import CareRequest, OptOut, OutboxMessage, Provider, RequestEvent
from hotline.models.records import Adjustment
from hotline.requests.lifecycle import RequestStatus, transition
from test_console import FORM, english_words, log_call, sign_in, unmatched_request
from test_records import placed

CODE = re.compile(r"\bpt-[a-z]\d+")


def section(html: str, marker: str) -> str:
    return html.split(marker, 1)[1].split("</section>", 1)[0]


def test_the_page_knows_when_the_sign_in_ends_and_a_late_form_leads_back_to_it(client, engine, clock, settings):
    sign_in(client, engine)
    page = client.get("/console/new").text
    ends = datetime.fromisoformat(re.search(r'data-session-ends="([^"]+)"', page).group(1))
    assert ends == clock.now() + timedelta(minutes=settings.token_minutes)  # console.js warns 10 minutes before
    assert datetime.fromisoformat(re.search(r'data-now="([^"]+)"', page).group(1)) == clock.now()  # its clock
    assert 'data-draft="intake"' in page  # what is typed is kept in the tab (console.js)

    clock.advance(minutes=settings.token_minutes, seconds=30)
    late = client.post("/console/new", data=FORM, headers={"referer": "http://testserver/console/new"},
                       follow_redirects=False)
    assert late.status_code == 303 and late.headers["location"] == "/console/login?next=/console/new"
    with Session(engine) as s:
        assert s.exec(select(CareRequest)).first() is None  # nothing half-stored from the late form
    login = client.get(late.headers["location"]).text
    assert 'data-signin="expired"' in login and "로그인 유지 시간(8시간)이 끝나" in login
    assert 'name="next" value="/console/new"' in login and english_words(login) == []
    back = client.post("/console/login", data={"username": "op-park", "password": PASSWORD, "next": "/console/new"},
                       follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/console/new"
    # a page opened with the link of a request comes back to it; a board poll gets 401 and asks console.js
    client.cookies.clear()
    assert client.get("/console/requests/R7K2AB?x=1", follow_redirects=False).headers["location"] == \
        "/console/login?next=/console/requests/R7K2AB%3Fx%3D1"
    assert client.get("/console/board/version").status_code == 401
    # never to another site, whatever `next` says
    for elsewhere in ("https://evil.example/", "//evil.example/console", "/\\evil.example", "/consolex", "/console/login"):
        res = client.post("/console/login", data={"username": "op-park", "password": PASSWORD, "next": elsewhere},
                          follow_redirects=False)
        assert res.headers["location"] == "/console", elsewhere
    # signing out is not running out: the page says so, and console.js forgets every draft
    client.post("/console/logout")
    assert 'data-signin="out"' in client.get("/console/login?out=1").text
    assert 'data-signin=""' in client.get("/console/login").text


def adjustment_asked(client, app, engine, clock, operator, phone="010-5550-1234"):
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator,
                                            guardian={"name": "김하늘", "phone": phone, "language": "ko"})
    assert client.post(f"{home}/r/{ref}/adjust", data={"kind": "extend", "minutes": "60", "reason": "보호자 귀가 지연"},
                       follow_redirects=False).status_code == 303
    return ref, care_id


def test_adjustments_and_follow_ups_are_on_the_board_and_counted_in_the_menu(client, app, engine, clock, operator,
                                                                            demo):
    from hotline.aftercare.service import open_case

    ref, care_id = adjustment_asked(client, app, engine, clock, operator)
    with Session(engine) as s:
        open_case(s, s.get(CareRequest, care_id), source="survey", reason="만족도 1점", now=clock.now())
        s.commit()
    sign_in(client, engine)
    board = client.get("/console").text
    assert re.search(r'id="nav-adjustments">조정신청 <span class="nav-count">1<', board)
    assert re.search(r'id="nav-followups">사후관리 <span class="nav-count">1<', board)
    assert '<strong id="count-adjustments">1</strong>' in board and '<strong id="count-followups">1</strong>' in board
    work = section(board, 'id="g-work"')
    assert ref in work and "연장" in work and "보호자 귀가 지연" not in work and "만족도 1점" in work
    assert english_words(board) == []
    # every console page carries the counts
    assert 'class="nav-count">1<' in client.get("/console/providers").text

    # the care ends before anyone decides (here: cancelled): the request can no longer be approved
    assert client.post(f"/console/requests/{ref}/cancel", data={"reason": "보호자 요청: 일정 변경", "confirm": "1"},
                       follow_redirects=False).status_code == 303
    board = client.get("/console").text
    assert '<strong id="count-adjustments">0</strong>' in board and 'id="nav-adjustments">조정신청</a>' in board
    assert "돌봄이 끝나 처리할 수 없는 신청 1건" in board
    page = client.get("/console/adjustments").text
    adjustment_id = re.search(r'id="expire-(\d+)"', page).group(1)
    assert "승인을 기다리는 조정신청이 없습니다" in page and ref in section(page, "돌봄이 끝나 처리할 수 없는 신청")
    refused = client.post(f"/console/adjustments/{adjustment_id}", data={"decision": "approve"})
    assert "돌봄이 이미 끝나 승인할 수 없습니다" in refused.text
    closed = client.post(f"/console/adjustments/{adjustment_id}", data={"decision": "expire"})
    assert closed.status_code == 200 and "만료로 닫았습니다" in closed.text and ref not in closed.text
    with Session(engine) as s:
        assert s.get(Adjustment, int(adjustment_id)).status == "expired"
        assert "서비스 조정신청 만료: 돌봄이 끝나 처리하지 않음 (연장)" in [
            e.reason for e in s.exec(select(RequestEvent).where(RequestEvent.request_id == care_id))]
    assert "만료(돌봄 종료)" in client.get(f"/console/requests/{ref}/records").text


def test_the_tick_closes_an_adjustment_whose_care_has_ended(client, app, engine, clock, operator, demo, loop):
    from hotline import jobs

    ref, care_id = adjustment_asked(client, app, engine, clock, operator)
    with Session(engine) as s:
        care = s.get(CareRequest, care_id)
        for status in (RequestStatus.in_care, RequestStatus.completed):
            transition(s, care, status, actor="system", at=clock.now(), reason="시험")
        s.commit()
    jobs.tick()
    with Session(engine) as s:
        adjustment = s.exec(select(Adjustment).where(Adjustment.request_id == care_id)).one()
        assert adjustment.status == "expired" and adjustment.decided_by == "system"
    sign_in(client, engine)
    assert "처리할 수 없는 신청" not in client.get("/console/adjustments").text


def test_search_finds_cancelled_and_completed_requests_and_says_where_else_to_look(client, app, engine, clock,
                                                                                  operator, demo):
    sign_in(client, engine)
    cancelled = log_call(client, guardian_name="최유나", guardian_phone="010-5550-4444", idempotency_key="f-yuna")
    assert client.post(f"/console/requests/{cancelled}/cancel", data={"reason": "중복 접수", "confirm": "1"},
                       follow_redirects=False).status_code == 303
    done, care_id, _, _ = placed(client, app, engine, clock, operator)
    with Session(engine) as s:
        care = s.get(CareRequest, care_id)
        for status in (RequestStatus.in_care, RequestStatus.completed):
            transition(s, care, status, actor="system", at=clock.now(), reason="시험")
        s.commit()
    board = client.get("/console").text
    assert cancelled not in board and done not in board  # the live board keeps to requests in progress
    assert '<option value="cancelled" >취소</option>' in board and '<option value="completed" >완료</option>' in board
    for q in ("4444", "010-5550-4444", "최유나", "하윤", "ㅊㅇㄴ", cancelled.lower()):
        found = client.get("/console", params={"q": q}).text
        past = section(found, 'id="g-past"')
        assert cancelled in past and "취소" in past, q
    assert done in section(client.get("/console", params={"q": "서윤"}).text, 'id="g-past"')
    assert done in client.get("/console", params={"q": "1234"}).text
    only = client.get("/console", params={"status": "cancelled"}).text
    assert cancelled in only and done not in only
    only = client.get("/console", params={"status": "completed"}).text
    assert done in only and cancelled not in only
    assert cancelled not in client.get("/console", params={"q": "4444", "status": "completed"}).text
    nothing = client.get("/console", params={"q": "9999"}).text
    hint = nothing.split('id="no-results"', 1)[1].split("</div>", 1)[0]
    assert "찾는 요청이 없습니다" in hint and "완료·취소된 요청" in hint and "접수번호" in hint
    assert "문자 발송함" in hint and "90일" in hint and english_words(nothing) == []
    assert "조건 없이 찾기" in client.get("/console", params={"q": "9999", "city": "수원시"}).text


def test_names_not_codes_and_nothing_called_assigned_before_an_accept(client, engine, demo, app, clock):
    from test_console import accept_first_offer

    sign_in(client, engine)
    far = log_call(client, place="안성시", address="안성시 석정동 1", idempotency_key="f-far",
                   guardian_phone="010-5550-2020")  # outside every radius
    with Session(engine) as s:
        reason = s.exec(select(CareRequest).where(CareRequest.ref == far)).one().attention_reason
        names = [p.name for p in s.exec(select(Provider))]
    assert CODE.search(reason), reason  # the offer loop writes codes; the console shows names
    board = client.get("/console").text
    now_group = section(board, 'id="g-now"')
    assert far in now_group and not CODE.search(now_group) and any(n in now_group for n in names)
    page = client.get(f"/console/requests/{far}").text
    banner = page.split('<div class="card warn">', 1)[1].split("</div>", 1)[0]
    assert not CODE.search(banner) and any(n in banner for n in names) and english_words(page) == []

    offered = log_call(client, idempotency_key="f-offered")
    page = client.get(f"/console/requests/{offered}").text
    summary = page.split('id="h-why"', 1)[1].split("</section>", 1)[0]
    assert "배정:" not in summary and "추천 1순위" in summary and "(수락 전)" in summary
    accept_first_offer(engine, app, clock, offered)
    assert "배정:" in client.get(f"/console/requests/{offered}").text.split('id="h-why"', 1)[1]


def test_every_save_says_so(client, engine, demo, places, settings, clock):
    sign_in(client, engine)
    logged = client.post("/console/new", data=FORM)
    assert logged.status_code == 200 and re.search(r"/console/requests/R\w+$", str(logged.url))
    assert "접수했습니다. 기관 " in logged.text and "제안 문자를 보냈고" in logged.text
    ref = str(logged.url).rsplit("/", 1)[1]
    assert "접수했습니다" not in client.get(f"/console/requests/{ref}").text  # once
    saved = client.post(f"/console/requests/{ref}/forms/referral", data={
        "official_name": "오지원", "official_org": "평택시 비전1동 행정복지센터", "service_kind": "visiting",
        "consent_confirmed": "yes"})
    assert saved.status_code == 200 and "서비스 제공의뢰서를 저장했습니다" in saved.text
    visited = client.post(f"/console/requests/{ref}/forms/site-visit", data={"visitor": "오지원", "child_safe": "yes"})
    assert "현장확인 체크리스트를 기록했습니다" in visited.text
    assert "메모를 남겼습니다" in client.post(f"/console/requests/{ref}/note", data={"note": "보호자 통화"}).text
    stuck = unmatched_request(engine, places, settings, clock)
    assert "접수했습니다" not in client.get(f"/console/requests/{stuck}").text


def test_the_referral_needs_the_guardians_consent_tick(client, engine, demo):
    sign_in(client, engine)
    ref = log_call(client)
    form = {"official_name": "오지원", "official_org": "비전1동", "official_phone": "031-000-0000",
            "service_kind": "facility", "needs_summary": "보호자 입원"}
    refused = client.post(f"/console/requests/{ref}/forms/referral", data=form)
    assert refused.status_code == 422 and "보호자 동의를 확인하고" in refused.text
    assert 'value="오지원"' in refused.text and ">보호자 입원</textarea>" in refused.text  # nothing typed is lost
    assert re.search(r'id="consent_confirmed"[^>]*aria-invalid="true"', refused.text)
    problem = client.post(f"/console/requests/{ref}/forms/referral", data=form, headers={"Accept": "application/json"})
    assert problem.status_code == 422 and problem.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in problem.json()["errors"]] == ["consent_confirmed"]
    assert problem.json()["errors"][0]["message"] and problem.json()["errors"][0]["message_en"]
    from hotline.models.forms import ReferralForm

    with Session(engine) as s:
        assert s.exec(select(ReferralForm)).first() is None


def test_refused_forms_keep_what_was_typed(client, engine, demo, places, settings, clock):
    sign_in(client, engine)
    ref = log_call(client)
    # the site-visit checklist without the visitor's name: every box stays ticked
    visit = client.post(f"/console/requests/{ref}/forms/site-visit",
                        data={"visitor": "", "child_safe": "yes", "handover": "yes", "findings": "출입문 잠금 확인"})
    assert visit.status_code == 422 and "확인자 이름" in visit.text
    assert re.search(r'id="chk-child_safe" checked', visit.text) and re.search(r'id="chk-handover" checked', visit.text)
    assert not re.search(r'id="chk-place_safe" checked', visit.text) and "출입문 잠금 확인</textarea>" in visit.text
    # cancel without the tick: the reason stays, the tick is marked
    cancel = client.post(f"/console/requests/{ref}/cancel", data={"reason": "보호자 요청: 가족이 돌봄"})
    assert cancel.status_code == 422 and 'value="보호자 요청: 가족이 돌봄"' in cancel.text
    assert re.search(r'id="cancel-confirm"[^>]*aria-invalid="true"', cancel.text)
    # a note too long: the words stay to be shortened
    long = "가" * 300
    assert f">{long}</textarea>" in client.post(f"/console/requests/{ref}/note", data={"note": long}).text
    # a direct offer without a pick: the reason stays, the pick is marked
    stuck = unmatched_request(engine, places, settings, clock)
    offer = client.post(f"/console/requests/{stuck}/offer", data={"provider": "", "other": "",
                                                                  "reason": "보호자와 통화: 빨리 필요"})
    assert offer.status_code == 422 and 'value="보호자와 통화: 빨리 필요"' in offer.text
    assert re.search(r'id="offer-other" name="other" aria-invalid="true"', offer.text)
    # a follow-up closed without a note (a browser's `required` aside)
    from hotline.aftercare.service import open_case

    with Session(engine) as s:
        case = open_case(s, s.exec(select(CareRequest)).first(), source="survey", reason="만족도 1점", now=clock.now())
        s.commit()
        case_id = case.id
    refused = client.post(f"/console/followups/{case_id}/close", data={"note": "  "})
    assert refused.status_code == 422 and "조치 내용을 적어 주세요" in refused.text
    closed = client.post(f"/console/followups/{case_id}/close", data={"note": "보호자와 통화, 사과"})
    assert "사후관리 건을 종결했습니다" in closed.text


def test_the_workspace_link_button_says_what_it_did(client, engine, demo):
    sign_in(client, engine)
    with Session(engine) as s:
        provider = s.exec(select(Provider).order_by(Provider.id)).first()
        provider_id, name, version = provider.id, provider.name, provider.workspace_link_version
    sent = client.post(f"/console/providers/{provider_id}/workspace-link", data={"q": "평택", "when": "1125"},
                       follow_redirects=False)
    assert sent.status_code == 303 and "q=%ED%8F%89%ED%83%9D" in sent.headers["location"]
    page = client.get(sent.headers["location"]).text
    message = page.split('id="msg"', 1)[1].split("</div>", 1)[0]
    assert name in message and "업무 화면 링크 문자를 보냈습니다" in message and "이전 링크는 이제 열리지 않습니다" in message
    with Session(engine) as s:
        assert s.exec(select(OutboxMessage).where(OutboxMessage.kind == "workspace_link")).one().status == "pending"
        s.add(OptOut(phone=s.get(Provider, provider_id).phone, at=datetime(2026, 11, 24, tzinfo=SEOUL)))
        s.commit()
    refused = client.get(client.post(f"/console/providers/{provider_id}/workspace-link",
                                     follow_redirects=False).headers["location"]).text
    assert "문자 수신을 거부" in refused.split('id="msg"', 1)[1].split("</div>", 1)[0]
    with Session(engine) as s:
        assert s.get(Provider, provider_id).workspace_link_version == version + 1  # the link sent before still works
    problem = client.post(f"/console/providers/{provider_id}/workspace-link", headers={"Accept": "application/json"})
    assert problem.status_code == 409 and problem.json()["detail"]
