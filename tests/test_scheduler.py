"""The scheduler's persistent jobs: a deadline that passes while the service is down runs once on start."""

from __future__ import annotations

from datetime import timedelta

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from sqlmodel import Session, select

from conftest import request_body
from hotline import jobs
from hotline.models import Offer, OfferStatus, RequestEvent


@pytest.mark.offer_policy(mode="rounds")  # one offer at a time: the restart is the subject here
def test_expiry_due_while_stopped_fires_once_after_restart(settings, engine, demo, operator, client, app, clock):
    # the scheduler runs on the service's FrozenClock: no wall time anywhere in this test
    ctx, sender = app.state.offer_context, app.state.sender

    first = jobs.start(engine, ctx, clock, sender, manual=True)
    assert client.post("/v1/requests", json=request_body(), headers=operator).status_code == 201
    with Session(engine) as s:
        offer = s.exec(select(Offer)).one()
    wake_id = f"wake-{int(offer.expires_at.timestamp())}"
    first.run_pending()  # the wake-up asked for after the request's commit reaches the job store here
    job = first.get_job(wake_id)
    assert job is not None and job.next_run_time == offer.expires_at
    with Session(engine) as s:
        assert s.get(Offer, offer.id).status == OfferStatus.pending  # not due yet on the service clock
    first.shutdown()  # the service stops before processing it

    clock.set(offer.expires_at + timedelta(minutes=20))  # time passed while it was down
    restarted = jobs.start(engine, ctx, clock, sender, manual=True)
    ran: list[str] = []
    restarted.add_listener(lambda event: ran.append(event.job_id), EVENT_JOB_EXECUTED)
    restarted.run_pending()
    restarted.run_pending()  # a second pass finds nothing more to do
    assert ran.count(wake_id) == 1
    with Session(engine) as s:
        statuses = [o.status for o in s.exec(select(Offer).order_by(Offer.id))]
        expired_events = s.exec(select(RequestEvent).where(RequestEvent.reason.like("%응답 기한 만료"))).all()
    assert statuses[0] == OfferStatus.expired and statuses[1] == OfferStatus.pending
    assert len(expired_events) == 1
    assert restarted.get_job(wake_id) is None
    # the start-up jobs have fixed ids: a restart replaced them instead of adding copies
    assert sorted(j.id for j in restarted.get_jobs() if not j.id.startswith("wake-")) == ["dispatch", "purge", "sweep", "tick"]
    restarted.shutdown()
    jobs.RUNTIME = None


def test_scheduler_timezone_is_seoul_not_the_servers(engine):
    scheduler = jobs.make_scheduler(engine)
    assert str(scheduler.timezone) == "Asia/Seoul"
