"""National scale (issue 23, acceptance 4): 30,000 providers — the order of the national 아이돌봄 service's
caregivers — and 5,000 open requests in one PostgreSQL database, spread over the province's 읍·면·동 by
population (`bench.simulator.dong_weights`; the whole country's carers in one province: four times the
density a real province would have, so every call has thousands of providers within reach). Of the open
requests 95 % are offered (one pending offer each, to the nearest provider that fits) and 5 % wait in
`matching` for the sweep. Measured:

1. the full solve: open requests read and solved together (the decision a sweep over all of them would
   take: a restart, or a board-wide re-plan), nothing written — 250, 500 and 1,000 of them (all 5,000 do
   not fit in memory at this density: see `FULL_SOLVE_SIZES`);
2. the sweep: the scheduler's job (`offers.sweep`) on the requests waiting, the others' pending offers
   holding their places — its parts (the problem read, the solve) and the whole job with its offers;
3. offer waves: 30 of them as the scheduler's tick runs them, for the cost of one;
4. (bench/load.py, against `dolbom serve`) the operator's board (`GET /console`, signed in): time to the
   first byte and to the last; and intake at a fixed arrival rate (open loop: the n-th call is sent at
   t0 + n/rate whether or not the earlier ones have been answered), p50 / p99 from the send and from the
   moment it was due, then the board again.

`python -m bench.load --national` runs it. Rows are bulk-inserted (executemany through SQLAlchemy's
insertmanyvalues: one round trip per thousand rows). The offered requests have no wave due (each would
otherwise be looked at again every `wave_seconds`, 60: 80 waves a second at this size — item 3 says what
one costs), and the sweep's texts are marked sent before the server starts, so the server's scheduler and
dispatcher do not spend the intake phase on the loaded backlog. Care windows fall on the next two weekdays
(facilities are closed at weekends), 08:00–20:00."""

from __future__ import annotations

import itertools
import queue
import random
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

SEOUL = ZoneInfo("Asia/Seoul")
UTC = ZoneInfo("UTC")
FULL_SOLVE_SIZES = (250, 500, 1000)  # open requests solved together, beyond the sweep's own
WAITING = 0.05  # of the open requests, the share waiting in `matching` for the sweep; the rest are offered
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FACILITY_SHARE = 0.15  # ~5,000 다함께돌봄·지역아동센터 among the country's carers; the rest visit homes
CHUNK = 1000


def weekdays_after(today: date, n: int = 2) -> list[date]:
    """The next `n` weekdays after `today` (care windows fall on them: facilities close at weekends)."""
    out, day = [], today
    while len(out) < n:
        day += timedelta(days=1)
        if day.weekday() < 5:
            out.append(day)
    return out


def _points(data_dir: Path):
    from bench.simulator import dong_weights

    return dong_weights(data_dir)


def code_of(i: int, facility: bool) -> str:
    """"nab-c042": the shape the console names providers by (two or three letters, a letter, 1–3 digits)."""
    block = i // 1000
    return f"n{chr(97 + block // 26 % 26)}{chr(97 + block % 26)}-{'f' if facility else 'c'}{i % 1000:03d}"


