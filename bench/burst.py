"""Burst benchmark (issue 9, "hold up under bursts"): N simultaneous signed SMS replies and offer-link POSTs,
all accepting, against the real server (`dolbom serve --workers W`) on SQLite or PostgreSQL, with SMS going
through the real twilio client to a local fake of Twilio's REST API (tests/fake_twilio.py).

    .venv/bin/python -m bench.burst                                   # SQLite, workers 1 and 4, bursts 40/100/200
    .venv/bin/python -m bench.burst --database postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        --json docs/bench/burst.json                                  # both databases

Each combination starts a fresh server on a fresh database (the development environment seeds the 28 demo
providers), takes open care requests through the intake API until there are enough pending offers, lowers
the capacity of a few providers below the places their pending offers hold (an operator's edit: their
accepts now race for the room left), waits until the offer SMS are out, then fires the burst at once
(threading.Barrier): for each pending offer an accept by SMS ("1 A7", signed like Twilio) or by the signed
link (POST /o/<token>, action=accept), and for a share of them the other channel too (the same offer
accepted twice at once). Accepts for the offers of one request race for that request; accepts for a
squeezed provider race for its capacity. Then the four checks:

- server errors: 5xx answers, connection errors and timeouts (and tracebacks in the server's log);
- lost inbound: every SMS posted has its InboundMessage row (and was handled);
- capacity: for every provider and moment, confirmed placements fit its capacity (children at once for a
  facility; one household at a time, within capacity, for a caregiver);
- confirmation SMS: for each placement, the parent's confirmation and the provider's details reach the fake
  Twilio; seconds from the placement (Assignment.created_at, the server's clock when it began the accept:
  an upper bound) to the fake taking the message, at most 30 s.

It reads the wall clock (it measures), creates databases of its own and drops them at the end."""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from bench.load import body as load_body

SEOUL = ZoneInfo("Asia/Seoul")
SECRET = "burst-secret-" + "0" * 40
PASSWORD = "dolbom-demo-1234"  # the development seed's demo operator and admin
CONFIRMATION_KINDS = ("confirmation", "offer_details")  # to the parent, to the provider
CONFIRM_LIMIT_S = 30.0
REPO = Path(__file__).resolve().parents[1]


def fake_twilio():
    """tests/fake_twilio.py's FakeTwilio (it runs standalone); `burst` sets its clock."""
    tests = str(REPO / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from fake_twilio import FakeTwilio

    return FakeTwilio()


def client(**kw) -> httpx.Client:
    nodelay = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    return httpx.Client(timeout=kw.pop("timeout", 120), transport=nodelay, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_url: str, port: int, twilio, secret: str = SECRET) -> dict[str, str]:
    return {**os.environ, "DOLBOM_ENVIRONMENT": "development", "DOLBOM_DATABASE_URL": database_url,
            "DOLBOM_SECRET_KEY": secret, "DOLBOM_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "DOLBOM_SMS_BACKEND": "twilio", "DOLBOM_TWILIO_ACCOUNT_SID": twilio.account_sid,
            "DOLBOM_TWILIO_AUTH_TOKEN": twilio.auth_token, "DOLBOM_TWILIO_BASE_URL": twilio.base_url,
            "DOLBOM_TWILIO_FROM_NUMBER": "+15005550006", "PYTHONPATH": str(REPO)}


class Server:
    """`python -m api.cli serve --workers W` in a subprocess; its log kept (read continuously)."""

    def __init__(self, env: dict[str, str], port: int, workers: int, cwd: str):
        self.base = f"http://127.0.0.1:{port}"
        self.log: list[str] = []
        self.proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--workers", str(workers),
                                      "--port", str(port)], env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str | None] = queue.Queue()

        def read() -> None:
            for line in self.proc.stderr:
                self.log.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        started = 0
        while started < workers:  # each worker says so once its app (and lifespan) is up
            line = lines.get(timeout=120)
            if line is None:
                raise RuntimeError("dolbom serve exited:\n" + "".join(self.log[-40:]))
            started += "Application startup complete" in line

    def errors_logged(self) -> list[str]:
        return [line for line in self.log if "Traceback" in line or " ERROR " in line]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def read_engine(database_url: str):
    """An engine for looking on while the server works: on SQLite without hotline.core.db's BEGIN IMMEDIATE (a
    reader must not take the write lock)."""
    from sqlmodel import create_engine

    if database_url.startswith("sqlite"):
        return create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})
    return create_engine(database_url, pool_pre_ping=True)


