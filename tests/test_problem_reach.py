"""Issue 23 (30,000 providers in one database): a call's problem holds only the providers whose radius can
reach it, and what the operator and the offer loop see does not change: the same ranking, the same plan and
explanation as with every provider; a call no radius reaches still names the nearest provider and the radius
to widen; an operator's pick of a far provider still lists the rules it breaks."""

from __future__ import annotations

from sqlmodel import Session, select

import matching
from conftest import log_waiting_requests, request_body
from hotline.models import CareRequest, Provider
from hotline.offers.adapter import build_problem
from hotline.providers.registry import create_provider
from hotline.providers.schemas import ProviderCreate

WEEK = {d: [["07:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _far_providers(engine, clock, places) -> None:
    """Three providers in 파주 and 연천, 100 km and more from 평택: no radius of theirs reaches it."""
    with Session(engine) as s:
        for i, (lat, lon) in enumerate([(37.76, 126.78), (37.77, 126.80), (38.10, 127.07)]):
            create_provider(s, ProviderCreate.model_validate({
                "code": f"pj-f{i:02d}", "kind": "facility", "name": f"파주 돌봄센터 {i}", "phone": f"010-5557-10{i:02d}",
                "address": "파주시 금촌동 1", "lat": lat, "lon": lon, "capacity": 20, "min_age": 0, "max_age": 12,
                "radius_km": 8, "weekly_hours": WEEK}), now=clock.now(), geocoder=places)
        s.commit()


def _problems(engine, settings, clock, ref):
    with Session(engine) as s:
        care = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        near = build_problem(s, [care], now=clock.now(), settings=settings)
        every = build_problem(s, [care], now=clock.now(), settings=settings, everyone=True)
        active = len(s.exec(select(Provider.id).where(Provider.active == True)).all())  # noqa: E712
        return str(care.id), near, every, active


def _same_view(rid: str, near: matching.Problem, every: matching.Problem) -> None:
    assert matching.rank_providers(near, rid, k=50) == matching.rank_providers(every, rid, k=50)
    plan_near, plan_every = (matching.solve_incremental(p, rid, time_limit_s=1.0) for p in (near, every))
    assert plan_near.assignments == plan_every.assignments
    assert plan_near.explanations[rid] == plan_every.explanations[rid]


def test_a_call_reads_the_providers_that_reach_it_and_sees_the_same_plan(client, engine, settings, clock, places,
                                                                          operator, demo):
    _far_providers(engine, clock, places)
    res = client.post("/v1/requests", json=request_body(), headers=operator)
    assert res.status_code == 201
    rid, near, every, active = _problems(engine, settings, clock, res.json()["ref"])
    codes = {p.id for p in near.providers}
    assert len(every.providers) == active == 31 and codes < {p.id for p in every.providers}
    assert not codes & {"pj-f00", "pj-f01", "pj-f02"}  # 파주 and 연천 are not read for a call in 평택
    assert all(matching.haversine_km(p.location.lat, p.location.lon, near.requests[0].location.lat,
                                     near.requests[0].location.lon) <= p.radius_km * 1.5 for p in near.providers)
    _same_view(rid, near, every)


def test_a_call_no_radius_reaches_reads_everyone_and_names_the_nearest(client, engine, settings, clock, places,
                                                                      operator, demo):
    _far_providers(engine, clock, places)
    body = request_body(location={"address": "안성시 석정동 1", "place": "안성시"})
    res = client.post("/v1/requests", json=body, headers=operator)
    assert res.status_code == 201
    rid, near, every, active = _problems(engine, settings, clock, res.json()["ref"])
    assert len(near.providers) == len(every.providers) == active
    _same_view(rid, near, every)
    explanation = matching.solve_incremental(near, rid, time_limit_s=1.0).explanations[rid]
    assert "가장 가까운 곳" in explanation.summary_ko and "반경을" in explanation.summary_ko


def test_a_call_with_more_providers_in_reach_than_it_reads_reviews_the_nearest_and_says_so(
        engine, settings, clock, places, demo):
    """Past `nearest_providers` in reach, a call reads only the nearest of them: its ranking is the full
    read's ranking among those, and its explanation counts every provider in reach and says that only
    the nearest were reviewed."""
    from hotline import offers
    from hotline.offers.adapter import last_explanation
    from hotline.requests.schemas import CareRequestCreate

    n = 3
    cut = settings.model_copy(update={"nearest_providers": n})
    with Session(engine) as s:
        created = offers.take_call(s, CareRequestCreate.model_validate(request_body()), actor="operator:demo-op",
                                   now=clock.now(), ctx=offers.OfferContext(settings=cut, places=places))
        s.commit()
        explained = last_explanation(s, created.request)
    rid, _, every, _ = _problems(engine, settings, clock, created.request.ref)
    here = every.requests[0].location
    radius = {p.id: p.radius_km for p in every.providers}
    in_reach = [code for km, code in sorted((matching.haversine_km(here.lat, here.lon, p.location.lat, p.location.lon),
                                             p.id) for p in every.providers) if km <= radius[code]]
    assert len(in_reach) > n  # the demo world has more than three providers within reach of 비전동
    _, near, _, _ = _problems(engine, cut, clock, created.request.ref)
    seen = [p.id for p in near.providers
            if matching.haversine_km(here.lat, here.lon, p.location.lat, p.location.lon) <= p.radius_km]
    assert sorted(seen) == sorted(in_reach[:n]) and near.in_radius == {rid: len(in_reach)}

    def ranking(problem):  # who, how far, how much room (a candidate's own text counts what was read)
        return [(c.provider_id, c.distance_km, c.spare) for c in matching.rank_providers(problem, rid, k=50)]

    assert ranking(near) == [c for c in ranking(every) if c[0] in in_reach[:n]] != []
    # what the operator reads: every provider in reach counted, and that only the nearest were reviewed
    assert explained["provider_id"] == ranking(near)[0][0]
    assert explained["counts"]["in_radius"] == len(in_reach) and explained["counts"]["reviewed"] == n
    assert f"반경 내 {len(in_reach)}곳 중 가까운 {n}곳만 검토, 가능" in explained["summary_ko"]
    assert f"of the nearest {n} reviewed ({len(in_reach)} providers within radius)" in explained["summary_en"]


def test_a_changed_plan_keeps_a_placed_provider_that_nearer_ones_push_out_of_the_read(engine, settings, clock,
                                                                                       places, demo):
    """The placed provider is re-checked on a changed plan even when the nearest providers in reach, which
    are all a cut read holds, do not include it."""
    from datetime import timedelta

    from hotline import offers
    from hotline.models import Offer
    from hotline.offers import plans
    from hotline.requests.schemas import CareRequestCreate

    ctx = offers.OfferContext(settings=settings, places=places)
    with Session(engine) as s:
        created = offers.take_call(s, CareRequestCreate.model_validate(request_body()), actor="operator:demo-op",
                                   now=clock.now(), ctx=ctx)
        s.commit()
        offer = s.exec(select(Offer).where(Offer.request_id == created.request.id)).first()
        assert offers.answer(s, offer.id, accept=True, channel="link", now=clock.now(), ctx=ctx) == "accepted"
        s.commit()
        placed, ref, request_id = s.get(Provider, offer.provider_id).code, created.request.ref, created.request.id
    _, _, every, _ = _problems(engine, settings, clock, ref)
    here = every.requests[0].location
    nearest = min((matching.haversine_km(here.lat, here.lon, p.location.lat, p.location.lon), p.id)
                  for p in every.providers
                  if matching.haversine_km(here.lat, here.lon, p.location.lat, p.location.lon) <= p.radius_km)[1]
    assert nearest != placed  # the nearest in reach cannot take these children: a read of one leaves it out
    cut = offers.OfferContext(settings=settings.model_copy(update={"nearest_providers": 1}), places=places)
    with Session(engine) as s:
        care = s.get(CareRequest, request_id)
        kept = plans.change_plan(s, care, plans.PlanChange(start=care.start_at + timedelta(hours=1), end=care.end_at),
                                 actor="operator:demo-op", reason="보호자 요청", now=clock.now(), ctx=cut)
        s.commit()
    assert kept == "kept"


def test_a_sweep_of_many_requests_pairs_each_with_its_nearest_and_says_so(engine, settings, clock, places, demo):
    """A problem of more requests than a box read serves (the sweep) reads every provider once, and the
    solver pairs each request with only its nearest `nearest_providers` in reach: what each is offered is
    among them, and its explanation counts every provider in reach and says that only the nearest were
    reviewed."""
    from hotline import offers
    from hotline.models import Offer
    from hotline.offers.adapter import last_explanation
    from hotline.offers.reach import NEAR_REQUESTS

    log_waiting_requests(engine, settings, clock, places, NEAR_REQUESTS + 2, phones="63")
    with Session(engine) as s:
        waiting = list(s.exec(select(CareRequest)))
    n = 3
    cut = settings.model_copy(update={"nearest_providers": n})
    with Session(engine) as s:
        problem = build_problem(s, waiting, now=clock.now(), settings=cut)
        active = len(s.exec(select(Provider.id).where(Provider.active == True)).all())  # noqa: E712
    assert problem.nearest == n and len(problem.providers) == active  # every provider read once
    nearest: dict[str, set[str]] = {}
    in_reach: dict[str, int] = {}
    for r in problem.requests:
        d = {p.id: matching.haversine_km(r.location.lat, r.location.lon, p.location.lat, p.location.lon)
             for p in problem.providers}
        reach = sorted(km for p in problem.providers if (km := d[p.id]) <= p.radius_km)
        assert len(reach) > n
        nearest[r.id], in_reach[r.id] = {code for code, km in d.items() if km <= reach[n - 1]}, len(reach)
    with Session(engine) as s:
        offers.sweep(s, now=clock.now(), ctx=offers.OfferContext(settings=cut, places=places))
        s.commit()
        made = s.exec(select(Offer.request_id, Provider.code).join(Provider, Provider.id == Offer.provider_id)).all()
        # with three providers reviewed each, not all eighteen calls find one free: those offered are
        assert len({r for r, _ in made}) > 5 and all(code in nearest[str(r)] for r, code in made)
        for care in s.exec(select(CareRequest).where(CareRequest.id.in_({r for r, _ in made}))):
            explained = last_explanation(s, care)
            total = in_reach[str(care.id)]
            assert explained["counts"]["in_radius"] == total and explained["counts"]["reviewed"] == n
            assert f"반경 내 {total}곳 중 가까운 {n}곳만 검토" in explained["summary_ko"]