def provider_rows(n: int, seed: int, data_dir: Path, now: datetime) -> list[dict[str, Any]]:
    """`n` providers over the province's 동 by population: visiting caregivers (one household at a time,
    10–15 km, every day 07:00–22:00) and facilities (8–25 children, 4–8 km, weekdays 07:00–22:00 and
    Saturday 09:00–18:00); a third of each take infants, a tenth special needs."""
    rng = random.Random(seed)
    points, weights = _points(data_dir)
    picks = rng.choices(points, weights, k=n)
    every_day = {d: [["07:00", "22:00"]] for d in WEEK}
    weekdays = {d: [["07:00", "22:00"]] for d in WEEK[:5]} | {"sat": [["09:00", "18:00"]], "sun": []}
    rows = []
    for i, p in enumerate(picks):
        facility = rng.random() < FACILITY_SHARE
        infants = rng.random() < 0.33
        rows.append({
            "code": code_of(i, facility), "kind": "facility" if facility else "caregiver",
            "name": f"{p.dong} {'다함께돌봄센터' if facility else '아이돌보미'} {i}",
            "phone": f"+8210{6000 + i // 10000:04d}{i % 10000:04d}", "address": f"{p.sigungu} {p.dong} {i % 300 + 1}",
            "place_code": p.code, "lat": round(p.lat + rng.gauss(0, 0.006), 5),
            "lon": round(p.lon + rng.gauss(0, 0.0075), 5),
            "capacity": rng.randint(8, 25) if facility else rng.choice([1, 2, 3]),
            "min_age": 0 if infants else rng.choice([3, 6]), "max_age": 12,
            "skills": (["infant"] if infants else []) + (["special_needs"] if rng.random() < 0.1 else []),
            "languages": ["ko"] + (["en"] if rng.random() < 0.1 else []),
            "radius_km": rng.choice([4.0, 5.0, 6.0, 8.0]) if facility else rng.choice([10.0, 12.0, 15.0]),
            "weekly_hours": weekdays if facility else every_day, "closures": [], "active": True,
            "paused_until": None, "missed_offers": 0, "workspace_link_version": 0, "language": "ko",
            "created_at": now, "updated_at": now,
        })
    return rows


def call_body(i: int, rng: random.Random, points, weights, days: list[date], block: int) -> dict:
    """The i-th call of the intake phase: a 동 by population, a window of 2–8 hours on one of `days`
    between 08:00 and 20:00, 1–3 children aged 0–12."""
    p = rng.choices(points, weights)[0]
    day = rng.choice(days)
    start_h = rng.choice(range(8, 17))
    hours = min(rng.choice([2, 3, 4, 6, 8]), 20 - start_h)
    ages = [rng.choices(range(13), [2, 2, 3, 4, 5, 6, 9, 9, 9, 8, 7, 6, 5])[0] for _ in range(rng.choices([1, 2, 3], [0.7, 0.25, 0.05])[0])]
    return {"guardian": {"name": f"전국{i}", "phone": f"010-{block + i // 10000:04d}-{i % 10000:04d}"},
            "children": [{"first_name": f"아이{j + 1}", "birth_date": (day - timedelta(days=int(365.25 * a) + 100)).isoformat()}
                         for j, a in enumerate(ages)],
            "reason": "illness", "start_at": f"{day}T{start_h:02d}:00:00+09:00",
            "end_at": f"{day}T{start_h + hours:02d}:00:00+09:00",
            "location": {"address": f"{p.sigungu} {p.dong} {i % 300 + 1}", "place": p.code},
            "needs": ["infant"] if min(ages) < 2 else [], "consent": {"guardian_consent": True}}


