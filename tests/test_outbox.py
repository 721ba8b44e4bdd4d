"""The outbox against a misbehaving Twilio: outages, rate limits, bad numbers and a crash mid-send."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from loop_support import request_row
from hotline.sms import outbox
from hotline.models import CareRequest, OutboxMessage, OutboxStatus
from hotline.sms.outbox import enqueue

PHONES = [f"+82105550{n:04d}" for n in range(1, 7)]

pytestmark = pytest.mark.twilio


def queue(engine, clock, phones=PHONES, kind="survey") -> None:
    with Session(engine) as s:
        for phone in phones:
            enqueue(s, to=phone, kind=kind, lang="ko", now=clock.now())
        s.commit()


def rows(engine) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def drive(engine, sender, clock, seconds: int, step: int = 5) -> None:
    """The dispatcher job every `step` seconds of fake time."""
    for _ in range(seconds // step):
        outbox.dispatch(engine, sender, now=clock.now())
        clock.advance(seconds=step)


def test_a_minute_of_500s_then_everything_is_delivered_once(engine, app, clock, twilio):
    queue(engine, clock)
    # first half: Twilio takes the message and still answers 500 ("maybe sent"); second half: plain 500s
    twilio.fail(500, seconds=30, processed=True)
    drive(engine, app.state.sender, clock, 30)
    twilio.fail(500, seconds=30)
    drive(engine, app.state.sender, clock, 30)
    assert any(r.status == OutboxStatus.pending for r in rows(engine))
    drive(engine, app.state.sender, clock, 400)  # after recovery, within the longest backoff
    sent = rows(engine)
    assert {r.status for r in sent} == {OutboxStatus.sent}
    for phone in PHONES:
        assert len(twilio.bodies_to(phone)) == 1, phone
    assert {r.sid for r in sent} == {m.sid for m in twilio.messages}


def test_crash_right_after_sending_does_not_send_again(engine, app, clock, twilio):
    queue(engine, clock, PHONES[:1])
    real = app.state.sender

    class Killed(BaseException):
        pass

    class DiesAfterSend:
        def send(self, *a, **kw):
            real.send(*a, **kw)
            raise Killed  # the process is gone before it can record the sid

        def find_sent(self, *a, **kw):
            return real.find_sent(*a, **kw)

    with pytest.raises(Killed):
        outbox.dispatch(engine, DiesAfterSend(), now=clock.now())
    assert rows(engine)[0].status == OutboxStatus.sending
    # restart: recover, then the normal dispatcher
    clock.advance(seconds=5)
    assert outbox.recover(engine) == 1
    assert outbox.dispatch(engine, real, now=clock.now()) == 1
    assert len(twilio.bodies_to(PHONES[0])) == 1
    assert rows(engine)[0].status == OutboxStatus.sent and rows(engine)[0].sid == twilio.messages[0].sid


def test_rate_limited_messages_are_retried_without_reconciling(engine, app, clock, twilio):
    queue(engine, clock, PHONES[:2])
    twilio.fail(429, count=2)
    outbox.dispatch(engine, app.state.sender, now=clock.now())
    first = rows(engine)
    assert all(r.status == OutboxStatus.pending and r.attempt_started_at is None for r in first)
    clock.advance(seconds=5)
    outbox.dispatch(engine, app.state.sender, now=clock.now())
    assert all(r.status == OutboxStatus.sent for r in rows(engine))
    assert not any(method == "GET" for method, _, _ in twilio.requests)  # a 429 needs no look-up


def test_invalid_and_unsubscribed_numbers_stop_and_flag_the_request(engine, app, clock, twilio, client, operator,
                                                                    demo):
    from conftest import request_body

    ref = client.post("/v1/requests", json=request_body(), headers=operator).json()["ref"]
    with Session(engine) as s:
        request = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        for phone in ("+15005550001", "+15005550004"):
            enqueue(s, to=phone, kind="survey", lang="ko", now=clock.now(), request_id=request.id)
        s.commit()
    outbox.dispatch(engine, app.state.sender, now=clock.now())
    failed = [r for r in rows(engine) if r.to.startswith("+1500")]
    assert [r.status for r in failed] == [OutboxStatus.failed, OutboxStatus.failed]
    assert "21211" in failed[0].error and "21610" in failed[1].error
    clock.advance(minutes=10)
    outbox.dispatch(engine, app.state.sender, now=clock.now())
    assert not twilio.bodies_to("+15005550001")
    row = request_row(engine, ref)
    assert row.needs_attention and "문자" in row.attention_reason


def test_an_offer_not_sent_before_it_expires_is_dropped(engine, app, clock, twilio):
    with Session(engine) as s:
        enqueue(s, to=PHONES[0], kind="survey", lang="ko", now=clock.now(), expires_at=clock.now())
        s.commit()
    clock.advance(seconds=1)
    outbox.dispatch(engine, app.state.sender, now=clock.now())
    assert rows(engine)[0].status == OutboxStatus.failed and twilio.messages == []


def test_opted_out_numbers_get_nothing_but_the_confirmation(engine, app, clock, twilio):
    from hotline.models import OptOut

    with Session(engine) as s:
        s.add(OptOut(phone=PHONES[0], at=clock.now()))
        s.commit()
    queue(engine, clock, PHONES[:1])
    queue(engine, clock, PHONES[:1], kind="opt_out_ack")
    outbox.dispatch(engine, app.state.sender, now=clock.now())
    assert [r.status for r in rows(engine)] == [OutboxStatus.suppressed, OutboxStatus.sent]
    assert len(twilio.bodies_to(PHONES[0])) == 1


def test_identical_texts_are_reconciled_to_their_own_message(engine, app, clock, twilio):
    queue(engine, clock, PHONES[:1], kind="help")
    outbox.dispatch(engine, app.state.sender, now=clock.now())
    clock.advance(minutes=1)
    queue(engine, clock, PHONES[:1], kind="help")  # the same words again, a minute later
    twilio.fail(500, count=1, processed=True, methods=("POST",))
    outbox.dispatch(engine, app.state.sender, now=clock.now())
    clock.advance(seconds=10)
    outbox.dispatch(engine, app.state.sender, now=clock.now())
    first, second = rows(engine)
    assert first.status == second.status == OutboxStatus.sent and first.sid != second.sid
    assert len(twilio.bodies_to(PHONES[0])) == 2


def test_a_parent_who_opted_out_is_flagged_for_a_phone_call(engine, app, clock, twilio, client, operator):
    from conftest import request_body
    from hotline.models import OptOut

    with Session(engine) as s:
        s.add(OptOut(phone="+821055501234", at=clock.now()))
        s.commit()
    ref = client.post("/v1/requests", json=request_body(), headers=operator).json()["ref"]
    row = request_row(engine, ref)
    assert row.needs_attention and "수신을 거부" in row.attention_reason


def test_a_result_that_could_not_be_recorded_is_reconciled_by_the_next_dispatch(engine, app, clock, twilio):
    """Issue 9, defect 7: Twilio took the message, then the database failed twice — recording `sent`, and
    recording the failure. The row must not stay `sending` until a restart: the next dispatch finds it,
    looks it up at Twilio and records it sent, without sending it again."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    queue(engine, clock, PHONES[:1])
    sent_to_twilio = False
    real_send = app.state.sender.send

    def send(*args, **kwargs):
        nonlocal sent_to_twilio
        result = real_send(*args, **kwargs)
        sent_to_twilio = True
        return result

    def database_down(conn, cursor, statement, parameters, context, executemany):
        if sent_to_twilio and statement.lstrip().upper().startswith("UPDATE OUTBOX_MESSAGE"):
            raise OperationalError(statement, None, Exception("the database went away"))

    app.state.sender.send = send
    event.listen(engine, "before_cursor_execute", database_down)
    try:
        assert outbox.dispatch(engine, app.state.sender, now=clock.now()) == 0
    finally:
        event.remove(engine, "before_cursor_execute", database_down)
        app.state.sender.send = real_send
    assert rows(engine)[0].status == OutboxStatus.sending and rows(engine)[0].sid is None
    clock.advance(seconds=5)
    assert outbox.dispatch(engine, app.state.sender, now=clock.now()) == 1  # no restart in between
    [row] = rows(engine)
    assert row.status == OutboxStatus.sent and row.sid == twilio.messages[0].sid
    assert len(twilio.bodies_to(PHONES[0])) == 1


