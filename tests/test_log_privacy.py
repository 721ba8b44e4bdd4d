"""No full phone number, guardian name or child name in any log line, database errors included (issue 9,
defect 4): each error path is forced with personal data in flight and the captured log is scanned."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlmodel import Session

from conftest import request_body
from hotline.offers import loop as offers  # start_matching and match are patched where take_call calls them
from hotline.sms import outbox
from hotline.core.db import unit_of_work
from hotline.models import OutboxMessage
from hotline.sms.senders import SendResult

NAME, CHILD, PHONE = "김하늘", "서윤", "+821055501234"
SECRETS = (NAME, CHILD, PHONE, "1055501234", "5550-1234")


def assert_clean(caplog, records_expected: bool = True) -> None:
    lines = [r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
             for r in caplog.records]
    assert lines or not records_expected
    for line in lines:
        assert not any(s in line for s in SECRETS), line


def violate(session: Session) -> None:
    """A NOT NULL violation on a row that carries a name and a phone: PostgreSQL quotes the failing row."""
    session.execute(text("INSERT INTO guardian (name, phone, language, created_at) VALUES (:n, :p, 'ko', NULL)"),
                    {"n": NAME, "p": PHONE})


def test_a_database_error_in_a_request_is_a_problem_and_logs_no_personal_data(client, operator, caplog, monkeypatch):
    def broken(session, *args, **kwargs):
        violate(session)

    monkeypatch.setattr(offers, "start_matching", broken)
    caplog.set_level(logging.INFO)
    res = client.post("/v1/requests", json=request_body(), headers=operator)
    assert res.status_code == 500 and res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["title_en"] == "Internal server error"
    assert any("IntegrityError" in r.getMessage() for r in caplog.records)  # the log still says what failed
    assert_clean(caplog)


def test_a_failing_matching_logs_no_personal_data(client, operator, demo, caplog, monkeypatch):
    def broken(session, requests, **kwargs):
        violate(session)

    monkeypatch.setattr(offers, "match", broken)
    caplog.set_level(logging.INFO)
    res = client.post("/v1/requests", json=request_body(), headers=operator)
    assert res.status_code == 201  # the call is kept; the sweep retries the matching
    assert any(r.exc_info for r in caplog.records)
    assert_clean(caplog)


def test_an_unexpected_error_is_logged_by_its_type_only(client, operator, caplog, monkeypatch):
    import api.routers.requests as router

    def broken(session, care, **kwargs):
        raise KeyError(f"{NAME} {PHONE} {CHILD}")

    monkeypatch.setattr(router, "present_request", broken)
    caplog.set_level(logging.INFO)
    res = client.post("/v1/requests", json=request_body(), headers=operator)
    assert res.status_code == 500 and res.json()["status"] == 500
    assert any("KeyError" in r.getMessage() for r in caplog.records)
    assert_clean(caplog)


def test_a_failing_outbox_row_logs_no_personal_data(engine, loop, clock, caplog, monkeypatch):
    with unit_of_work(engine) as s:
        s.add(OutboxMessage(to=PHONE, body=f"{NAME}님 {CHILD}", kind="help", language="ko",
                            next_attempt_at=clock.now(), created_at=clock.now()))

    def broken(engine, attempts, now):  # recording the result meets a database error
        with Session(engine) as s:
            violate(s)

    class Takes:  # a provider that accepts the text and, like Twilio's sender, logs nothing of it
        def send(self, to, body, **kwargs):
            return SendResult(sid="SM" + "0" * 32, status="queued")

        def find_sent(self, *args, **kwargs):
            return None

    monkeypatch.setattr(outbox, "_record", broken)
    caplog.set_level(logging.INFO)
    outbox.dispatch(engine, Takes(), now=clock.now())
    assert any(r.exc_info for r in caplog.records)
    assert_clean(caplog)


# --- issue 18, acceptance 2: one whole scenario, every log line read --------------------------------

def scenario_secrets() -> tuple[str, ...]:
    from test_applications import FORM as APPLY
    from test_console import FORM as CALL

    names = (CALL["guardian_name"], CALL["child0_name"], CALL["child1_name"], APPLY["guardian_name"], APPLY["child0_name"])
    phones = ("010-5550-4321", "01055504321", "+821055504321", "5550-4321", "1055504321",
              "010-5550-1234", "01055501234", "+821055501234", "5550-1234", "1055501234")
    addresses = (CALL["address"], APPLY["address"], "지산동 55", "비전동 123-4")
    return names + phones + addresses


@pytest.mark.twilio
@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
def test_a_whole_day_leaves_no_personal_data_or_secret_in_the_log(app, engine, clock, twilio, demo, loop, caplog,
                                                                 level):
    import re

    from fastapi.testclient import TestClient
    from datetime import datetime, timedelta

    from sqlmodel import select

    from hotline import jobs
    from hotline.core.clock import SEOUL
    from hotline.models import Assignment, CareRequest, Offer, OfferStatus, Provider
    from loop_support import sms_from
    from test_applications import apply, last_code
    from test_console import log_call, sign_in

    caplog.set_level(level)
    client = TestClient(app, base_url="https://dolbom.test")  # the public URL: the console's cookie is Secure there
    sign_in(client, engine)
    assert client.get("/console/callers", params={"phone": "010-5550-4321", "day": "1125", "start": "0900",
                                                  "end": "1700"}).status_code == 200
    called = log_call(client)  # the operator's intake, as typed on the phone
    for q in ("최하람", "010-5550-4321", "4321"):
        assert called in client.get("/console", params={"q": q}).text
    assert client.get(f"/console/requests/{called}").status_code == 200

    def pending_offer(ref: str) -> Offer:
        with Session(engine) as s:
            care = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
            return s.exec(select(Offer).where(Offer.request_id == care.id, Offer.status == OfferStatus.pending)
                          .order_by(Offer.id)).first()

    offer = pending_offer(called)  # accepted by SMS, with its reply code
    with Session(engine) as s:
        provider_phone = s.get(Provider, offer.provider_id).phone
    sms_from(client, twilio, provider_phone, f"1 {offer.reply_code}")

    sent = apply(client)  # the parent's online application and its code
    code_url = sent.headers["location"]
    code = last_code(engine)
    assert client.get(code_url).status_code == 200
    done = client.post(code_url, data={"code": code}, follow_redirects=False)
    status_url = done.headers["location"]
    assert client.get(status_url).status_code == 200
    with Session(engine) as s:
        online = s.exec(select(CareRequest).where(CareRequest.ref != called)).one().ref
    jobs.dispatch()
    offer_link = next(re.search(r"/o/\S+", m.body).group() for m in twilio.messages if "/o/" in m.body
                      and m.to == next(p.phone for p in [provider_of(engine, pending_offer(online))]))
    assert client.get(offer_link).status_code == 200
    assert client.post(offer_link, data={"action": "accept"}).status_code == 200  # accepted by link

    with Session(engine) as s:  # the provider's workspace: the link by SMS, check-in, the daily log
        placement = s.exec(select(Assignment).where(Assignment.active == True)).first()  # noqa: E712
    assert client.post(f"/console/providers/{placement.provider_id}/workspace-link").status_code in (200, 303)
    jobs.dispatch()
    workspace = next(re.search(r"/p/\S+", m.body).group() for m in twilio.messages if "/p/" in m.body)
    with Session(engine) as s:
        ref = s.get(CareRequest, placement.request_id).ref
    assert client.get(workspace).status_code == 200
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=SEOUL))
    jobs.tick()
    shift = f"{workspace}/r/{ref}"
    assert client.get(shift).status_code == 200
    client.post(f"{shift}/checkin", data={"code": placement.handover_code})
    client.post(f"{shift}/log", data={"start_time": "09:00", "end_time": "17:00", "activities": "그림", "meals": "점심"})

    clock.set(datetime(2026, 11, 25, 18, 30, tzinfo=SEOUL))  # care ends: the survey, answered by SMS
    jobs.tick()
    for phone in ("+821055504321", "+821055501234"):
        sms_from(client, twilio, phone, "5")
    jobs.dispatch()

    tokens = {t for m in twilio.messages for t in re.findall(r"/(?:o|s|p)/([^\s/]+)", m.body)}
    tokens |= {code_url.rsplit("/", 1)[1], status_url.rsplit("/", 1)[1].split("?")[0]}
    secrets = scenario_secrets() + (code,) + tuple(tokens)
    assert len(tokens) >= 4
    service = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]  # not the test's client
    lines = [r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "") for r in service]
    assert any('"GET /p/{token}/r/{ref}"' in line for line in lines)  # the access log was read
    assert any('"POST /v1/webhooks/twilio/sms"' in line for line in lines)
    leaks = [(s, line[:200]) for line in lines for s in secrets if s in line]
    assert leaks == []


def provider_of(engine, offer):
    from hotline.models import Provider

    with Session(engine) as s:
        return s.get(Provider, offer.provider_id)