def token(http: httpx.Client, base: str, username: str) -> dict[str, str]:
    res = http.post(f"{base}/v1/auth/token", data={"username": username, "password": PASSWORD})
    res.raise_for_status()
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


# --- preparing: open requests with pending offers, a few providers squeezed -----------------------------

@dataclass
class PendingOffer:
    id: int
    request_id: int
    provider_id: int
    phone: str
    code: str
    expires_at: datetime


def pending_offers(engine) -> list[PendingOffer]:
    from sqlmodel import Session, select

    from hotline.models import Offer, OfferStatus, Provider

    with Session(engine) as s:
        rows = s.exec(select(Offer, Provider).join(Provider, Provider.id == Offer.provider_id)
                      .where(Offer.status == OfferStatus.pending).order_by(Offer.id)).all()
        return [PendingOffer(o.id, o.request_id, p.id, p.phone, o.reply_code, o.expires_at) for o, p in rows]


def open_requests(base: str, engine, offers_wanted: int, *, clients: int = 3, most: int = 400) -> dict:
    """Intakes (a few at a time) until `offers_wanted` offers are pending: on the next three weekdays,
    09:00-13:00, in six places, so that many requests overlap at the same providers."""
    days, day = [], datetime.now(SEOUL).date()
    while len(days) < 3:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    with client() as http:
        headers = token(http, base, "operator")
    made, taken = [0], [0]
    lock = threading.Lock()
    errors: list[str] = []
    t0 = time.perf_counter()

    def work() -> None:
        with client() as http:
            while True:
                with lock:
                    if made[0] >= most or errors:
                        return
                    made[0] += 1
                    i = made[0]
                res = http.post(f"{base}/v1/requests", json=load_body(i, days[i % len(days)], "폭주시험", 5700),
                                headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
                if res.status_code != 201:
                    errors.append(f"intake answered {res.status_code}: {res.text[:300]}")
                    return
                with lock:
                    taken[0] += 1
                if i % 10 == 0 and len(pending_offers(engine)) >= offers_wanted:
                    with lock:
                        made[0] = most  # enough: the others stop at their next turn
                    return

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(errors[0])
    return {"requests": taken[0], "seconds": round(time.perf_counter() - t0, 1),
            "pending_offers": len(pending_offers(engine))}


def peak_load(windows: list[tuple[datetime, datetime, int]]) -> int:
    """The most children at once over (start, end, children) windows."""
    points = sorted([(s, c) for s, _, c in windows] + [(e, -c) for _, e, c in windows], key=lambda p: (p[0], p[1]))
    peak = load = 0
    for _, delta in points:
        load += delta
        peak = max(peak, load)
    return peak


def squeeze(base: str, engine, providers: int) -> list[dict]:
    """Lower the capacity of the `providers` facilities whose pending offers overlap most to a quarter of
    the children those offers hold at once (an admin's PATCH): their accepts then race for the room left."""
    from sqlalchemy import func
    from sqlmodel import Session, select

    from hotline.models import CareRequest, Child, Offer, OfferStatus, Provider

    with Session(engine) as s:
        rows = s.exec(select(Offer, CareRequest, Provider).join(CareRequest, CareRequest.id == Offer.request_id)
                      .join(Provider, Provider.id == Offer.provider_id)
                      .where(Offer.status == OfferStatus.pending, Provider.kind == "facility")).all()
        kids = dict(s.exec(select(Child.request_id, func.count()).group_by(Child.request_id)).all())
    by_provider: dict[int, tuple[Provider, list]] = {}
    for offer, care, provider in rows:
        by_provider.setdefault(provider.id, (provider, []))[1].append((care.start_at, care.end_at, kids.get(care.id, 1)))
    peaks = sorted(((peak_load(w), p) for p, w in by_provider.values()), key=lambda x: (-x[0], x[1].code))
    squeezed = []
    with client() as http:
        headers = token(http, base, "admin")
        for peak, provider in peaks[:providers]:
            if peak < 2:
                break
            capacity = max(1, peak // 4)
            res = http.patch(f"{base}/v1/providers/{provider.id}", json={"capacity": capacity}, headers=headers)
            res.raise_for_status()
            squeezed.append({"provider": provider.code, "pending_peak": peak, "capacity": capacity,
                             "was": provider.capacity})
    return squeezed


def unsent(engine) -> int:
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from hotline.models import OutboxMessage, OutboxStatus

    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(OutboxMessage)
                      .where(col(OutboxMessage.status).in_([OutboxStatus.pending, OutboxStatus.sending]))).one()


def drain(engine, timeout: float = 180) -> float:
    """Wait (polling) until the outbox has nothing left to send; the seconds it took."""
    t0 = time.monotonic()
    while unsent(engine):
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"outbox not drained in {timeout:.0f} s: {unsent(engine)} left")
        time.sleep(0.2)
    return round(time.monotonic() - t0, 1)


