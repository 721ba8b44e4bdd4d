"""What an intake transaction may skip because it wrote the row itself — the lock on a request nobody else can
see yet, a second read of its children — and that it stops skipping once the transaction is over."""

from __future__ import annotations

from conftest import request_body
from hotline.core.config import Settings
from hotline.core.db import needs_lock
from hotline.places.geo import load_places
from hotline.requests.children import children_of
from hotline.requests.intake import create_care_request
from hotline.requests.schemas import CareRequestCreate


def _take(session, settings: Settings, clock, **overrides):
    body = CareRequestCreate.model_validate(request_body(**overrides))
    return create_care_request(session, body, actor="op", now=clock.now(), settings=settings,
                               geocoder=load_places(settings.data_dir)).request


def test_a_request_is_locked_again_once_its_intake_has_committed(session, settings, clock):
    care = _take(session, settings, clock)
    assert not needs_lock(session, care)  # invisible to everyone else until the commit
    session.commit()
    assert needs_lock(session, care)  # now a parent's cancel may race an answer: lock as usual


def test_a_rolled_back_intake_leaves_nothing_for_the_next_one_to_reuse(session, settings, clock):
    first = _take(session, settings, clock)
    assert [c.first_name for c in children_of(session, first)] == ["서윤", "도윤"]
    session.rollback()
    # SQLite may hand the rolled-back id out again: the new request must not inherit the old children
    second = _take(session, settings, clock, children=[{"first_name": "하준", "birth_date": "2019-07-07"}])
    assert [c.first_name for c in children_of(session, second)] == ["하준"]
    session.commit()
    assert needs_lock(session, second)


def test_the_solver_sees_an_offer_made_earlier_in_the_same_transaction(session, settings, clock, demo):
    """The problem's reads are reused within one step, but never across a write: an offer made a moment
    ago to a provider holds its place for the next request matched in the same transaction."""
    from datetime import timedelta

    from hotline.offers.adapter import build_problem
    from hotline.models import Offer, Provider
    from sqlmodel import select

    first = _take(session, settings, clock)
    second = _take(session, settings, clock, guardian={"name": "박하늘", "phone": "010-5550-9876", "language": "ko"})
    provider = session.exec(select(Provider).order_by(Provider.id)).first()

    def held(problem) -> int:
        return len(next(p for p in problem.providers if p.id == provider.code).commitments)

    before = held(build_problem(session, [second], now=clock.now(), settings=settings))
    assert held(build_problem(session, [second], now=clock.now(), settings=settings)) == before  # same step
    session.add(Offer(request_id=first.id, provider_id=provider.id, created_at=clock.now(),
                      expires_at=clock.now() + timedelta(minutes=30), reply_code="A1"))
    session.flush()
    assert held(build_problem(session, [second], now=clock.now(), settings=settings)) == before + 1
    unheld = build_problem(session, [second], now=clock.now(), settings=settings, count_pending_offers=False)
    assert held(unheld) == before


def test_a_later_transaction_of_the_same_session_reads_afresh(session, engine, settings, clock, demo):
    """Between transactions a session has none; reads cached then must not serve the next transaction."""
    from datetime import timedelta

    from sqlmodel import Session, select

    from hotline.offers.adapter import build_problem
    from hotline.models import Offer, Provider

    first = _take(session, settings, clock)
    second = _take(session, settings, clock, guardian={"name": "박하늘", "phone": "010-5550-9876", "language": "ko"})
    session.commit()
    provider = session.exec(select(Provider).order_by(Provider.id)).first()
    session.commit()

    def held() -> int:
        problem = build_problem(session, [second], now=clock.now(), settings=settings)
        return len(next(p for p in problem.providers if p.id == provider.code).commitments)

    before = held()  # the first statement of its transaction
    session.commit()
    with Session(engine) as other:  # another worker offers the first request to that provider meanwhile
        other.add(Offer(request_id=first.id, provider_id=provider.id, created_at=clock.now(),
                        expires_at=clock.now() + timedelta(minutes=30), reply_code="A1"))
        other.commit()
    assert held() == before + 1


def test_a_returning_caller_keeps_one_guardian_row_with_this_calls_name_and_language(session, settings, clock):
    """The guardian is written in one statement (insert, or update on the same number): a second call from
    the same phone reuses the row and takes the name and language given this time."""
    from sqlmodel import select

    from hotline.models import Guardian

    first = _take(session, settings, clock)
    session.commit()
    second = _take(session, settings, clock, guardian={"name": "김바다", "phone": "010-5550-1234", "language": "en"})
    session.commit()
    rows = session.exec(select(Guardian)).all()
    assert len(rows) == 1 and second.guardian_id == first.guardian_id == rows[0].id
    assert (rows[0].name, rows[0].language, rows[0].phone) == ("김바다", "en", "+821055501234")


def test_a_stop_written_in_the_transaction_silences_its_later_texts(session, clock):
    """Opt-outs are read once per transaction, and read again once the session writes one."""
    from hotline.models import OptOut, OutboxStatus
    from hotline.sms.outbox import enqueue

    phone = "+821055507777"
    before = enqueue(session, to=phone, kind="survey", lang="ko", now=clock.now())
    session.add(OptOut(phone=phone, at=clock.now()))
    session.flush()
    after = enqueue(session, to=phone, kind="survey", lang="ko", now=clock.now())
    assert (before.status, after.status) == (OutboxStatus.pending, OutboxStatus.suppressed)


def test_postgresql_plans_every_statement_with_the_tables_as_they_are(backend, engine):
    """No server-side prepared statements: a plan cached while the tables were small would outlive their
    growth on a pooled connection (the solver's read of pending offers took 5× longer at 1,000 requests)."""
    import pytest
    from sqlalchemy import text
    from sqlmodel import select

    from hotline.models import Provider

    if backend != "postgres":
        pytest.skip("prepared statements are PostgreSQL's")
    with engine.connect() as conn:
        for _ in range(10):  # psycopg would prepare from the fifth run on
            conn.execute(select(Provider.id).where(Provider.code == "pt-f01")).all()
        assert conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar() == 0
