"""Bursts of writes against one process whose connection pool is small: a request's after-commit wake-ups
(dispatch the outbox now, tick at an offer's expiry) never wait for a second connection while the request
still holds its first (issue 9, defect 1), and no inbound SMS of a burst is lost."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from conftest import request_body, token_for
from loop_support import outbox, post_signed
from hotline import jobs
from hotline.core.db import make_engine
from hotline.models import InboundMessage, Offer, OutboxStatus, Provider

pytestmark = pytest.mark.twilio


@pytest.fixture
def tight(settings, engine, database_url, clock, twilio, demo, operator):
    """The app and a scheduler on an engine of `POOL` connections that waits at most 3 s for one."""
    from api.main import create_app

    small = make_engine(database_url, pool_size=POOL, max_overflow=0, pool_timeout=3)
    app = create_app(settings, engine=small, clock=clock)
    scheduler = jobs.start(small, app.state.offer_context, clock, app.state.sender, manual=True)
    with TestClient(app) as client:
        yield client, scheduler
    scheduler.shutdown()
    jobs.RUNTIME = None
    small.dispose()


POOL = 1


def test_after_commit_wake_ups_need_no_second_connection(tight, engine):
    client, scheduler = tight
    headers = token_for(client, "op-kim")
    res = client.post("/v1/requests", json=request_body(), headers=headers)  # one connection, held to the end
    assert res.status_code == 201, res.text
    with Session(engine) as s:
        offers = s.exec(select(Offer)).all()
    scheduler.run_pending()  # the scheduler's turn: the wake-ups and the kick reach the job store now
    assert offers and all(scheduler.get_job(f"wake-{int(o.expires_at.timestamp())}") for o in offers)
    assert all(m.status == OutboxStatus.sent for m in outbox(engine))  # the kicked dispatch sent them


def test_a_burst_of_inbound_sms_is_all_kept_and_answered(tight, engine, twilio, monkeypatch):
    client, scheduler = tight
    burst = 24
    with Session(engine) as s:
        phone = s.exec(select(Provider).order_by(Provider.id)).first().phone
    barrier = threading.Barrier(burst)
    codes: list[int] = []

    def help_sms(i: int) -> None:
        payload = twilio.inbound_payload(phone, "도움말")
        barrier.wait()
        codes.append(post_signed(client, twilio, "/v1/webhooks/twilio/sms", payload).status_code)

    threads = [threading.Thread(target=help_sms, args=(i,)) for i in range(burst)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * burst
    with Session(engine) as s:
        assert len(s.exec(select(InboundMessage)).all()) == burst
    scheduler.run_pending()
    helps = outbox(engine, kind="help")
    assert len(helps) == burst and {m.status for m in helps} == {OutboxStatus.sent}
