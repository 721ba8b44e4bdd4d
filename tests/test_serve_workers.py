"""Black box: `dolbom serve --workers N` started for real on loopback (N API worker processes, one of them
the scheduler's leader). With two workers it takes a burst of 40 signed SMS at once: no server error, no
inbound message lost, every reply sent (issue 9, defect 1 and the several-workers acceptance). With four, a
burst of 200 accepts at once, signed SMS and offer-link POSTs racing for the same offers, requests and
squeezed capacity (bench/burst.py, whose full matrix is in docs/load-benchmark.md): no server error, no
inbound message lost, no capacity exceeded, every confirmation SMS sent within 30 s (issue 9, bursts)."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager

import httpx
import pytest
from sqlmodel import Session, select

from fake_twilio import sign
from hotline.core.db import make_engine
from hotline.models import InboundMessage, OutboxMessage, Provider

pytestmark = [pytest.mark.twilio, pytest.mark.slow, pytest.mark.servers]
WORKERS = 2
BURST = 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(backend, database_url, engine, tmp_path):
    """The database the server uses, and an engine on it: on SQLite a file of its own, which `dolbom serve`
    migrates (the suite's SQLite files are made without Alembic); on PostgreSQL this run's database."""
    if backend == "postgres":
        yield database_url, engine
        return
    url = f"sqlite:///{tmp_path / 'served.db'}"
    own = make_engine(url)
    yield url, own
    own.dispose()


class ServerLog(list):
    """The server's stderr lines as they are read; `wait_for` a line to arrive (a line is written after its
    answer went out, so it can come after the client has the answer)."""

    def __init__(self) -> None:
        super().__init__()
        self.grew = threading.Condition()

    def add(self, line: str) -> None:
        with self.grew:
            self.append(line)
            self.grew.notify_all()

    def wait_for(self, text: str, count: int = 1, timeout: float = 30.0) -> bool:
        """Until `count` lines hold `text` (False if they have not within `timeout` seconds)."""
        with self.grew:
            return self.grew.wait_for(lambda: sum(text in line for line in self) >= count, timeout)


@contextmanager
def serving(database_url: str, twilio, cwd, workers: int, **env: str):
    """`dolbom serve --workers N` on a free loopback port against the fake Twilio; (base URL, its log)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DOLBOM_ENVIRONMENT": "development", "DOLBOM_DATABASE_URL": database_url,
           "DOLBOM_SMS_BACKEND": "twilio", "DOLBOM_TWILIO_ACCOUNT_SID": twilio.account_sid,
           "DOLBOM_TWILIO_AUTH_TOKEN": twilio.auth_token, "DOLBOM_TWILIO_BASE_URL": twilio.base_url,
           "DOLBOM_TWILIO_FROM_NUMBER": "+15005550006", "DOLBOM_PUBLIC_URL": base, **env}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--workers", str(workers), "--port", str(port)],
                            cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str | None] = queue.Queue()
    log = ServerLog()

    def read() -> None:
        for line in proc.stderr:
            log.add(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    started = 0
    try:
        while started < workers:  # each worker says so once its app (and lifespan) is up
            line = lines.get(timeout=90)
            if line is None:
                pytest.fail("dolbom serve exited:\n" + "".join(log))
            started += "Application startup complete" in line
        yield base, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def server(served, twilio, tmp_path):
    with serving(served[0], twilio, tmp_path, WORKERS) as running:
        yield running


def test_a_burst_of_signed_sms_against_several_workers(server, served, twilio):
    base, log = server
    _, engine = served
    with Session(engine) as s:
        phones = [p.phone for p in s.exec(select(Provider).order_by(Provider.id))]
    # the demo providers, seeded by `dolbom serve` in development: Pyeongtaek's 28 and the province's (issue 22)
    assert len(phones) > 28 + 30 and len(set(phones)) == len(phones)
    payloads = [twilio.inbound_payload(phones[i % len(phones)], "도움말" if i % 2 else "1") for i in range(BURST)]
    barrier = threading.Barrier(BURST)
    codes: list[int] = []

    def post(payload: dict[str, str]) -> None:
        url = f"{base}/v1/webhooks/twilio/sms"
        headers = {"X-Twilio-Signature": sign(url, payload, twilio.auth_token)}
        barrier.wait()
        codes.append(httpx.post(url, data=payload, headers=headers, timeout=60).status_code)

    threads = [threading.Thread(target=post, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200] * BURST, "".join(log[-40:])
    with Session(engine) as s:
        assert len(s.exec(select(InboundMessage)).all()) == BURST  # none lost
        replies = len(s.exec(select(OutboxMessage)).all())
    assert replies == BURST  # a help text or an "already filled" for each
    assert twilio.wait_for(BURST, timeout=30), f"{len(twilio.messages)} of {BURST} replies sent in 30 s"
    assert not [line for line in log if "Traceback" in line or " ERROR " in line], "".join(log[-40:])


def test_a_burst_of_200_accepts_by_sms_and_link_against_four_workers(served, twilio, tmp_path):
    """bench/burst.py's burst of 200 against `--workers 4`: about 100 pending offers (50 requests) on the next
    weekdays, four facilities squeezed to a quarter of what their pending offers hold, and 200 accepts fired at
    once, half signed SMS ("1 A7"), half link POSTs; every offer accepted by both channels or texted twice."""
    from bench.burst import SECRET, burst

    database_url, _ = served
    with serving(database_url, twilio, tmp_path, 4, DOLBOM_SECRET_KEY=SECRET) as (base, log):
        report = burst(base, database_url, twilio, 200, offers=100, confirm_timeout=45, log=log)
    summary = {k: report[k] for k in ("shots", "answers", "inbound", "confirmations", "capacity_breaches")}
    assert report["server_errors"] == 0, (report["server_error_samples"], "".join(log[-40:]))
    assert report["unexpected_answers"] == 0 and report["errors_logged"] == 0, (report, "".join(log[-40:]))
    assert report["inbound"]["sms_posted"] == 100 and report["inbound"]["lost"] == 0, summary
    assert report["inbound"]["unhandled"] == 0, summary
    assert report["capacity_breaches"] == [], summary
    assert report["prepared"]["squeezed"] and all(q["placed_peak"] <= q["capacity"] for q in report["prepared"]["squeezed"])
    confirmed = report["confirmations"]
    assert confirmed["placements"] > 0 and confirmed["sms_missing"] == 0, summary
    assert confirmed["max_s"] <= 30, summary
    assert report["ok"], summary