def load(engine, *, providers: int, open_requests: int, seed: int, data_dir: Path, now: datetime,
         days: list[date], waiting: float = WAITING) -> dict:
    """Bulk-insert the providers and the open requests with their children and events, in chunks: a share
    `waiting` in `matching` (the sweep's), the others `offered` with one pending offer each, to the
    nearest provider whose radius, ages and skills fit (its answer awaited for an hour; no wave due, see
    `prepare`). Returns the seconds each part took."""
    from sqlalchemy import insert, select, update

    from hotline.models import CareRequest, Child, Guardian, Offer, Provider, RequestEvent

    out: dict[str, float] = {}
    t = time.perf_counter()
    rows = provider_rows(providers, seed, data_dir, now)
    with engine.begin() as conn:
        for k in range(0, len(rows), CHUNK):
            conn.execute(insert(Provider.__table__), rows[k:k + CHUNK])
    out["providers_s"] = round(time.perf_counter() - t, 2)

    t = time.perf_counter()
    rng = random.Random(seed + 1)
    points, weights = _points(data_dir)
    bodies = [call_body(i, rng, points, weights, days, 7000) for i in range(open_requests)]
    waits = set(rng.sample(range(open_requests), round(open_requests * waiting)))
    with engine.begin() as conn:
        guardians = [{"name": b["guardian"]["name"], "language": "ko", "created_at": now,
                      "phone": "+82" + b["guardian"]["phone"].replace("-", "")[1:]} for b in bodies]
        for k in range(0, len(guardians), CHUNK):
            conn.execute(insert(Guardian.__table__), guardians[k:k + CHUNK])
        gid = dict(conn.execute(select(Guardian.id, Guardian.phone)).all())
        by_phone = {phone: i for i, phone in gid.items()}
        places = {p.code: p for p in points}
        requests = []
        for i, b in enumerate(bodies):
            p = places[b["location"]["place"]]
            requests.append({
                "ref": f"RN{i:06d}", "guardian_id": by_phone[guardians[i]["phone"]],
                "status": "matching" if i in waits else "offered",
                "reason": "illness", "notes": "", "start_at": datetime.fromisoformat(b["start_at"]).astimezone(UTC),
                "end_at": datetime.fromisoformat(b["end_at"]).astimezone(UTC), "address": b["location"]["address"],
                "place_code": p.code, "city_ko": p.city, "lat": p.lat, "lon": p.lon, "location_precision": "dong",
                "needs": b["needs"], "language": "ko", "consent_at": now, "consent_by": "operator",
                "health_consent": False, "health_notes": None, "idempotency_key": None, "payload_hash": None,
                "offer_rounds": 0 if i in waits else 1, "next_wave_at": None, "needs_attention": False, "attention_reason": None,
                "survey_score": None, "reminded_at": None, "survey_sent_at": None, "purged_at": None,
                "fell_through_at": None, "no_show_at": None, "created_by": "operator", "created_at": now,
                "updated_at": now})
        for k in range(0, len(requests), CHUNK):
            conn.execute(insert(CareRequest.__table__), requests[k:k + CHUNK])
        rid = {ref: i for i, ref in conn.execute(select(CareRequest.id, CareRequest.ref)
                                                  .where(CareRequest.ref.like("RN%"))).all()}
        children, events, offers = [], [], []
        nearest = _nearest(rows, conn)
        for i, b in enumerate(bodies):
            r = rid[f"RN{i:06d}"]
            children += [{"request_id": r, "first_name": c["first_name"], "birth_date": date.fromisoformat(c["birth_date"])}
                         for c in b["children"]]
            events += [{"request_id": r, "at": now, "actor": "operator", "from_status": None, "to_status": "received",
                        "reason": "상담 접수", "detail": {"children": len(b["children"])}},
                       {"request_id": r, "at": now, "actor": "system", "from_status": "received",
                        "to_status": "matching", "reason": "매칭 시작", "detail": {}}]
            if i in waits:
                continue
            found = nearest(requests[i], b)
            if found is None:  # nobody near fits: it waits with the others
                conn.execute(update(CareRequest.__table__).where(CareRequest.id == r)
                             .values(status="matching", offer_rounds=0))
                continue
            provider_id, km = found
            events.append({"request_id": r, "at": now, "actor": "system", "from_status": "matching",
                           "to_status": "offered", "reason": "1차 제안: 1곳", "detail": {}})
            offers.append({"request_id": r, "provider_id": provider_id, "round": 1, "status": "pending",
                           "distance_km": round(km, 2), "rank": 1, "created_at": now,
                           "expires_at": now + timedelta(hours=1), "answered_at": None, "answer_channel": None,
                           "reply_code": "N1", "odds_accept": None, "odds_answer": None, "odds_mu": None,
                           "chance_gain": None})
        for table, items in ((Child, children), (RequestEvent, events), (Offer, offers)):
            for k in range(0, len(items), CHUNK):
                conn.execute(insert(table.__table__), items[k:k + CHUNK])
    out["open_requests_s"] = round(time.perf_counter() - t, 2)
    out["pending_offers"] = len(offers)
    # fresh statistics and visibility map (index-only scans), as autovacuum gives a live database
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    return out


