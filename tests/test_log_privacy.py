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
