"""Shared fixtures. Every database test runs on SQLite (a fresh file per test) and on PostgreSQL (a
database of this run's own, migrated once, emptied after each test); PostgreSQL tests skip with a reason
when DOLBOM_TEST_DATABASE_URL is unset."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

from fake_twilio import FakeTwilio
from hotline import jobs
from hotline.core.clock import SEOUL, FrozenClock
from hotline.core.config import REPO_ROOT, Settings
from hotline.core.db import make_engine, migrate
from hotline.models import create_all
from hotline.places.geo import load_places
from hotline.models import Role
from hotline.accounts.security import ensure_user, use_fast_hashing_for_tests

use_fast_hashing_for_tests()

PG_URL = os.environ.get("DOLBOM_TEST_DATABASE_URL")
PUBLIC_URL = "https://dolbom.test"
ON_DUTY = "+821055509999"
PASSWORD = "test-password-1"
# Tuesday 24 November 2026, 08:00 in Seoul: the tests' "now"
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=SEOUL)

# libfaketime (the suite at other dates) moves CLOCK_MONOTONIC with the wall clock but does not intercept
# sem_clockwait, so CPython's timed waits (Event.wait(1), Queue.get(timeout=…)) sleep for the whole shift
# (`faketime -f +365d python -c "import threading; threading.Event().wait(1)"` never returns), and an
# APScheduler interval job never runs (0 runs of a 1-second job in 5 s). Tests marked `servers` start real
# servers, whose scheduler lives on such waits: under libfaketime they skip, and run at the real date.
UNDER_FAKETIME = "faketime" in os.environ.get("LD_PRELOAD", "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:  # `-m "not browser"` leaves out what drives chromium (.ci/run's second moved-clock pass)
        if "browser" in item.path.parts:
            item.add_marker(pytest.mark.browser)
    if not UNDER_FAKETIME:
        return
    skip = pytest.mark.skip(reason="starts real servers, whose timed waits libfaketime stalls (see conftest); "
                                   "they run at the real date")
    for item in items:
        if item.get_closest_marker("servers"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of this run's own on the PostgreSQL server, migrated once, dropped at the end."""
    if not PG_URL:
        pytest.skip("PostgreSQL tests need DOLBOM_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1/test); .ci/run sets it")
    name = f"dolbom_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request) -> str:
    if backend == "postgres":
        return request.getfixturevalue("pg_database")
    return f"sqlite:///{tmp_path / 'dolbom.db'}"


@pytest.fixture
def engine(backend: str, database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    if backend == "sqlite":
        create_all(engine)
    try:
        yield engine
    finally:
        if backend == "postgres":
            tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables
                               if t.name != "alembic_version")
            with engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
                conn.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))
        engine.dispose()


@pytest.fixture
def settings(database_url: str, request) -> Settings:
    settings = Settings(environment="test", database_url=database_url, data_dir=REPO_ROOT / "data",
                        secret_key="test-secret-0123456789abcdef0123456789")
    if request.node.get_closest_marker("twilio"):  # SMS through the real twilio client to the local fake
        settings = _twilio_settings(settings, request.getfixturevalue("twilio"))
    if policy := request.node.get_closest_marker("offer_policy"):  # e.g. offer_policy(mode="rounds")
        settings = settings.model_copy(update={"offer_policy": settings.offer_policy.model_copy(update=policy.kwargs)})
    return settings


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def places(settings: Settings):
    return load_places(settings.data_dir)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(settings: Settings, engine: Engine, clock: FrozenClock):
    from api.main import create_app

    return create_app(settings, engine=engine, clock=clock)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="session")
def twilio_server() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def twilio(twilio_server: FakeTwilio, clock) -> Iterator[FakeTwilio]:
    twilio_server.reset()
    twilio_server.clock = clock.now  # one fake time for the service and the fake
    yield twilio_server
    twilio_server.reset()


