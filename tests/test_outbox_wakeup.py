"""With several workers, only one runs the scheduler. An SMS row committed by another worker wakes that
worker's dispatcher at once (PostgreSQL NOTIFY, delivered on commit only), instead of waiting for the
dispatcher's next 5-second run: the parent's confirmation leaves as soon as the provider's accept commits."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event
from sqlmodel import Session

from hotline.sms import outbox
from hotline.jobs import OutboxListener
from hotline.sms.outbox import enqueue

PHONE = "+821055500001"


@pytest.fixture
def wake_ups(backend, engine, monkeypatch):
    if backend != "postgres":
        pytest.skip("SQLite has no channel between processes; its workers' rows wait for the 5-second run")
    monkeypatch.setattr(outbox, "KICK", None)  # this process plays a worker without the scheduler
    woken: list[int] = []
    arrived = threading.Condition()

    def wake() -> None:
        with arrived:
            woken.append(1)
            arrived.notify_all()

    listener = OutboxListener(engine, wake)
    listener.start()
    assert listener.listening.wait(10), "the listener never got its LISTEN in"

    def wait_for(count: int) -> bool:
        with arrived:
            return arrived.wait_for(lambda: len(woken) >= count, timeout=10)

    yield woken, wait_for
    listener.stop()


def test_a_row_committed_by_another_worker_wakes_the_dispatcher(engine, clock, wake_ups):
    _, wait_for = wake_ups
    with Session(engine) as s:
        enqueue(s, to=PHONE, kind="survey", lang="ko", now=clock.now())
        enqueue(s, to=PHONE, kind="survey", lang="en", now=clock.now())
        s.commit()
    assert wait_for(1)


def test_a_savepoint_rolled_back_does_not_swallow_the_wake_up(engine, clock, wake_ups):
    _, wait_for = wake_ups
    with Session(engine) as s:
        nested = s.begin_nested()
        enqueue(s, to=PHONE, kind="survey", lang="ko", now=clock.now())
        nested.rollback()
        enqueue(s, to=PHONE, kind="survey", lang="en", now=clock.now())
        s.commit()
    assert wait_for(1)


def test_a_savepoint_inside_a_transaction_that_has_notified_costs_no_second_notify(backend, engine, clock,
                                                                                    monkeypatch):
    """The intake texts the parent, then matches inside a savepoint and texts providers: one NOTIFY is
    enough, since the first one stands as long as the transaction that carries every row commits."""
    if backend != "postgres":
        pytest.skip("NOTIFY is PostgreSQL's")
    monkeypatch.setattr(outbox, "KICK", None)
    notifies: list[str] = []

    def count(conn, cursor, statement, *_) -> None:
        if "pg_notify" in statement:
            notifies.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as s:
            enqueue(s, to=PHONE, kind="survey", lang="ko", now=clock.now())
            with s.begin_nested():
                enqueue(s, to=PHONE, kind="survey", lang="en", now=clock.now())
            s.commit()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(notifies) == 1
