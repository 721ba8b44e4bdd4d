"""Issue 20: the offer loop learns within the day and prices new providers from their peers. A slow
morning widens the next waves at once; silence counts before offers expire; a new provider starts from
what similar providers do; the likely-quick are asked first; each offer records what it bought."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from conftest import request_body
from hotline.core.config import OfferPolicy
from hotline.models import CareRequest, Guardian, Offer, OfferStatus, Provider
from hotline.offers.history import peer_key, provider_odds
from hotline.offers.policy import History, Odds, OpenOffer, Prior, odds, plan_wave, pooled
from hotline.offers.today import DayEffect, Seen, day_effect
from loop_support import events, offers_of, only_providers, pending

POLICY = OfferPolicy()
PRIOR = odds(History(), POLICY)


def morning(accept: float, answer: float, median: float, n: int, seed: int = 1) -> list[Seen]:
    """`n` offers sent over the last two hours to providers with the prior's odds, answered as a day of
    these shares and delays answers: each closes at its answer, or stays open / expires unanswered."""
    rng, out = random.Random(seed), []
    for _ in range(n):
        age = rng.uniform(1, 120)
        u, delay = rng.random(), median * math.exp(rng.gauss(0, 1.03))
        if u < answer and delay <= min(age, 30):
            out.append(Seen(PRIOR, delay, "accept" if u < accept else "decline"))
        else:
            out.append(Seen(PRIOR, min(age, 30), None))
    return out


def test_a_slow_morning_moves_everyones_odds_and_an_ordinary_one_does_not():
    slow = day_effect(morning(0.45, 0.70, 8.0, 120), prior_sd=POLICY.day_prior_sd)
    usual = day_effect(morning(0.60, 0.85, 4.0, 120), prior_sd=POLICY.day_prior_sd)
    assert math.exp(slow.delay) > 1.5 and slow.answer < 0  # later and fewer answers
    assert abs(usual.delay) <= 0.3 and abs(usual.answer) <= 0.6
    assert slow.apply(PRIOR).accept_within(15) < PRIOR.accept_within(15) - 0.1
    assert day_effect([], prior_sd=0.7) == DayEffect() and DayEffect().apply(PRIOR) == PRIOR


def test_a_few_offers_move_the_odds_a_little_and_silence_counts_before_any_offer_expires():
    few = day_effect(morning(0.45, 0.70, 8.0, 4), prior_sd=POLICY.day_prior_sd)
    many = day_effect(morning(0.45, 0.70, 8.0, 120), prior_sd=POLICY.day_prior_sd)
    assert few.apply(PRIOR).accept_within(15) > many.apply(PRIOR).accept_within(15)
    # twenty offers open for 12 minutes without a single answer: nobody has expired yet, yet the odds drop
    silent = day_effect([Seen(PRIOR, 12.0, None)] * 20, prior_sd=POLICY.day_prior_sd)
    assert silent.apply(PRIOR).accept_within(15) < PRIOR.accept_within(15) - 0.15


def test_a_slow_day_widens_the_next_wave():
    slow = day_effect(morning(0.45, 0.70, 8.0, 120), prior_sd=POLICY.day_prior_sd).apply(PRIOR)
    kw = dict(minutes_since_call=6, policy=POLICY)
    usual_wave = plan_wave([OpenOffer(PRIOR, 6)], [PRIOR] * 6, **kw)
    slow_wave = plan_wave([OpenOffer(slow, 6)], [slow] * 6, **kw)
    assert slow_wave.ask > usual_wave.ask


def test_a_new_provider_is_priced_from_its_peers():
    centre = Prior.of(POLICY)
    quiet = pooled(History(accepted=10, declined=10, silent=40, log_delays=(math.log(12),) * 20), centre,
                   POLICY.peer_weight)
    keen = pooled(History(accepted=50, declined=5, silent=0, log_delays=(math.log(1.5),) * 55), centre,
                  POLICY.peer_weight)
    assert odds(History(), POLICY, quiet).accept_within(10) < PRIOR.accept_within(10) - 0.1
    assert odds(History(), POLICY, keen).accept_within(10) > PRIOR.accept_within(10) + 0.1
    # its own record takes over as it grows
    own = History(accepted=60, log_delays=(0.0,) * 60)
    assert odds(own, POLICY, quiet).accept_within(5) > 0.75
    # peers: the same kind, city and sort of hours
    evening = {"mon": [["07:00", "22:00"]]}
    assert peer_key("facility", "suwon.jangan-gu", evening) == peer_key("facility", "suwon.paldal-gu", evening)
    assert peer_key("facility", "suwon.jangan-gu", evening) != peer_key("caregiver", "suwon.jangan-gu", evening)
    assert peer_key("facility", "suwon", evening) != peer_key("facility", "suwon", {"mon": [["09:00", "18:00"]]})


def test_waiting_is_bought_only_while_it_saves_offers():
    """Asking a second provider at once buys little when the first has just been asked (it may well
    accept within the next minute); after minutes of silence the same second offer buys much more."""
    fresh = plan_wave([], [PRIOR] * 6, minutes_since_call=0, policy=POLICY)
    assert fresh.ask == 1 and fresh.gains[0] == pytest.approx(PRIOR.accept_within(15))
    later = plan_wave([OpenOffer(PRIOR, 8)], [PRIOR] * 6, minutes_since_call=8, policy=POLICY)
    assert later.ask >= 1 and later.chance_before < fresh.chance_after
    quick = odds(History(accepted=20, log_delays=(0.0,) * 20), POLICY)  # answers within a minute, always yes
    assert plan_wave([OpenOffer(quick, 0.2)], [PRIOR] * 6, minutes_since_call=0.2, policy=POLICY).ask == 0
    urgent = plan_wave([], [PRIOR] * 6, minutes_since_call=0, policy=POLICY, minutes_to_start=40)
    assert urgent.ask >= 2  # no second chance before care begins
    everyone = plan_wave([], [PRIOR] * 9, minutes_since_call=0, policy=POLICY.model_copy(update={"ask_everyone": True}))
    assert everyone.ask == 9


def _past_request(s: Session, guardian: Guardian, ref: str, at, hours: float = 2) -> CareRequest:
    """A completed request of `guardian` from `at`: what past offers hang on."""
    past = CareRequest(ref=ref, guardian_id=guardian.id, status="completed", reason="other", start_at=at,
                       end_at=at + timedelta(hours=hours), address="-", lat=37.0, lon=127.0, consent_at=at,
                       consent_by="t", created_by="t", created_at=at, updated_at=at)
    s.add(past)
    s.flush()
    return past


def _today_offers(engine, at, n: int, *, answered: bool) -> None:
    """`n` offers of the last hour to the demo providers, none answered (or all answered after 2 min)."""
    with Session(engine) as s:
        g = Guardian(name="과거", phone="+821000000001", created_at=at)
        s.add(g)
        s.flush()
        past = _past_request(s, g, "T-PAST", at)
        ids = [p.id for p in s.exec(select(Provider))]
        for k in range(n):
            sent = at - timedelta(minutes=60 - 2 * k)
            s.add(Offer(request_id=past.id, provider_id=ids[k % len(ids)], created_at=sent,
                        expires_at=sent + timedelta(minutes=30), reply_code="H1",
                        status=OfferStatus.declined if answered else OfferStatus.expired,
                        answered_at=sent + timedelta(minutes=2) if answered else None,
                        answer_channel="sms" if answered else "system",
                        odds_accept=PRIOR.accept, odds_answer=PRIOR.answer, odds_mu=PRIOR.mu))
        s.commit()


@pytest.mark.twilio
def test_a_silent_morning_in_the_database_widens_the_first_wave(client, operator, demo, loop, engine, clock):
    _today_offers(engine, clock.now(), 25, answered=False)
    with Session(engine) as s:
        ids = [p.id for p in s.exec(select(Provider))]
        outlook = provider_odds(s, ids, now=clock.now(), policy=POLICY)
    assert outlook.effect.offers == 25
    assert outlook[ids[0]].accept_within(15) < outlook.base[ids[0]].accept_within(15) - 0.1
    res = client.post("/v1/requests", json=request_body(), headers=operator)
    ref = res.json()["ref"]
    asked = pending(offers_of(engine, ref))
    assert len(asked) >= 2  # an ordinary morning asks one first (test_waiting_is_bought_only_while_it_saves_offers)
    wave = next(e for e in events(engine, ref) if "차 제안" in e.reason)
    assert "오늘의 응답" in wave.detail["today"] and len(wave.detail["gains"]) == len(asked)
    # each offer keeps the odds it was sent with (before today's effect) and what it bought
    assert all(o.odds_accept is not None and o.chance_gain > 0 for o in asked)


@pytest.mark.twilio
def test_a_provider_quick_today_is_asked_first(client, operator, demo, loop, engine, clock):
    ids = only_providers(engine, "pt-f03", "pt-f05", "pt-c01", "pt-c02")
    base = client.post("/v1/requests", json=request_body(), headers=operator).json()["ref"]
    first = pending(offers_of(engine, base))[0].provider_id
    quick = next(i for i in ids if i != first)
    with Session(engine) as s:  # this morning it answered yes, within a minute, five times
        g = Guardian(name="과거", phone="+821000000002", created_at=clock.now())
        s.add(g)
        s.flush()
        at = clock.now() - timedelta(hours=3)
        for k in range(5):
            r = _past_request(s, g, f"T-Q{k}", at, hours=1)
            s.add(Offer(request_id=r.id, provider_id=quick, created_at=at, expires_at=at + timedelta(minutes=30),
                        status=OfferStatus.accepted, answered_at=at + timedelta(seconds=40), answer_channel="sms",
                        reply_code="H2"))
        s.commit()
    ref = client.post("/v1/requests", json=request_body(guardian={"name": "박하늘", "phone": "010-5550-4321",
                                                                  "language": "ko"}), headers=operator).json()["ref"]
    assert pending(offers_of(engine, ref))[0].provider_id == quick


@pytest.mark.twilio
@pytest.mark.offer_policy(ask_everyone=True)
def test_asking_everyone_offers_every_suitable_provider_at_once(client, operator, demo, loop, engine):
    """The bound the simulator measures the waves against is the service itself with one setting."""
    ids = only_providers(engine, "pt-f03", "pt-f05", "pt-c01", "pt-c02", "pt-c03")
    ref = client.post("/v1/requests", json=request_body(), headers=operator).json()["ref"]
    asked = pending(offers_of(engine, ref))
    assert sorted(o.provider_id for o in asked) == sorted(ids)
    assert all(o.chance_gain is not None for o in asked)


@pytest.mark.twilio
def test_a_new_facility_starts_from_what_facilities_like_it_did(client, operator, demo, loop, engine, clock):
    at = clock.now() - timedelta(days=3)  # last week: no day's effect, only records
    with Session(engine) as s:
        g = Guardian(name="과거", phone="+821000000003", created_at=at)
        s.add(g)
        s.flush()
        past = _past_request(s, g, "T-PEER", at)
        providers = s.exec(select(Provider)).all()
        quiet = [p for p in providers if p.code in ("pt-f03", "pt-f04", "pt-f06")]
        key = peer_key(quiet[0].kind, quiet[0].place_code, quiet[0].weekly_hours)
        new = next(p for p in providers if p not in quiet and peer_key(p.kind, p.place_code, p.weekly_hours) == key)
        other = next(p for p in providers if p.kind != quiet[0].kind)
        for k in range(60):  # its peers let offer after offer expire
            s.add(Offer(request_id=past.id, provider_id=quiet[k % 3].id, created_at=at, reply_code="H3",
                        expires_at=at + timedelta(minutes=30), status=OfferStatus.expired, answer_channel="system"))
        s.commit()
        outlook = provider_odds(s, [new.id, other.id], now=clock.now(), policy=POLICY)
    assert outlook.effect.offers == 0
    assert outlook.base[new.id].answer < outlook.base[other.id].answer - 0.1  # priced from its quiet peers



@pytest.mark.twilio
def test_a_provider_seen_only_today_is_not_counted_twice(client, operator, demo, loop, engine, clock):
    """Today's offers outweigh older ones, but one quick accept on a new centre's first morning is one
    offer's evidence, not two: a lucky answer does not make a provider look like the best in the city."""
    now, w = clock.now(), POLICY.prior_weight
    with Session(engine) as s:
        g = Guardian(name="과거", phone="+821000000004", created_at=now)
        s.add(g)
        s.flush()
        past = _past_request(s, g, "T-TODAY", now - timedelta(days=20), hours=24 * 21)
        groups: dict = {}
        for p in s.exec(select(Provider).order_by(Provider.id)):
            groups.setdefault(peer_key(p.kind, p.place_code, p.weekly_hours), []).append(p)
        blank, new, veteran = next(ps for ps in groups.values() if len(ps) >= 3)[:3]  # peers of one another

        def offer(provider, status, at):
            s.add(Offer(request_id=past.id, provider_id=provider.id, created_at=at, reply_code="H4",
                        expires_at=at + timedelta(minutes=30), status=status, answered_at=at + timedelta(minutes=1),
                        answer_channel="sms"))

        offer(new, OfferStatus.accepted, now - timedelta(minutes=30))
        for k in range(8):  # weeks of declines, then an accept today
            offer(veteran, OfferStatus.declined, now - timedelta(days=10 + k))
        offer(veteran, OfferStatus.accepted, now - timedelta(minutes=30))
        s.commit()
        base = provider_odds(s, [blank.id, new.id, veteran.id], now=now,
                             policy=POLICY.model_copy(update={"day_offers": 0})).base
    peers = base[blank.id].accept  # no record of its own: its peers' odds
    assert base[new.id].accept == pytest.approx((1 + w * peers) / (1 + w))
    # the veteran's accept today weighs more than one of its old declines, its nine offers still nine
    assert (1 + w * peers) / (9 + w) < base[veteran.id].accept < (2 + w * peers) / (9 + w)