def _nearest(rows: list[dict], conn):
    """For a request row and its body: the nearest provider whose radius reaches it and whose ages and
    skills fit (by id), and the km; None if none does."""
    import numpy as np

    from sqlalchemy import select

    from hotline.models import Provider
    from matching import haversine_km

    ids = dict(conn.execute(select(Provider.code, Provider.id)).all())
    pid = np.array([ids[r["code"]] for r in rows])
    lat, lon = np.array([r["lat"] for r in rows]), np.array([r["lon"] for r in rows])
    radius = np.array([r["radius_km"] for r in rows])
    min_age = np.array([r["min_age"] for r in rows])
    infant = np.array(["infant" in r["skills"] for r in rows])

    def nearest(request: dict, body: dict):
        youngest = min(date.fromisoformat(body["end_at"][:10]).year - date.fromisoformat(c["birth_date"]).year
                       for c in body["children"])
        km = haversine_km(request["lat"], request["lon"], lat, lon)
        ok = (km <= radius) & (min_age <= max(youngest - 1, 0)) & (infant | (not body["needs"]))
        if not ok.any():
            return None
        j = int(np.flatnonzero(ok)[np.argmin(km[ok])])
        return int(pid[j]), float(km[j])

    return nearest


def full_solve(engine, ctx, now: datetime, limit: int | None = None) -> dict:
    """The decision of a sweep over every open request at once (a restart, or a board-wide re-plan), or
    over the first `limit` by start: the problem read and solved, nothing written."""
    from sqlmodel import Session, col, select

    import matching
    from hotline.models import CareRequest
    from hotline.offers.adapter import build_problem

    with Session(engine) as s:
        open_ = list(s.exec(select(CareRequest).where(col(CareRequest.status).in_(["matching", "offered"]))
                            .order_by(col(CareRequest.start_at)).limit(limit)))
        t = time.perf_counter()
        problem = build_problem(s, open_, now=now, settings=ctx.settings)
        read_s = time.perf_counter() - t
        t = time.perf_counter()
        plan = matching.solve(problem, time_limit_s=ctx.settings.solver_time_limit_s)
        solve_s = time.perf_counter() - t
        s.rollback()
    return {"requests": len(open_), "providers": len(problem.providers), "read_problem_s": round(read_s, 2),
            "solve_s": round(solve_s, 2), "total_s": round(read_s + solve_s, 2), "solver_status": plan.status,
            "placed": len(plan.assignments)}


def timed_waves(engine, ctx, n: int) -> dict:
    """`n` offer waves as the scheduler's tick runs them (each its own transaction) on offered requests:
    the cost of one wave, and so how many a second one core could keep up with."""
    from sqlalchemy import update
    from sqlmodel import Session, select

    from hotline import offers
    from hotline.core.db import unit_of_work
    from hotline.models import CareRequest

    now = datetime.now(UTC)
    with Session(engine) as s:
        ids = list(s.exec(select(CareRequest.id).where(CareRequest.status == "offered")
                          .order_by(CareRequest.id).limit(n)))
    with engine.begin() as conn:
        conn.execute(update(CareRequest.__table__).where(CareRequest.id.in_(ids)).values(next_wave_at=now))
    times = []
    for request_id in ids:
        t = time.perf_counter()
        with unit_of_work(engine) as s:
            offers.run_wave(s, request_id, now=now, ctx=ctx)
        times.append(time.perf_counter() - t)
    with engine.begin() as conn:  # none due while intake is measured (see `prepare`)
        conn.execute(update(CareRequest.__table__).where(CareRequest.id.in_(ids)).values(next_wave_at=None))
    return {"n": len(times), "median_ms": round(statistics.median(times) * 1000, 1),
            "max_ms": round(max(times) * 1000, 1), "waves_per_s_one_core": round(1 / statistics.median(times), 1)}


