"""Issue 21, acceptance 4: a developer's server on another port (`make run PORT=8010`) sends texts whose links
say that port, and a developer answers a text without a phone: `dolbom sms --from 010-… "1 A7"` signs and
posts it to the running server's webhook (the offer is accepted and the console shows it), and the outbox
page has a reply box in development only. Production and the tests' settings keep refusing unsigned posts."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api import cli, dev_sms
from conftest import NOW, PASSWORD, request_body
from hotline.core.clock import FrozenClock
from hotline.core.config import REPO_ROOT, Settings, get_settings
from hotline.models import CareRequest, Offer, OfferStatus, OutboxMessage, Provider
from test_console import sign_in


@pytest.fixture
def development(tmp_path, monkeypatch) -> Iterator[None]:
    """`dolbom` as a developer runs it: development settings from the environment, a database of its own,
    the suite's frozen clock (the demo providers do not answer by themselves)."""
    for name in ("DOLBOM_PUBLIC_URL", "DOLBOM_SECRET_KEY", "DOLBOM_TWILIO_AUTH_TOKEN", "DOLBOM_SMS_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOLBOM_ENVIRONMENT", "development")
    monkeypatch.setenv("DOLBOM_DATABASE_URL", f"sqlite:///{tmp_path / 'dolbom.db'}")
    monkeypatch.setenv("DOLBOM_DEMO_PROVIDERS_ANSWER", "false")
    monkeypatch.setattr("api.main.Clock", lambda: FrozenClock(NOW))
    monkeypatch.setattr(cli, "Clock", lambda: FrozenClock(NOW))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _make(*args: str) -> str:
    return subprocess.run(["make", "-n", "run", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_listens_on_the_port_given():
    assert "dolbom serve --port 8010" in _make("PORT=8010")
    assert "dolbom serve --port 8000" in _make()


def _operator(client) -> dict[str, str]:
    settings = client.app.state.settings
    res = client.post("/v1/auth/token", data={"username": settings.demo_operator_username,
                                              "password": settings.demo_operator_password})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


def _texts(engine, kind: str) -> list[str]:
    with Session(engine) as s:
        return [m.body for m in s.exec(select(OutboxMessage).where(OutboxMessage.kind == kind))]


def test_serve_in_development_puts_its_port_in_the_links(development, monkeypatch, capsys):
    served = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **options: served.update(app=app, **options))
    assert cli.main(["serve", "--port", "8010", "--no-scheduler"]) == 0
    app = served["app"]
    assert served["port"] == 8010 and app.state.settings.public_url == "http://127.0.0.1:8010"
    assert "http://127.0.0.1:8010" in capsys.readouterr().out
    assert dev_sms.served_url(get_settings()) == "http://127.0.0.1:8010"  # where `dolbom sms` will post
    with TestClient(app) as client:
        created = client.post("/v1/requests", json=request_body(), headers=_operator(client))
        assert created.status_code == 201, created.text
    engine = app.state.engine
    [ack] = _texts(engine, "intake_ack")
    assert "http://127.0.0.1:8010/s/" in ack
    assert all("http://127.0.0.1:8010/o/" in body for body in _texts(engine, "offer"))


def test_a_public_url_given_or_production_is_kept():
    given = Settings(environment="development", public_url="https://dolbom.example")
    assert dev_sms.listening_url(given, "127.0.0.1", 8010).public_url == "https://dolbom.example"
    test = Settings(environment="test")
    assert dev_sms.listening_url(test, "127.0.0.1", 8010).public_url == "http://127.0.0.1:8000"
    assert dev_sms.listening_url(Settings(environment="development"), "127.0.0.1", 8010).public_url \
        == "http://127.0.0.1:8010"


class Served:
    """The app on a loopback port, served by uvicorn from a thread: a running development server."""

    def __init__(self, app, port: int):
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.server.install_signal_handlers = lambda: None  # not the main thread
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "Served":
        self.thread.start()
        for _ in range(200):  # waiting for the socket, not for a job
            if self.server.started:
                return self
            time.sleep(0.05)
        raise RuntimeError("uvicorn did not start")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _local(e164: str) -> str:
    return f"0{e164[3:5]}-{e164[5:9]}-{e164[9:]}"  # +821055511037 → 010-5551-1037, as a person types it


def test_dolbom_sms_answers_an_offer_and_the_console_shows_it(development, capsys):
    from api.main import create_app
    from hotline.core.db import make_engine

    port = _free_port()
    settings = dev_sms.listening_url(get_settings(), "127.0.0.1", port)
    cli._prepare(settings)  # migrated, the demo providers and the demo operator, as `dolbom serve` does
    dev_sms.remember_served_url(settings)
    engine = make_engine(settings.database_url)
    app = create_app(settings, engine=engine, clock=FrozenClock(NOW))
    base = f"http://127.0.0.1:{port}"
    with Served(app, port), httpx.Client(base_url=base) as http:
        token = http.post("/v1/auth/token", data={"username": settings.demo_operator_username,
                                                  "password": settings.demo_operator_password}).json()
        care = http.post("/v1/requests", json=request_body(),
                         headers={"Authorization": f"Bearer {token['access_token']}"}).json()
        with Session(engine) as s:
            offer = s.exec(select(Offer).where(Offer.request_id == care["id"], Offer.status == OfferStatus.pending)
                           .order_by(Offer.rank)).first()
            phone = s.get(Provider, offer.provider_id).phone
        assert any(f"{base}/o/" in body for body in _texts(engine, "offer"))  # the links say the port

        assert cli.main(["sms", "--from", _local(phone), f"1 {offer.reply_code}"]) == 0
        assert "보냈습니다" in capsys.readouterr().out
        with Session(engine) as s:
            assert s.get(Offer, offer.id).status == OfferStatus.accepted
            assert s.get(CareRequest, care["id"]).status == "confirmed"
        assert http.post("/console/login", data={"username": settings.demo_operator_username,
                                                 "password": settings.demo_operator_password}).status_code in (200, 303)
        board = http.get("/console").text
        assert care["ref"] in board
        page = http.get(f"/console/requests/{care['ref']}").text
        assert re.search(r'id="status"[^>]*>\s*확정', page)

        # a text signed with anything else is refused and changes nothing
        form, _ = dev_sms.signed_sms(f"{base}{dev_sms.WEBHOOK}", "not-the-secret", sender=phone, body="2 A7")
        forged = http.post(dev_sms.WEBHOOK, data=form, headers={"X-Twilio-Signature": "bm90LXNpZ25lZA=="})
        assert forged.status_code == 403


def test_dolbom_sms_refuses_outside_development(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DOLBOM_ENVIRONMENT", "test")
    monkeypatch.setenv("DOLBOM_DATABASE_URL", f"sqlite:///{tmp_path / 'dolbom.db'}")
    get_settings.cache_clear()
    try:
        assert cli.main(["sms", "--from", "010-5551-1037", "1 A7"]) == 1
    finally:
        get_settings.cache_clear()
    assert "development" in capsys.readouterr().err


def test_the_webhook_takes_the_development_signature_only_in_development(tmp_path, engine, demo, clock):
    from api.main import create_app

    for environment, expected in (("development", 200), ("test", 403)):
        settings = Settings(environment=environment, database_url=engine.url.render_as_string(hide_password=False), data_dir=REPO_ROOT / "data",
                            secret_key="dev-secret-0123456789abcdef0123456789", demo_providers_answer=False)
        with TestClient(create_app(settings, engine=engine, clock=clock)) as client:
            url = f"{settings.public_url}{dev_sms.WEBHOOK}"
            form, signature = dev_sms.signed_sms(url, settings.secret_key, sender="+821055511037", body="도움말")
            res = client.post(dev_sms.WEBHOOK, data=form, headers={"X-Twilio-Signature": signature})
            assert res.status_code == expected, (environment, res.text)


def test_the_outbox_reply_box_is_there_in_development_only(engine, demo, clock, places):
    from api.main import create_app

    common = dict(database_url=engine.url.render_as_string(hide_password=False), data_dir=REPO_ROOT / "data",
                  secret_key="dev-secret-0123456789abcdef0123456789", demo_providers_answer=False)
    with TestClient(create_app(Settings(environment="development", **common), engine=engine, clock=clock)) as client:
        sign_in(client, engine)
        token = client.post("/v1/auth/token", data={"username": "op-park", "password": PASSWORD}).json()
        care = client.post("/v1/requests", json=request_body(),
                           headers={"Authorization": f"Bearer {token['access_token']}"}).json()
        with Session(engine) as s:
            offer = s.exec(select(Offer).where(Offer.request_id == care["id"], Offer.status == OfferStatus.pending)
                           .order_by(Offer.rank)).first()
            text = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "offer",
                                                      OutboxMessage.request_id == care["id"])).first()
        page = client.get("/console/outbox").text
        assert 'id="sms-reply"' in page and f'value="{text.id}"' in page
        answered = client.post("/console/outbox/reply", data={"message": text.id, "body": f"1 {offer.reply_code}"})
        assert answered.status_code == 200 and "제안 수락으로 처리했습니다" in answered.text
        with Session(engine) as s:
            assert s.get(CareRequest, care["id"]).status == "confirmed"
    with TestClient(create_app(Settings(environment="test", **common), engine=engine, clock=clock)) as client:
        sign_in(client, engine)
        assert 'id="sms-reply"' not in client.get("/console/outbox").text
        refused = client.post("/console/outbox/reply", data={"message": text.id, "body": "2 A7"})
        assert refused.status_code == 404
