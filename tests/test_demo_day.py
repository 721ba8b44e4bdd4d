"""The scripted demo day runs through the real intake and matching, and replays without duplicates."""

from sqlmodel import Session, func, select

from hotline.demo.day import play_day
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


def test_living_demo_providers_answer_like_the_simulators(app, engine, demo, clock, loop):
    """`make run`'s demo: offers are accepted, declined or left to expire by the demo providers, so the
    demo day ends with confirmations instead of every offer expiring."""
    from collections import Counter

    from hotline import jobs
    from hotline.models import InboundMessage, Offer

    play_day(engine, app.state.offer_context, clock)
    for _ in range(40):  # an hour of the living demo, driven by hand: jobs every 90 s of demo time
        clock.advance(seconds=90)
        jobs.tick()
        jobs.demo_answers()
    with Session(engine) as s:
        statuses = Counter(r.status for r in s.exec(select(CareRequest)))
        answers = s.exec(select(InboundMessage).where(InboundMessage.sid.like("DEMO%"))).all()
        answered = Counter(o.status for o in s.exec(select(Offer)) if o.answer_channel == "sms")
    assert statuses["confirmed"] >= 15 and answered["declined"] >= 1  # accepts and declines both happen
    assert {a.handled_as for a in answers} <= {"offer_accepted", "offer_declined", "offer_closed", "offer_filled"}
    replay = len(answers)
    jobs.demo_answers()  # each offer is answered once, however often the job runs
    with Session(engine) as s:
        assert len(s.exec(select(InboundMessage).where(InboundMessage.sid.like("DEMO%"))).all()) == replay


def test_the_living_demo_has_a_switch(engine, settings):
    from hotline import jobs

    dev = settings.model_copy(update={"environment": "development", "sms_backend": "console"})
    assert jobs.living_demo(dev) and not jobs.living_demo(settings)  # never outside development
    scheduler = jobs.make_scheduler(engine, manual=True)
    scheduler.start()
    jobs.install_jobs(scheduler, dev)
    assert scheduler.get_job("demo_answers") is not None
    jobs.install_jobs(scheduler, dev.model_copy(update={"demo_providers_answer": False}))  # DOLBOM_DEMO_PROVIDERS_ANSWER=false
    assert scheduler.get_job("demo_answers") is None
    scheduler.shutdown()