# --- the burst -----------------------------------------------------------------------------------------

@dataclass
class Shot:
    channel: str  # sms | link
    offer_id: int
    request_id: int
    provider_id: int
    url: str
    data: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)
    sid: str | None = None
    status: int | None = None
    error: str | None = None
    seconds: float | None = None


def plan(base: str, offers: list[PendingOffer], size: int, twilio, secret: str, *, seed: int = 9) -> list[Shot]:
    """`size` accepts: one per pending offer, alternately by SMS and by link (offers beyond `size` minus a
    fifth are left alone), the rest the other channel for the same offers (or a second SMS), shuffled."""
    from fake_twilio import sign as twilio_sign

    from hotline.core.links import sign

    rng = random.Random(seed)
    offers = list(offers)
    rng.shuffle(offers)
    singles = offers[:max(1, min(len(offers), size - size // 5))]
    sms_url = f"{base}/v1/webhooks/twilio/sms"

    def sms(o: PendingOffer) -> Shot:
        payload = twilio.inbound_payload(o.phone, f"1 {o.code}")
        return Shot("sms", o.id, o.request_id, o.provider_id, sms_url, payload,
                    {"X-Twilio-Signature": twilio_sign(sms_url, payload, twilio.auth_token)}, payload["MessageSid"])

    def link(o: PendingOffer) -> Shot:
        return Shot("link", o.id, o.request_id, o.provider_id, f"{base}/o/{sign(secret, 'offer', o.id, o.expires_at)}",
                    {"action": "accept"})

    shots = [(sms if i % 2 else link)(o) for i, o in enumerate(singles)]
    i = 0
    while len(shots) < size:
        o = singles[i % len(singles)]
        # the other channel on the first pass; then a provider texting twice
        shots.append((link if i % 2 and i < len(singles) else sms)(o))
        i += 1
    rng.shuffle(shots)
    return shots


def fire(shots: list[Shot], *, timeout: float = 120) -> float:
    """All at once: each shot its own thread and connection, released together by a barrier. Seconds from
    the release to the last answer."""
    barrier = threading.Barrier(len(shots) + 1)

    def go(shot: Shot) -> None:
        with client(timeout=timeout) as http:
            barrier.wait()
            t = time.perf_counter()
            try:
                res = http.post(shot.url, data=shot.data, headers=shot.headers)
                shot.status = res.status_code
            except httpx.HTTPError as exc:
                shot.error = f"{type(exc).__name__}: {exc}"[:200]
            shot.seconds = time.perf_counter() - t

    threads = [threading.Thread(target=go, args=(s,)) for s in shots]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


# --- the checks ----------------------------------------------------------------------------------------

def placed_peaks(engine, codes: list[str]) -> dict[str, int]:
    """The most children placed at once with each of these providers (the squeezed ones)."""
    from sqlmodel import Session, col, select

    from hotline.models import Assignment, Provider

    with Session(engine) as s:
        rows = s.exec(select(Assignment, Provider.code).join(Provider, Provider.id == Assignment.provider_id)
                      .where(Assignment.active == True, col(Provider.code).in_(codes))).all()  # noqa: E712
    return {code: peak_load([(a.start_at, a.end_at, a.children) for a, c in rows if c == code]) for code in codes}


def capacity_breaches(engine) -> list[str]:
    """Active placements beyond a provider's capacity: children at once for a facility; for a caregiver,
    more children than its capacity in one household or two households at once."""
    from sqlmodel import Session, select

    from hotline.models import Assignment, Provider

    with Session(engine) as s:
        rows = s.exec(select(Assignment, Provider).join(Provider, Provider.id == Assignment.provider_id)
                      .where(Assignment.active == True)).all()  # noqa: E712
    by_provider: dict[int, tuple[Provider, list[Assignment]]] = {}
    for a, p in rows:
        by_provider.setdefault(p.id, (p, []))[1].append(a)
    breaches = []
    for provider, placed in by_provider.values():
        if provider.kind == "facility":
            peak = peak_load([(a.start_at, a.end_at, a.children) for a in placed])
            if peak > provider.capacity:
                breaches.append(f"{provider.code}: {peak} children at once, capacity {provider.capacity}")
            continue
        for a in placed:
            if a.children > provider.capacity:
                breaches.append(f"{provider.code}: {a.children} children in one household, capacity {provider.capacity}")
        ordered = sorted(placed, key=lambda a: a.start_at)
        for a, b in zip(ordered, ordered[1:]):
            if b.start_at < a.end_at:
                breaches.append(f"{provider.code}: two households at once ({a.request_id}, {b.request_id})")
    return breaches


def confirmations(engine, twilio, *, timeout: float) -> dict:
    """Wait (polling) until every placement's confirmation SMS have reached the fake Twilio, or `timeout`;
    then the seconds from each placement to each of its messages being taken."""
    from sqlmodel import Session, col, select

    from hotline.models import Assignment, OutboxMessage

    t0 = time.monotonic()
    deadline = t0 + timeout
    while True:
        with Session(engine) as s:
            placed = {a.request_id: a.created_at for a in s.exec(select(Assignment))}
            rows = s.exec(select(OutboxMessage).where(col(OutboxMessage.kind).in_(CONFIRMATION_KINDS))).all()
        taken = {m.sid: m.date_created for m in list(twilio.messages)}
        seen = {(r.request_id, r.kind): taken[r.sid] for r in rows if r.sid in taken}
        missing = [(rid, kind) for rid in placed for kind in CONFIRMATION_KINDS if (rid, kind) not in seen]
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    lags = [(seen[(rid, kind)] - at).total_seconds() for rid, at in placed.items() for kind in CONFIRMATION_KINDS
            if (rid, kind) in seen]
    out = {"placements": len(placed), "sms_expected": 2 * len(placed), "sms_sent": len(lags),
           "sms_missing": len(missing), "max_s": round(max(lags), 2) if lags else None,
           "p50_s": round(statistics.median(lags), 2) if lags else None,
           "waited_s": round(time.monotonic() - t0, 1)}
    out["within_limit"] = not missing and (not lags or max(lags) <= CONFIRM_LIMIT_S)
    return out


def inbound_check(engine, shots: list[Shot]) -> dict:
    from sqlmodel import Session, col, select

    from hotline.models import InboundMessage

    sids = [s.sid for s in shots if s.channel == "sms"]
    with Session(engine) as s:
        rows = {m.sid: m.handled_as for m in s.exec(select(InboundMessage).where(col(InboundMessage.sid).in_(sids)))}
    handled: dict[str, int] = {}
    for how in rows.values():
        handled[how or "(unhandled)"] = handled.get(how or "(unhandled)", 0) + 1
    return {"sms_posted": len(sids), "stored": len(rows), "lost": len(set(sids) - set(rows)),
            "unhandled": sum(1 for how in rows.values() if not how), "handled_as": dict(sorted(handled.items()))}


def burst(base: str, database_url: str, twilio, size: int, *, offers: int | None = None, secret: str = SECRET,
          squeeze_providers: int = 4, confirm_timeout: float = 60, log: list[str] | None = None) -> dict:
    """Prepare (`offers` pending offers; default four fifths of `size`), fire `size` accepts at once and
    check; a report (dict) with `ok` and the figures. `log`: the server's log lines, scanned for errors.
    The fake Twilio is put on the wall clock: the server runs on it, and confirmation delays are measured
    from the server's placement time to the fake's stamp."""
    twilio.clock = lambda: datetime.now(timezone.utc)
    engine = read_engine(database_url)
    wanted = offers or size - size // 5
    try:
        prepared = open_requests(base, engine, offers_wanted=wanted)
        prepared["squeezed"] = squeeze(base, engine, squeeze_providers)
        prepared["drain_s"] = drain(engine)
        shots = plan(base, pending_offers(engine)[:wanted], size, twilio, secret)
        log_from = len(log) if log is not None else 0
        seconds = fire(shots)
        answers: dict[str, int] = {}
        for s in shots:
            key = f"{s.channel} {s.status if s.status is not None else 'error'}"
            answers[key] = answers.get(key, 0) + 1
        server_errors = [s for s in shots if s.error or (s.status or 0) >= 500]
        unexpected = [s for s in shots if s.status is not None and s.status < 500
                      and not (s.status == 200 or (s.channel == "link" and s.status == 409))]
        confirmed = confirmations(engine, twilio, timeout=confirm_timeout)
        inbound = inbound_check(engine, shots)
        breaches = capacity_breaches(engine)
        peaks = placed_peaks(engine, [q["provider"] for q in prepared["squeezed"]])
        for q in prepared["squeezed"]:
            q["placed_peak"] = peaks[q["provider"]]
        logged = [line.rstrip() for line in (log or [])[log_from:] if "Traceback" in line or " ERROR " in line]
        latencies = sorted(s.seconds for s in shots if s.seconds is not None)
        per_offer: dict[int, int] = {}
        per_request: dict[int, int] = {}
        for s in shots:
            per_offer[s.offer_id] = per_offer.get(s.offer_id, 0) + 1
            per_request[s.request_id] = per_request.get(s.request_id, 0) + 1
        report = {
            "burst": size, "prepared": prepared,
            "shots": {"sms": sum(s.channel == "sms" for s in shots), "link": sum(s.channel == "link" for s in shots),
                      "offers": len(per_offer), "offers_hit_twice": sum(1 for n in per_offer.values() if n > 1),
                      "requests": len(per_request), "requests_raced": sum(1 for n in per_request.values() if n > 1)},
            "seconds": round(seconds, 2),
            "latency_ms": {"p50": round(latencies[len(latencies) // 2] * 1000), "max": round(latencies[-1] * 1000)},
            "answers": dict(sorted(answers.items())),
            "server_errors": len(server_errors),
            "server_error_samples": [s.error or str(s.status) for s in server_errors[:5]],
            "unexpected_answers": len(unexpected),
            "errors_logged": len(logged), "errors_logged_samples": logged[:10],
            "inbound": inbound, "capacity_breaches": breaches, "confirmations": confirmed,
        }
        report["ok"] = (not server_errors and not unexpected and not logged and inbound["lost"] == 0
                        and inbound["unhandled"] == 0 and not breaches and confirmed["within_limit"])
        return report
    finally:
        engine.dispose()


# --- the matrix ----------------------------------------------------------------------------------------

def run_one(workers: int, server_url: str | None, size: int, twilio, tmp: str) -> dict:
    admin = db_name = None
    if server_url:
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        from hotline.core.db import make_engine

        db_name = f"dolbom_burst_{uuid.uuid4().hex[:8]}"
        admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        url = make_url(server_url).set(database=db_name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp}/burst-{workers}-{size}-{uuid.uuid4().hex[:6]}.db"
    port = free_port()
    twilio.reset()
    server = None
    try:
        t0 = time.perf_counter()
        server = Server(server_env(url, port, twilio), port, workers, tmp)
        started = round(time.perf_counter() - t0, 1)
        try:
            report = burst(server.base, url, twilio, size, log=server.log)
        except Exception:
            print("".join(server.log[-60:]), file=sys.stderr)
            raise
        report["start_s"] = started
        return {"workers": workers, "database": "postgresql" if server_url else "sqlite", **report}
    finally:
        if server is not None:
            server.stop()
        if admin is not None:
            from sqlalchemy import text

            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            admin.dispose()


def table(rows: list[dict]) -> str:
    head = (f"{'db':10} {'W':>1} {'N':>4} {'sms':>4} {'link':>4} {'5xx/err':>7} {'lost':>4} {'cap>':>4} "
            f"{'placed':>6} {'conf max s':>10} {'conf p50 s':>10} {'burst s':>7} {'p50 ms':>6} {'max ms':>6}  ok")
    out = [head, "-" * len(head)]
    for r in rows:
        c = r["confirmations"]
        out.append(f"{r['database']:10} {r['workers']:>1} {r['burst']:>4} {r['shots']['sms']:>4} {r['shots']['link']:>4} "
                   f"{r['server_errors']:>7} {r['inbound']['lost']:>4} {len(r['capacity_breaches']):>4} "
                   f"{c['placements']:>6} {c['max_s'] if c['max_s'] is not None else '-':>10} "
                   f"{c['p50_s'] if c['p50_s'] is not None else '-':>10} {r['seconds']:>7} "
                   f"{r['latency_ms']['p50']:>6} {r['latency_ms']['max']:>6}  {'yes' if r['ok'] else 'NO'}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.burst", description=__doc__.split("\n\n")[0])
    p.add_argument("--database", default=None, help="PostgreSQL server URL: runs on PostgreSQL (a database of its "
                   "own per run) as well as SQLite; default: SQLite only")
    p.add_argument("--only", choices=["sqlite", "postgresql"], default=None, help="one database only")
    p.add_argument("--workers", default="1,4")
    p.add_argument("--sizes", default="40,100,200")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    databases = [None] + ([args.database] if args.database else [])
    if args.only:
        databases = [d for d in databases if (d is None) == (args.only == "sqlite")]
    tmp = tempfile.mkdtemp(prefix="dolbom-burst-")
    rows = []
    twilio = fake_twilio().start()
    try:
        for database in databases:
            for workers in [int(w) for w in args.workers.split(",")]:
                for size in [int(n) for n in args.sizes.split(",")]:
                    row = run_one(workers, database, size, twilio, tmp)
                    rows.append(row)
                    print(f"{row['database']} workers {workers} burst {size}: ok={row['ok']} "
                          f"errors={row['server_errors']} lost={row['inbound']['lost']} "
                          f"over={len(row['capacity_breaches'])} conf_max={row['confirmations']['max_s']}",
                          file=sys.stderr, flush=True)
    finally:
        twilio.stop()
    print(table(rows))
    result = {"command": "python -m bench.burst " + " ".join(argv if argv is not None else sys.argv[1:]),
              "cpus": os.cpu_count(), "at": datetime.now(SEOUL).isoformat(timespec="minutes"), "runs": rows}
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
