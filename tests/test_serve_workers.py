"""Black box: `dolbom serve --workers 2` started for real on loopback (two API worker processes, one of them
the scheduler's leader) takes a burst of 40 signed SMS at once: no server error, no inbound message lost,
every reply sent (issue 9, defect 1 and the several-workers acceptance)."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading

import httpx
import pytest
from sqlmodel import Session, select

from fake_twilio import sign
from hotline.db import make_engine
from hotline.models import InboundMessage, OutboxMessage, Provider

pytestmark = [pytest.mark.twilio, pytest.mark.slow]
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


@pytest.fixture
def server(served, twilio, tmp_path):
    database_url, _ = served
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DOLBOM_ENVIRONMENT": "development", "DOLBOM_DATABASE_URL": database_url,
           "DOLBOM_SMS_BACKEND": "twilio", "DOLBOM_TWILIO_ACCOUNT_SID": twilio.account_sid,
           "DOLBOM_TWILIO_AUTH_TOKEN": twilio.auth_token, "DOLBOM_TWILIO_BASE_URL": twilio.base_url,
           "DOLBOM_TWILIO_FROM_NUMBER": "+15005550006", "DOLBOM_PUBLIC_URL": base}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--workers", str(WORKERS), "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str | None] = queue.Queue()
    log: list[str] = []

    def read() -> None:
        for line in proc.stderr:
            log.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    started = 0
    try:
        while started < WORKERS:  # each worker says so once its app (and lifespan) is up
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


def test_a_burst_of_signed_sms_against_several_workers(server, served, twilio):
    base, log = server
    _, engine = served
    with Session(engine) as s:
        phones = [p.phone for p in s.exec(select(Provider).order_by(Provider.id))]
    assert len(phones) == 28  # the demo providers, seeded by `dolbom serve` in development
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
