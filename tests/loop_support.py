"""Helpers for offer-loop tests: signed webhook calls and reading back offers, events and the outbox.
The fixtures (fake Twilio, job runtime) live in conftest.py; mark a module `pytest.mark.twilio`."""

from __future__ import annotations

from sqlmodel import Session, col, select

from fake_twilio import FakeTwilio, sign
from hotline.models import CareRequest, Guardian, Offer, OfferStatus, OutboxMessage, Provider, RequestEvent

from conftest import ON_DUTY, PUBLIC_URL  # noqa: F401  (re-exported for the tests)


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


def only_providers(engine, *codes: str) -> list[int]:
    """Deactivate every provider but `codes`; their row ids, in that order."""
    with Session(engine) as s:
        for p in s.exec(select(Provider)):
            p.active = p.code in codes
            s.add(p)
        s.commit()
        return [s.exec(select(Provider.id).where(Provider.code == c)).one() for c in codes]


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
