"""Inbound SMS that arrive without a MessageSid (issue 9, defect 11): each is handled, none is taken for a
retry of another; a retried message with a sid is still handled once."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from loop_support import outbox, post_signed
from hotline.models import InboundMessage, Provider

pytestmark = pytest.mark.twilio


def provider_phone(engine) -> str:
    with Session(engine) as s:
        return s.exec(select(Provider).order_by(Provider.id)).first().phone


def test_messages_without_a_sid_are_each_handled(client, twilio, engine, demo):
    phone = provider_phone(engine)
    for _ in range(3):
        payload = {k: v for k, v in twilio.inbound_payload(phone, "도움말").items()
                   if k not in ("MessageSid", "SmsSid", "SmsMessageSid")}
        assert post_signed(client, twilio, "/v1/webhooks/twilio/sms", payload).status_code == 200
    with Session(engine) as s:
        handled = [m.handled_as for m in s.exec(select(InboundMessage))]
    assert handled == ["help"] * 3
    assert len(outbox(engine, kind="help")) == 3


def test_a_retried_message_with_a_sid_is_handled_once(client, twilio, engine, demo):
    payload = twilio.inbound_payload(provider_phone(engine), "도움말")
    for _ in range(2):
        assert post_signed(client, twilio, "/v1/webhooks/twilio/sms", payload).status_code == 200
    assert len(outbox(engine, kind="help")) == 1


def test_a_long_alphanumeric_sender_is_kept_not_refused(client, twilio, engine):
    payload = twilio.inbound_payload("+15005550006", "hello")
    payload["From"] = "VERY-LONG-ALPHANUMERIC-SENDER-NAME"
    assert post_signed(client, twilio, "/v1/webhooks/twilio/sms", payload).status_code == 200
    with Session(engine) as s:
        assert s.exec(select(InboundMessage.handled_as)).one() == "ignored"


def test_sids_are_kept_whole_and_must_look_like_twilios(client, twilio, engine, demo):
    """Issue 18, defect 9: sids were cut to 40 characters before de-duplication, so a second message whose
    sid shared the first 40 was dropped as a retry. A sid is two letters and 32 hex digits, kept whole."""
    phone = provider_phone(engine)
    for sid in ("SM" + "a" * 38 + "1", "SM" + "a" * 38 + "2", "not-a-sid", "SM" + "g" * 32):
        payload = {**twilio.inbound_payload(phone, "도움말"), "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid}
        res = post_signed(client, twilio, "/v1/webhooks/twilio/sms", payload)
        assert res.status_code == 422 and res.json()["errors"][0]["field"] == "MessageSid"
    twins = ("SM" + "b" * 31 + "1", "SM" + "b" * 31 + "2")  # differ only in the last digit
    for sid in twins:
        payload = {**twilio.inbound_payload(phone, "도움말"), "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid}
        assert post_signed(client, twilio, "/v1/webhooks/twilio/sms", payload).status_code == 200
    with Session(engine) as s:
        assert sorted(s.exec(select(InboundMessage.sid))) == sorted(twins)
    assert len(outbox(engine, kind="help")) == 2
