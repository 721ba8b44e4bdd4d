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


def test_the_province_demo_day_matches_every_city_or_names_a_real_shortage(app, engine, settings, clock, places):
    """`make run` seeds providers in all 31 시·군 at real 동 points (hotline.demo.province), and
    `dolbom demo-day` adds a call from each city's 동 farthest from its city office: none of them ends
    "nobody within reach" because of the demo's geography."""
    from conftest import PASSWORD
    from hotline.demo.province import province_calls
    from hotline.demo.seed import seed_demo

    with Session(engine) as s:
        seed_demo(s, settings.data_dir, now=clock.now(), places=places, operator=("demo-op", PASSWORD), province=True)
        s.commit()
    results = play_day(engine, app.state.offer_context, clock, province=True)
    assert len(results) == 60 and not any(status.startswith("refused") for _, status in results)
    province = results[30:]
    with Session(engine) as s:
        rows = {r.ref: r for r in s.exec(select(CareRequest))}
        cities = {rows[ref].city_ko for ref, _ in province}
        assert len(cities) == 30 and "평택시" not in cities
        for ref, status in province:
            request = rows[ref]
            assert request.location_precision == "dong" and request.place_code
            if status != "offered":  # a real shortage: the reason is not the geography
                assert "반경 내 기관 없음" not in (request.attention_reason or ""), (request.city_ko, request.attention_reason)
        offered = sum(status == "offered" for _, status in province)
    assert offered >= 27, [(rows[ref].city_ko, status) for ref, status in province]
    # each call comes from where the old city-office table placed people farthest from home
    calls = province_calls(places, clock.now().date())
    assert {c["place"].split()[0] for c in calls} == cities
