"""The surge's intake latency on the real server (issue 23, acceptance 3): the `surge` world of the day
simulator (`bench.simulator.surge`: gyeonggi's 300 providers, 320 calls within three hours of a
school-closure morning) replayed against `dolbom serve --workers N` on PostgreSQL, on the wall clock.

The calls go out at their own moments, the morning compressed `speedup` times (20: the three hours in
nine minutes, so the server takes calls twenty times as fast as on the day); each is sent whether or not
the earlier ones have been answered (open loop). The providers answer every offer the service makes —
the first wave at intake, the later ones from the server's scheduler, read from the database — as in the
simulator (`answer_of`: the same seed, the same accepts, declines and silences), through the signed link,
after their delay compressed the same way. The care windows keep their clock times but fall on the next
weekday (the server runs on today's clock, and facilities close at weekends), so the calls come a day
ahead rather than an hour: the intake does the same work (the same providers, windows and contention),
the offer waves are paced for a later start. Offers expire on the server's real clock: none expires
within the run."""

from __future__ import annotations

import heapq
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path


def prepare(url: str, *, seed: int, data_dir: Path, today: date, calls: int | None = None) -> dict:
    """Migrate, register the surge world's providers, and the calls moved to the next weekday (`calls`:
    fewer than the world's own, over the same three hours)."""
    from sqlmodel import Session

    from bench import national, simulator
    from hotline.core.db import make_engine, migrate
    from hotline.places.geo import load_places
    from hotline.providers.registry import create_provider
    from hotline.providers.schemas import ProviderCreate

    world = simulator.surge(data_dir) if calls is None else simulator.surge(data_dir, calls=calls)
    engine = make_engine(url)
    migrate(engine)
    places = load_places(data_dir)
    now = datetime.now().astimezone()
    with Session(engine) as s:
        for row in world.providers:
            create_provider(s, ProviderCreate.model_validate(row), now=now, geocoder=places)
        s.commit()
    engine.dispose()
    day = national.weekdays_after(today, 1)[0]
    shift = day - simulator.DAY
    moved_calls = []
    first = None
    for at, body in simulator.calls_of(world, seed):
        first = first or at
        moved = dict(body)
        for key in ("start_at", "end_at"):
            moved[key] = (datetime.fromisoformat(body[key]) + shift).isoformat()
        moved["children"] = [{**c, "birth_date": (date.fromisoformat(c["birth_date"]) + shift).isoformat()}
                             for c in body["children"]]
        moved_calls.append(((at - first).total_seconds(), moved))
    return {"world": world, "calls": moved_calls, "day": day.isoformat(), "seed": seed}


class Providers:
    """The surge world's providers answering the service's offers: a thread reads new offers from the
    database, another posts each answer through the offer's signed link when its (compressed) delay is up."""

    def __init__(self, url: str, base: str, secret: str, seed: int, speedup: float, codes: dict[int, str]):
        from hotline.core.db import make_engine

        self.engine = make_engine(url)
        self.base, self.secret, self.seed, self.speedup = base, secret, seed, speedup
        self.codes = codes  # provider id → code
        self.call_of: dict[str, int] = {}  # request ref → call number (answers are drawn per call)
        self.lock = threading.Lock()
        self.queue: list[tuple[float, int, bool, datetime]] = []
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.answers = {"accept": 0, "decline": 0, "silent": 0, "refused": 0}
        self.seen = 0
        self.threads = [threading.Thread(target=self._watch, daemon=True), threading.Thread(target=self._answer, daemon=True)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def close(self) -> dict:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)
        self.engine.dispose()
        from bench.load import pct

        lat = self.latencies
        return {**self.answers, "answered": len(lat),
                **({"p50_ms": round(pct(lat, 50) * 1000, 1), "p99_ms": round(pct(lat, 99) * 1000, 1)} if lat else {})}

    def _watch(self) -> None:
        from sqlmodel import Session, select

        from hotline.demo.behaviour import Behaviour, answer_of
        from hotline.models import CareRequest, Offer

        b = Behaviour()
        while not self.stop.wait(0.5):
            with Session(self.engine) as s:
                rows = s.exec(select(Offer.id, Offer.provider_id, Offer.expires_at, CareRequest.ref)
                              .join(CareRequest, CareRequest.id == Offer.request_id)
                              .where(Offer.id > self.seen).order_by(Offer.id)).all()
            for offer_id, provider_id, expires, ref in rows:
                with self.lock:
                    call = self.call_of.get(ref)
                if call is None:  # its intake's answer is not back yet: look again next time
                    break
                self.seen = offer_id
                a = answer_of(self.codes[provider_id], call, self.seed, b)
                self.answers[a.kind] += 1
                if a.kind != "silent":
                    due = time.perf_counter() + a.delay_min * 60 / self.speedup
                    with self.lock:
                        heapq.heappush(self.queue, (due, offer_id, a.kind == "accept", expires))

    def _answer(self) -> None:
        from bench.load import client
        from hotline.core.links import sign

        with client() as http:
            while not self.stop.is_set():
                with self.lock:
                    ready = self.queue and self.queue[0][0] <= time.perf_counter()
                    item = heapq.heappop(self.queue) if ready else None
                if item is None:
                    time.sleep(0.05)
                    continue
                _, offer_id, accept, expires = item
                token = sign(self.secret, "offer", offer_id, expires)
                t = time.perf_counter()
                res = http.post(f"{self.base}/o/{token}", data={"action": "accept" if accept else "decline"})
                self.latencies.append(time.perf_counter() - t)
                if res.status_code not in (200, 409):
                    self.answers["refused"] += 1


def run(prepared: dict, *, url: str, base: str, token: str, secret: str, speedup: float) -> dict:
    """Play the calls at their compressed moments with the providers answering; intake and answer latency."""
    from sqlmodel import Session, select

    from bench import national
    from hotline.core.db import make_engine
    from hotline.models import CareRequest, Provider

    engine = make_engine(url)
    with Session(engine) as s:
        codes = dict(s.exec(select(Provider.id, Provider.code)).all())
    providers = Providers(url, base, secret, prepared["seed"], speedup, codes)
    calls = prepared["calls"]
    refused: list[str] = []

    def send(http, k: int) -> int:
        res = http.post(f"{base}/v1/requests", json=calls[k][1], headers={"Authorization": f"Bearer {token}"})
        if res.status_code == 201:
            with providers.lock:
                providers.call_of[res.json()["ref"]] = k
        elif len(refused) < 5:
            refused.append(f"{res.status_code}: {res.text[:300]}")
        return res.status_code

    providers.start()
    offsets = [at / speedup for at, _ in calls]
    intake = national.open_loop_at(send, offsets)
    time.sleep(min(60.0, 20 * 60 / speedup))  # the last calls' answers (their delays, compressed)
    answers = providers.close()
    with Session(engine) as s:
        statuses: dict[str, int] = {}
        for status in s.exec(select(CareRequest.status)).all():
            statuses[status] = statuses.get(status, 0) + 1
    engine.dispose()
    morning = [at for at, _ in calls]
    busiest = max(sum(1 for o in morning if t <= o < t + 60) for t in morning)  # of the morning, uncompressed
    return {"calls": len(calls), "speedup": speedup, "seconds": round(offsets[-1], 1), "day": prepared["day"],
            "busiest_minute_calls": busiest, "busiest_calls_per_s_at_speedup": round(busiest * speedup / 60, 2),
            "intake": {**intake, "refused": refused}, "answers": answers,
            "statuses_after": statuses}
