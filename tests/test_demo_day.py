"""The scripted demo day runs through the real intake and matching, and replays without duplicates."""

from sqlmodel import Session, func, select

from hotline.demo import play_day
from hotline.models import CareRequest


def test_demo_day_places_most_calls_and_escalates_the_impossible(app, engine, demo, clock):
    ctx = app.state.offer_context
    results = play_day(engine, ctx, clock)
    statuses = [status for _, status in results]
    assert len(results) == 30 and not any(s.startswith("refused") for s in statuses)
    assert statuses.count("offered") >= 20
    assert "unmatched" in statuses  # e.g. special needs late at night in 청북읍
    with Session(engine) as s:
        unmatched = s.exec(select(CareRequest).where(CareRequest.status == "unmatched")).all()
        assert all(r.needs_attention and r.attention_reason for r in unmatched)
    again = play_day(engine, ctx, clock)
    assert [ref for ref, _ in again] == [ref for ref, _ in results]
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(CareRequest)).one() == 30