def timed_sweep(engine, ctx, now: datetime) -> dict:
    """One run of the scheduler's sweep, with its parts: reading the problem, the solve (both measured
    on their own first, in a transaction rolled back), then the whole job as the scheduler runs it."""
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    import matching
    from hotline import offers
    from hotline.core.db import unit_of_work
    from hotline.models import CareRequest, Offer, OfferStatus
    from hotline.offers.adapter import build_problem

    with Session(engine) as s:
        waiting = list(s.exec(select(CareRequest).where(CareRequest.status == "matching")
                              .order_by(col(CareRequest.start_at))))
        t = time.perf_counter()
        problem = build_problem(s, waiting, now=now, settings=ctx.settings)
        read_s = time.perf_counter() - t
        t = time.perf_counter()
        plan = matching.solve(problem, time_limit_s=ctx.settings.solver_time_limit_s) if waiting else None
        solve_s = time.perf_counter() - t
        s.rollback()
    with Session(engine) as s:
        pending_before = len(s.exec(select(Offer.id).where(Offer.status == OfferStatus.pending)).all())
    t = time.perf_counter()
    with unit_of_work(engine) as s:
        offers.sweep(s, now=now, ctx=ctx)
    total_s = time.perf_counter() - t
    with Session(engine) as s:
        statuses = dict(s.exec(select(CareRequest.status, func.count()).group_by(CareRequest.status)).all())
        pending = len(s.exec(select(Offer.id).where(Offer.status == OfferStatus.pending)).all())
    return {"waiting": len(waiting), "read_problem_s": round(read_s, 2), "solve_s": round(solve_s, 2),
            "solver_status": plan.status if plan else None,
            "placed_by_solver": len(plan.assignments) if plan else 0, "sweep_s": round(total_s, 2),
            "offers_made": pending - pending_before, "statuses_after": statuses}


def mark_texts_sent(engine, now: datetime) -> int:
    """The sweeps' texts, as if sent while they ran (see the module's docstring)."""
    from sqlalchemy import update

    from hotline.models import OutboxMessage

    with engine.begin() as conn:
        return conn.execute(update(OutboxMessage.__table__).where(OutboxMessage.status == "pending")
                            .values(status="sent", sent_at=now, attempts=1)).rowcount


def board_times(base: str, client_factory, n: int = 5) -> dict:
    """`GET /console` signed in as the demo operator: seconds to the first byte and to the last, n times."""
    first, full, size = [], [], 0
    with client_factory() as http:
        res = http.post(f"{base}/console/login", data={"username": "operator", "password": "dolbom-demo-1234"},
                        follow_redirects=False)
        if res.status_code != 303:
            raise SystemExit(f"console login answered {res.status_code}")
        for _ in range(n):
            t = time.perf_counter()
            with http.stream("GET", f"{base}/console") as res:
                chunks = res.iter_bytes()
                head = next(chunks, b"")
                first.append(time.perf_counter() - t)
                size = len(head) + sum(len(c) for c in chunks)
            full.append(time.perf_counter() - t)
            if res.status_code != 200:
                raise SystemExit(f"board answered {res.status_code}")
    return {"n": n, "first_byte_s": [round(x, 3) for x in first], "complete_s": [round(x, 3) for x in full],
            "median_complete_s": round(statistics.median(full), 3), "bytes": size}


def open_loop(send, rate: float, seconds: float, threads: int = 48) -> dict:
    """`send(http, k)` at t0 + k/rate for k < rate·seconds (see `open_loop_at`)."""
    return {**open_loop_at(send, [k / rate for k in range(int(rate * seconds))], threads), "rate_per_s": rate}