def test_the_look_up_at_twilio_holds_no_database_lock(engine, app, clock, twilio, backend):
    """Issue 9, defect 8: on SQLite the dispatcher held the write lock while it asked Twilio whether a
    message had gone out; with a slow look-up every writer waited. A write during the look-up must pass."""
    from sqlalchemy import text

    queue(engine, clock, PHONES[:1])
    with Session(engine) as s:  # an earlier attempt that may have gone through: the next one looks it up first
        row = s.exec(select(OutboxMessage)).one()
        row.attempt_started_at = clock.now()
        s.add(row)
        s.commit()
    real = app.state.sender
    wrote: list[bool] = []

    class WritesDuringLookUp:
        def find_sent(self, *args, **kwargs):
            quick = engine.execution_options(isolation_level="AUTOCOMMIT") if backend == "postgres" else engine
            with quick.connect() as conn:
                if backend == "sqlite":
                    conn.exec_driver_sql("PRAGMA busy_timeout=200")  # fail fast instead of waiting 30 s
                conn.execute(text("UPDATE care_request SET needs_attention = needs_attention"))
                conn.commit()
            wrote.append(True)
            return real.find_sent(*args, **kwargs)

        def send(self, *args, **kwargs):
            return real.send(*args, **kwargs)

    assert outbox.dispatch(engine, WritesDuringLookUp(), now=clock.now()) == 1
    assert wrote == [True]
    assert rows(engine)[0].status == OutboxStatus.sent


