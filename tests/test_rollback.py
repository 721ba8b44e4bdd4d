"""Every write request is all-or-nothing: a failure after the request has written (while building its
answer, or in its last step) leaves nothing behind. One test per router that writes; each forces the
failure after the writes and compares every table with what it held before."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from conftest import request_body
from loop_support import post_signed
from hotline.core import links
from hotline.models import Offer, Provider


class Boom(Exception):
    pass


def snapshot(engine) -> dict[str, int]:
    """Row counts of every table, and the offers' statuses: what a rolled-back request must leave as it was."""
    with Session(engine) as s:
        counts = {t.name: s.exec(select(func.count()).select_from(t)).one() for t in SQLModel.metadata.sorted_tables
                  if t.name != "sign_in_attempt"}  # sign-in attempts are kept on purpose (hotline.security)
        counts["offer statuses"] = sorted(o.status for o in s.exec(select(Offer)))
        counts["providers"] = sorted((p.code, p.active, p.capacity) for p in s.exec(select(Provider)))
    return counts


def fails_after_writing(monkeypatch, module, name: str) -> None:
    """Let `module.name` do its work (its writes), then raise."""
    real = getattr(module, name)

    def then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise Boom

    monkeypatch.setattr(module, name, then_fail)


def assert_failed(res) -> None:
    assert res.status_code == 500, res.text
    assert res.headers["content-type"].startswith("application/problem+json")


def create(client, operator) -> str:
    res = client.post("/v1/requests", json=request_body(), headers=operator)
    assert res.status_code == 201, res.text
    return res.json()["ref"]


def test_requests_router(client, operator, demo, engine, monkeypatch):
    import api.routers.requests as router

    ref = create(client, operator)
    before = snapshot(engine)
    fails_after_writing(monkeypatch, router, "present_request")
    assert_failed(client.post("/v1/requests", json=request_body(guardian={"name": "이솔", "phone": "010-5550-7777"}),
                              headers=operator))
    assert_failed(client.post(f"/v1/requests/{ref}/cancel", json={"reason": "test"}, headers=operator))
    assert_failed(client.get(f"/v1/requests/{ref}", headers=operator))  # its access record goes too
    assert snapshot(engine) == before


def test_providers_router(client, admin, demo, engine, monkeypatch):
    import api.routers.providers as router
    from test_api_providers import NEW

    pid = client.get("/v1/providers", headers=admin).json()["items"][0]["id"]
    before = snapshot(engine)
    monkeypatch.setattr(router.ProviderPublic, "model_validate", classmethod(lambda cls, *a, **k: (_ for _ in ()).throw(Boom())))
    assert_failed(client.post("/v1/providers", json=NEW, headers=admin))
    assert_failed(client.patch(f"/v1/providers/{pid}", json={"capacity": 99}, headers=admin))
    assert_failed(client.delete(f"/v1/providers/{pid}", headers=admin))
    assert snapshot(engine) == before


def test_links_router(client, operator, demo, engine, settings, monkeypatch):
    import api.routers.links as router

    ref = create(client, operator)
    with Session(engine) as s:
        offer = s.exec(select(Offer).where(Offer.status == "pending")).first()
    token = links.sign(settings.secret_key, "offer", offer.id, offer.expires_at)
    before = snapshot(engine)
    fails_after_writing(monkeypatch, router, "render")
    assert_failed(client.post(f"/o/{token}", data={"action": "accept"}))
    assert snapshot(engine) == before
    assert ref


@pytest.mark.twilio  # signed webhooks need the Twilio settings
def test_webhooks_router(client, twilio, demo, engine, monkeypatch):
    from hotline.offers import inbound

    with Session(engine) as s:
        phone = s.exec(select(Provider)).first().phone
    before = snapshot(engine)
    fails_after_writing(monkeypatch, inbound, "_reply")  # the inbound row and the reply are written, then it fails
    assert_failed(post_signed(client, twilio, "/v1/webhooks/twilio/sms", twilio.inbound_payload(phone, "도움말")))
    assert snapshot(engine) == before


def test_console_router(client, engine, demo, monkeypatch):
    import api.routers.console.new_call as router
    from test_console import FORM, sign_in

    assert sign_in(client, engine).status_code == 303
    before = snapshot(engine)
    fails_after_writing(monkeypatch, router.offers, "take_call")
    assert_failed(client.post("/console/new", data=FORM, follow_redirects=False))
    assert snapshot(engine) == before
