"""A serving process rehearses one call before its first (api.main.warm_up, hotline.offers.rehearsal): the
rehearsal goes the whole way of an intake, and nothing of it stays — no request, guardian, offer, text or
wake-up — whether it succeeds or fails."""

from __future__ import annotations

import logging

from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

import api.main
from api.main import warm_up
from hotline.models import OutboxMessage
from hotline.offers.rehearsal import rehearse_call
from tests.conftest import request_body


def _rows(engine) -> dict[str, int]:
    with Session(engine) as s:
        return {t.name: s.exec(select(func.count()).select_from(t)).one() for t in SQLModel.metadata.sorted_tables}


def test_the_rehearsal_offers_like_a_real_call_and_leaves_nothing(app, engine, demo):
    before = _rows(engine)
    with Session(engine) as s:
        status = rehearse_call(s, now=app.state.clock.now(), ctx=app.state.offer_context)
        made = s.exec(select(func.count()).select_from(OutboxMessage)).one()
        s.rollback()
    assert status == "offered"  # it went as far as a call goes: ranked, offered, texts written
    assert made > 0
    warm_up(app)
    assert _rows(engine) == before


def test_calls_after_the_rehearsal_are_taken_as_before(app, client, engine, demo, operator):
    warm_up(app)
    res = client.post("/v1/requests", json=request_body(), headers=operator)
    assert res.status_code == 201, res.text
    assert res.json()["status"] == "offered"
    with Session(engine) as s:  # the parent's acknowledgement and the offers' texts: only this call's
        phones = set(s.exec(select(OutboxMessage.to)).all())
    assert phones and "+821000000000" not in phones, phones


def test_a_failing_rehearsal_is_logged_and_rolled_back(app, engine, demo, monkeypatch, caplog):
    before = _rows(engine)

    def half_done(session, *, now, ctx):
        rehearse_call(session, now=now, ctx=ctx)  # writes everything a call writes, then fails
        raise RuntimeError("template missing")

    monkeypatch.setattr(api.main, "rehearse_call", half_done)
    with caplog.at_level(logging.WARNING, logger="api"):
        warm_up(app)  # the process serves anyway
    assert "rehearsed call failed" in caplog.text
    assert _rows(engine) == before


def test_a_database_without_providers_is_rehearsed_too(app, engine):
    before = _rows(engine)
    with Session(engine) as s:
        status = rehearse_call(s, now=app.state.clock.now(), ctx=app.state.offer_context)
        s.rollback()
    assert status == "unmatched"  # nobody to offer: the operators' path, rehearsed all the same
    warm_up(app)
    assert _rows(engine) == before
