"""Fixtures and helpers for offer-loop tests: the fake Twilio on loopback, settings that point the real
twilio client at it, the job runtime, and signed webhook calls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, col, select

from fake_twilio import FakeTwilio, sign
from hotline import jobs
from hotline.models import CareRequest, Guardian, Offer, OfferStatus, OutboxMessage, Provider, RequestEvent

PUBLIC_URL = "https://dolbom.test"
ON_DUTY = "+821055509999"


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


@pytest.fixture
def settings(settings, twilio):
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


def post_signed(client, twilio: FakeTwilio, path: str, params: dict[str, str], *, signature: str | None = None):
    sig = sign(PUBLIC_URL + path, params, twilio.auth_token) if signature is None else signature
    return client.post(path, data=params, headers={"X-Twilio-Signature": sig} if sig else {})


def sms_from(client, twilio: FakeTwilio, phone: str, body: str):
    res = post_signed(client, twilio, "/v1/webhooks/twilio/sms", twilio.inbound_payload(phone, body))
    assert res.status_code == 200, res.text
    return res


def offers_of(engine, ref: str) -> list[Offer]:
    with Session(engine) as s:
        request = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        return list(s.exec(select(Offer).where(Offer.request_id == request.id).order_by(col(Offer.id))))


def pending(offers: list[Offer]) -> list[Offer]:
    return [o for o in offers if o.status == OfferStatus.pending]


def provider(engine, provider_id: int) -> Provider:
    with Session(engine) as s:
        return s.get(Provider, provider_id)


def request_row(engine, ref: str) -> CareRequest:
    with Session(engine) as s:
        return s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()


def events(engine, ref: str) -> list[RequestEvent]:
    with Session(engine) as s:
        request = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        return list(s.exec(select(RequestEvent).where(RequestEvent.request_id == request.id)
                           .order_by(col(RequestEvent.id))))


def outbox(engine, **where) -> list[OutboxMessage]:
    with Session(engine) as s:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        for key, value in where.items():
            query = query.where(getattr(OutboxMessage, key) == value)
        return list(s.exec(query))


def guardian_phone(engine, ref: str) -> str:
    with Session(engine) as s:
        request = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        return s.get(Guardian, request.guardian_id).phone