def _twilio_settings(settings: Settings, twilio: FakeTwilio) -> Settings:
    return settings.model_copy(update={
        "sms_backend": "twilio", "twilio_account_sid": twilio.account_sid, "twilio_auth_token": twilio.auth_token,
        "twilio_from_number": "+15005550006", "twilio_base_url": twilio.base_url, "public_url": PUBLIC_URL,
        "on_duty_operator_phone": ON_DUTY,
    })


@pytest.fixture
def loop_runtime(app, engine, clock):
    return _runtime(app, engine, clock)


def _runtime(app, engine, clock) -> jobs.Runtime:
    jobs.RUNTIME = jobs.Runtime(engine=engine, ctx=app.state.offer_context, clock=clock, sender=app.state.sender,
                                status_callback=f"{PUBLIC_URL}/v1/webhooks/twilio/status")
    return jobs.RUNTIME


@pytest.fixture
def loop(app, engine, clock) -> Iterator[jobs.Runtime]:
    """The job runtime, as `dolbom scheduler` sets it up; tests call the job functions themselves."""
    yield _runtime(app, engine, clock)
    jobs.RUNTIME = None


def token_for(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    res = client.post("/v1/auth/token", data={"username": username, "password": password})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


@pytest.fixture
def operator(client: TestClient, engine: Engine) -> dict[str, str]:
    with Session(engine) as s:
        ensure_user(s, "op-kim", PASSWORD, Role.operator, full_name="김상담")
        s.commit()
    return token_for(client, "op-kim")


@pytest.fixture
def admin(client: TestClient, engine: Engine) -> dict[str, str]:
    with Session(engine) as s:
        ensure_user(s, "admin-lee", PASSWORD, Role.admin)
        s.commit()
    return token_for(client, "admin-lee")


@pytest.fixture
def demo(engine: Engine, settings: Settings, clock: FrozenClock, places):
    """The 28 demo providers, each with a provider account named after its code."""
    from hotline.demo.seed import seed_demo

    with Session(engine) as s:
        seed_demo(s, settings.data_dir, now=clock.now(), places=places, operator=("demo-op", PASSWORD))
        s.commit()


def request_body(**overrides) -> dict:
    """A valid intake body: two children aged 5 and 9, tomorrow 09:00–18:00 in 비전동."""
    body = {
        "guardian": {"name": "김하늘", "phone": "010-5550-1234", "language": "ko"},
        "children": [{"first_name": "서윤", "birth_date": "2021-03-14"},
                     {"first_name": "도윤", "birth_date": "2017-05-02"}],
        "reason": "illness",
        "notes": "보호자 입원",
        "start_at": "2026-11-25T09:00:00+09:00",
        "end_at": "2026-11-25T18:00:00+09:00",
        "location": {"address": "평택시 비전동 123-4", "place": "평택시 비전동"},
        "needs": [],
        "language": "ko",
        "consent": {"guardian_consent": True, "health_consent": False},
    }
    body.update(overrides)
    return body


WAITING_PLACES = [("평택시 지산동 3", "평택시 지산동"), ("평택시 비전동 7", "평택시 비전동"), ("평택시 송탄동 2", "평택시 송탄동")]


def log_waiting_requests(engine, settings, clock, places, n: int, phones: str = "62") -> list[str]:
    """`n` requests logged whose matching was interrupted before an offer went out (what the sweep takes
    up), spread over three 동 of Pyeongtaek; guardians' phones 010-5550-{phones}00.. . Their refs."""
    from hotline.requests.intake import create_care_request
    from hotline.requests.lifecycle import RequestStatus, transition
    from hotline.requests.schemas import CareRequestCreate

    refs = []
    with Session(engine) as s:
        for i in range(n):
            address, place = WAITING_PLACES[i % len(WAITING_PLACES)]
            body = CareRequestCreate.model_validate(request_body(
                guardian={"name": "대기", "phone": f"010-5550-{phones}{i:02d}", "language": "ko"},
                location={"address": address, "place": place}))
            request = create_care_request(s, body, actor="operator:test", now=clock.now(), settings=settings,
                                          geocoder=places).request
            transition(s, request, RequestStatus.matching, actor="system", at=clock.now())
            refs.append(request.ref)
        s.commit()
    return refs