def test_a_crash_in_the_middle_of_a_chunk_sends_nothing_twice_and_loses_nothing(engine, app, clock, twilio):
    """The dispatcher claims rows a chunk at a time and records their results together: a crash after the
    second send leaves two texts sent but unrecorded and two claimed but unsent. After the restart every
    number has its text exactly once, and every row carries the sid of its own message."""
    queue(engine, clock, PHONES[:4])
    real = app.state.sender

    class Killed(BaseException):
        pass

    sends: list[str] = []

    class DiesOnTheSecondSend:
        def send(self, *args, **kwargs):
            result = real.send(*args, **kwargs)
            sends.append(result.sid)
            if len(sends) == 2:
                raise Killed  # the process is gone before any result of the chunk is recorded
            return result

        def find_sent(self, *args, **kwargs):
            return real.find_sent(*args, **kwargs)

    with pytest.raises(Killed):
        outbox.dispatch(engine, DiesOnTheSecondSend(), now=clock.now())
    assert [r.status for r in rows(engine)] == [OutboxStatus.sending] * 4
    clock.advance(seconds=5)
    assert outbox.recover(engine) == 4
    assert outbox.dispatch(engine, real, now=clock.now()) == 4
    for phone in PHONES[:4]:
        assert len(twilio.bodies_to(phone)) == 1, phone
    assert {r.status for r in rows(engine)} == {OutboxStatus.sent}
    assert sorted(r.sid for r in rows(engine)) == sorted(m.sid for m in twilio.messages)


def test_more_than_a_chunk_is_sent_in_one_run(engine, app, clock, twilio):
    phones = [f"+8210555{n:05d}" for n in range(25)]
    queue(engine, clock, phones)
    assert outbox.dispatch(engine, app.state.sender, now=clock.now(), chunk=10) == 25
    assert {r.status for r in rows(engine)} == {OutboxStatus.sent}
    assert sorted(m.to for m in twilio.messages) == phones
