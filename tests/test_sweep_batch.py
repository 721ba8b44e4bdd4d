"""Issue 23: the sweep's waves read once and write in bulk (hotline.offers.batch). What it offers and sends
is what the same waves make request by request: the same providers, ranks, reply codes, odds, texts and
events; every offer has its text; a provider asked by several requests in one sweep gets a new code each
time; and a sweep that fails leaves nothing behind. A wave on its own and a batch of one wave, for the same
request in the same state, make the same offers, texts and events."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, col, select

import matching
from conftest import log_waiting_requests
from hotline import jobs, offers
from hotline.models import CareRequest, Offer, OutboxMessage, Provider, RequestEvent
from hotline.offers.adapter import build_problem
from hotline.offers.batch import WaveBatch
from hotline.offers.loop import policy_for


def _sweep(engine, settings, clock, places) -> dict:
    """One sweep, rolled back: what it offered, texted and recorded, in terms that do not depend on row ids."""
    ctx = offers.OfferContext(settings=settings, places=places)
    with Session(engine) as s:
        offers.sweep(s, now=clock.now(), ctx=ctx)
        out = _written(s)
        s.rollback()
    return out


def _written(s: Session) -> dict:
    """Every offer, offer text, system event and request status in the session's database."""
    s.flush()
    ref = dict(s.exec(select(CareRequest.id, CareRequest.ref)).all())
    code = dict(s.exec(select(Provider.id, Provider.code)).all())
    made = {o.id: o for o in s.exec(select(Offer).order_by(col(Offer.id)))}
    texts = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "offer").order_by(col(OutboxMessage.id))).all()
    return {
        "offers": sorted((ref[o.request_id], code[o.provider_id], o.round, o.rank, o.reply_code, o.distance_km,
                          o.odds_accept, o.chance_gain, o.expires_at) for o in made.values()),
        # the link carries the offer's row id: everything else in the text is compared
        "texts": sorted((ref[t.request_id], t.to, re.sub(r"https?://\S+", "<link>", t.body),
                         code[made[t.offer_id].provider_id]) for t in texts),
        "events": sorted((ref[e.request_id], e.reason, e.from_status, e.to_status)
                         for e in s.exec(select(RequestEvent).where(RequestEvent.actor == "system"))),
        "statuses": sorted(s.exec(select(CareRequest.ref, CareRequest.status, CareRequest.offer_rounds))),
        "texted_offers": sorted(t.offer_id for t in texts), "offer_ids": sorted(made),
    }


def test_a_sweep_offers_and_texts_what_request_by_request_waves_would(engine, settings, clock, places, demo,
                                                                       monkeypatch):
    refs = log_waiting_requests(engine, settings, clock, places, 6)
    batched = _sweep(engine, settings, clock, places)
    # each wave reads and writes on its own, as when one request is matched
    monkeypatch.setattr(WaveBatch, "read", classmethod(lambda cls, *a, **k: None))
    one_by_one = _sweep(engine, settings, clock, places)
    for key in ("offers", "texts", "events", "statuses"):
        assert batched[key] == one_by_one[key], key
    assert {r for r, *_ in batched["offers"]} == set(refs)  # every waiting request was offered
    assert batched["texted_offers"] == batched["offer_ids"]  # one text for every offer
    for ref, to, body, provider in batched["texts"]:
        assert "<link>" in body
    # a provider asked by several requests in the sweep gets a code it has not seen on each
    codes: dict[str, list[str]] = {}
    for _, provider, _, _, reply, *_ in batched["offers"]:
        codes.setdefault(provider, []).append(reply)
    assert any(len(c) > 1 for c in codes.values()) and all(len(set(c)) == len(c) for c in codes.values())


def test_a_sweep_that_fails_leaves_no_offer_and_no_text(engine, settings, clock, places, demo, monkeypatch):
    from hotline import jobs

    log_waiting_requests(engine, settings, clock, places, 3)

    def fail(self, session):
        session.flush()
        raise RuntimeError("the database went away")

    monkeypatch.setattr(WaveBatch, "finish", fail)
    with pytest.raises(RuntimeError):
        with jobs.unit_of_work(engine) as s:
            offers.sweep(s, now=clock.now(), ctx=offers.OfferContext(settings=settings, places=places))
    with Session(engine) as s:
        assert s.exec(select(Offer)).all() == [] and s.exec(select(OutboxMessage)).all() == []
        assert set(s.exec(select(CareRequest.status))) == {"matching"}


def _one_wave(engine, settings, clock, places, ref: str, *, batched: bool) -> dict:
    """One wave for `ref`, rolled back: on its own (as a call or a wave come due makes it) or as a batch of
    one (as the sweep makes it), from the same problem and plan."""
    ctx = offers.OfferContext(settings=settings, places=places)
    now = clock.now()
    with Session(engine) as s:
        request = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        problem = build_problem(s, [request], now=now, settings=settings)
        plan = matching.solve_incremental(problem, str(request.id), time_limit_s=settings.solver_time_limit_s)
        batch = WaveBatch.read(s, [request], now=now, problem=problem, plan=plan,
                               policies={request.id: policy_for(request, ctx)}) if batched else None
        offers.offer_wave(s, request, now=now, ctx=ctx, problem=problem, plan=plan, batch=batch)
        if batch is not None:
            batch.finish(s)
        out = _written(s)
        s.rollback()
    return out


def test_a_lone_wave_and_a_batch_of_one_make_the_same_offers(engine, settings, clock, places, demo):
    refs = log_waiting_requests(engine, settings, clock, places, 6)
    with jobs.unit_of_work(engine) as s:  # first waves: each request has an open offer, providers have codes
        offers.sweep(s, now=clock.now(), ctx=offers.OfferContext(settings=settings, places=places))
    clock.advance(minutes=5)  # silence: a second wave asks more
    second: list[tuple] = []
    for ref in refs:
        lone = _one_wave(engine, settings, clock, places, ref, batched=False)
        batch = _one_wave(engine, settings, clock, places, ref, batched=True)
        for key in ("offers", "texts", "events", "statuses"):
            assert lone[key] == batch[key], (ref, key)
        assert lone["texted_offers"] == lone["offer_ids"] and batch["texted_offers"] == batch["offer_ids"]
        made = [o for o in lone["offers"] if o[0] == ref and o[2] == 2]  # (ref, provider, round, rank, code, ...)
        assert made and sorted(o[3] for o in made) == list(range(2, 2 + len(made)))  # ranked after the open offer
        second += made
    assert any(o[4] != "A1" for o in second)  # the codes a provider was sent in the sweep count
