"""Online applications: same rules as the operator form, a one-time SMS code (throttled, expiring, five
tries), the request lands in the offer loop marked 온라인, and the parent's status page cancels, asks
for a call-back and takes the survey (a 2 opens a follow-up case). No answer reveals whether a phone
already has a request."""

from __future__ import annotations

import re

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
    assert "제안 중" in page.text and care.ref in page.text
    sign_in(client, engine)  # the operator sees the channel on the board and the request
    board = client.get("/console").text
    assert re.search(care.ref + r'</a><div class="muted small-text channel">온라인', board)
    assert '<span id="channel">온라인</span>' in client.get(f"/console/requests/{care.ref}").text
    assert client.post(status_url + "/callback", follow_redirects=False).status_code == 303
    with Session(engine) as s:
        assert s.get(CareRequest, care.id).needs_attention
    assert client.post(status_url + "/cancel", follow_redirects=False).status_code == 303
    with Session(engine) as s:
        assert s.get(CareRequest, care.id).status == RequestStatus.cancelled
    assert client.post(status_url + "/cancel").status_code == 422  # once


def test_the_operator_forms_rules_apply(client, engine):
    too_old = apply(client, child0_birth="2013-01-05")  # turns 13 before the window
    assert too_old.status_code == 422 and "만 12세 이하" in too_old.text
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
