"""The request state machine: allowed moves are recorded, every other move is refused."""

import itertools

import pytest
from sqlmodel import select

from hotline.requests.lifecycle import TRANSITIONS, IllegalTransition, RequestStatus, transition
from hotline.models import CareRequest, Guardian, RequestEvent
from conftest import NOW


def make_request(session, status: RequestStatus) -> CareRequest:
    g = Guardian(name="보호자", phone=f"+8210555{len(session.exec(select(Guardian)).all()):05d}", created_at=NOW)
    session.add(g)
    session.flush()
    r = CareRequest(ref=f"R{g.id:07d}", guardian_id=g.id, status=status, reason="illness", start_at=NOW, end_at=NOW,
                    address="x", lat=37.0, lon=127.0, consent_at=NOW, consent_by="op", created_by="op",
                    created_at=NOW, updated_at=NOW)
    session.add(r)
    session.flush()
    return r


def test_happy_path_is_recorded(session):
    r = make_request(session, RequestStatus.received)
    path = ["matching", "offered", "confirmed", "in_care", "completed"]
    for target in path:
        transition(session, r, RequestStatus(target), actor="system", at=NOW, reason="test")
    session.commit()
    events = session.exec(select(RequestEvent).where(RequestEvent.request_id == r.id).order_by(RequestEvent.id)).all()
    assert [(e.from_status, e.to_status) for e in events] == list(zip(["received"] + path[:-1], path))


@pytest.mark.parametrize("current,target", [
    (c, t) for c, t in itertools.product(RequestStatus, RequestStatus) if t not in TRANSITIONS[c]
])
def test_illegal_moves_are_refused_before_touching_the_session(current, target):
    r = CareRequest(ref="R0000001", guardian_id=1, status=current, reason="illness", start_at=NOW, end_at=NOW,
                    address="x", lat=37.0, lon=127.0, consent_at=NOW, consent_by="op", created_by="op",
                    created_at=NOW, updated_at=NOW)
    with pytest.raises(IllegalTransition) as err:
        transition(None, r, target, actor="system", at=NOW)  # a session would be touched only after the check
    assert err.value.status == 409
    assert r.status == current


def test_terminal_states_have_no_way_out():
    assert TRANSITIONS[RequestStatus.completed] == TRANSITIONS[RequestStatus.cancelled] == frozenset()


def test_a_stale_copy_cannot_overwrite_a_newer_state(engine):
    """Care starting (in_care) and a parent cancelling at the same moment: the second writer re-reads."""
    from sqlmodel import Session

    with Session(engine, expire_on_commit=False) as setup:
        r = make_request(setup, RequestStatus.confirmed)
        setup.commit()
        rid = r.id
    with Session(engine, expire_on_commit=False) as scheduler:
        stale = scheduler.get(CareRequest, rid)
        scheduler.commit()  # its copy still says "confirmed"
        with Session(engine) as parent:
            transition(parent, parent.get(CareRequest, rid), RequestStatus.cancelled, actor="guardian:sms", at=NOW)
            parent.commit()
        with pytest.raises(IllegalTransition):
            transition(scheduler, stale, RequestStatus.in_care, actor="system", at=NOW)
        scheduler.rollback()
    with Session(engine) as check:
        assert check.get(CareRequest, rid).status == RequestStatus.cancelled