def open_loop_at(send, offsets: list[float], threads: int = 48) -> dict:
    """`send(http, k)` at t0 + offsets[k], each from a pool thread whatever the earlier ones are doing;
    latency from the send, and from the moment it was due (a queue in the client shows)."""
    from bench.load import client, pct

    n = len(offsets)
    local = threading.local()
    # every thread's client made before the clock starts: each costs ~20 ms of CPU (its TLS context) under
    # the GIL, and 48 of them made as the first calls went out added 1.5-2.3 s to those calls' latency
    made = [client() for _ in range(min(threads, n))]
    spare = queue.SimpleQueue()
    for http in made:
        spare.put(http)
    t0 = time.perf_counter() + 0.5

    def one(k: int) -> tuple[float, float, int]:
        if not hasattr(local, "http"):
            local.http = spare.get()
        due = t0 + offsets[k]
        time.sleep(max(0.0, due - time.perf_counter()))
        sent = time.perf_counter()
        status = send(local.http, k)
        done = time.perf_counter()
        return done - sent, done - due, status

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(one, range(n)))
    for http in made:
        http.close()
    wall = time.perf_counter() - t0
    lat = [r[0] for r in results]
    late = [r[1] for r in results]
    bad = [r[2] for r in results if r[2] != 201]
    slowest = sorted(range(n), key=lambda k: lat[k], reverse=True)[:max(n // 100, 5)]
    return {"n": n, "wall_s": round(wall, 1), "errors": len(bad),
            "p50_ms": round(pct(lat, 50) * 1000, 1), "p90_ms": round(pct(lat, 90) * 1000, 1),
            "p99_ms": round(pct(lat, 99) * 1000, 1),
            "max_ms": round(max(lat) * 1000, 1), "from_due_p50_ms": round(pct(late, 50) * 1000, 1),
            "from_due_p99_ms": round(pct(late, 99) * 1000, 1),
            # when the slowest 1 % were sent (seconds into the phase) and how long they took: a tail that
            # bunches at one moment is a stall (another process, a job), one spread out is the queue
            "slowest": [[round(offsets[k], 1), round(lat[k] * 1000)] for k in sorted(slowest)]}


def intake_sender(base: str, token: str, days: list[date], data_dir: Path, seed: int):
    """`send(http, k)`: the next call of the intake phase (numbered across phases: a guardian each)."""
    points, weights = _points(data_dir)
    lock = threading.Lock()
    rng = random.Random(seed + 2)
    numbers = itertools.count()

    def send(http: httpx.Client, k: int) -> int:
        with lock:
            body = call_body(next(numbers), rng, points, weights, days, 8000)
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
        for attempt in (1, 2):
            try:
                res = http.post(f"{base}/v1/requests", json=body, headers=headers)
                break
            except httpx.TransportError as exc:
                # a kept-alive connection the server closed as it was reused (uvicorn drops idle ones after
                # 5 s, about how long each client thread waits between calls at 10 a second): sent again
                # with the same Idempotency-Key, as a client would; the latency includes both attempts
                retried.append(type(exc).__name__)
                if attempt == 2:
                    refused.append(f"{type(exc).__name__}: {exc}"[:300])
                    return 0
        if res.status_code != 201 and len(refused) < 5:
            refused.append(f"{res.status_code}: {res.text[:300]}")
        return res.status_code

    send.refused = refused = []  # the first few refusals, for the report
    send.retried = retried = []  # calls sent again after a connection reset

    return send


def prepare(url: str, *, providers: int, open_requests: int, seed: int, data_dir: Path, secret: str,
            public_url: str) -> dict:
    """Before the server starts: migrate, load, and time the full solves, the sweep and the waves."""
    from hotline.core.config import Settings
    from hotline.core.db import make_engine, migrate
    from hotline.offers.loop import OfferContext
    from hotline.places.geo import load_places

    engine = make_engine(url)
    migrate(engine)
    now = datetime.now(UTC)
    days = weekdays_after(now.astimezone(SEOUL).date())
    out: dict = {"providers": providers, "open_requests": open_requests, "days": [d.isoformat() for d in days]}
    out["load"] = load(engine, providers=providers, open_requests=open_requests, seed=seed, data_dir=data_dir,
                       now=now, days=days)
    settings = Settings(environment="development", database_url=url, secret_key=secret, public_url=public_url,
                        data_dir=data_dir)
    ctx = OfferContext(settings=settings, places=load_places(data_dir))
    # all 5,000 at once does not fit: with thousands of providers within reach of each call the candidate
    # pairs run to 15 million (10 GB and more than five minutes before it was stopped); the growth, measured
    out["full_solve"] = [full_solve(engine, ctx, datetime.now(UTC), limit=n) for n in FULL_SOLVE_SIZES
                         if n < open_requests] + ([full_solve(engine, ctx, datetime.now(UTC))]
                                                  if open_requests <= max(FULL_SOLVE_SIZES) else [])
    out["sweep"] = timed_sweep(engine, ctx, datetime.now(UTC))
    out["waves"] = timed_waves(engine, ctx, 30)
    out["texts_marked_sent"] = mark_texts_sent(engine, datetime.now(UTC))
    engine.dispose()
    return out
