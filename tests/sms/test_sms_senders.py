"""Senders: the console backend, and the real twilio client against the local fake over loopback HTTP."""

import logging
import socket
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from hotline.sms.senders import (
    ConsoleSender,
    PermanentSendError,
    SendResult,
    SmsSender,
    TransientSendError,
    TwilioSender,
)

# The shared fake lives in tests/, which has no __init__.py. (No conftest.py here on purpose: a second
# module named `conftest` would shadow tests/conftest.py for `from conftest import ...`.)
TESTS_DIR = str(Path(__file__).resolve().parents[1])
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from fake_twilio import FAKE_EPOCH, FakeMessage, FakeTwilio, sign  # noqa: E402

TO = "+821012345678"
BODY = "[언제나돌봄] 긴급돌봄 요청이 접수되었습니다."
FROM_NUMBER = "+15005550006"


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    # A proxy or a Twilio region/edge from the environment must not redirect calls meant for the fake.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    for name in ("TWILIO_EDGE", "TWILIO_REGION"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def _fake_twilio_server():
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def fake_twilio(_fake_twilio_server):
    """One server for the module, emptied and back to normal for each test."""
    _fake_twilio_server.reset()
    yield _fake_twilio_server
    _fake_twilio_server.reset()


@pytest.fixture
def twilio_sender(fake_twilio):
    return TwilioSender(
        fake_twilio.account_sid, fake_twilio.auth_token, from_number=FROM_NUMBER,
        base_url=fake_twilio.base_url, timeout_s=2,
    )


def an_hour_ago() -> datetime:
    return FAKE_EPOCH - timedelta(hours=1)


def test_both_backends_satisfy_the_protocol(twilio_sender):
    assert isinstance(ConsoleSender(), SmsSender)
    assert isinstance(twilio_sender, SmsSender)


def test_console_sender_logs_masked_number_and_keeps_messages(caplog):
    sender = ConsoleSender(now=lambda: FAKE_EPOCH)
    with caplog.at_level(logging.INFO, logger="hotline.sms"):
        result = sender.send(TO, BODY, validity_period_s=600)
    assert result.sid.startswith("CONSOLE") and len(result.sid) == 34
    assert sender.messages[0].body == BODY and sender.messages[0].validity_period_s == 600
    assert "010-****-5678" in caplog.text and "12345678" not in caplog.text
    assert sender.find_sent(TO, BODY, an_hour_ago()) == result
    assert sender.find_sent(TO, "other", an_hour_ago()) is None
    assert sender.find_sent(TO, BODY, FAKE_EPOCH + timedelta(minutes=1)) is None


def test_send_reaches_the_fake_with_all_parameters(fake_twilio, twilio_sender):
    result = twilio_sender.send(TO, BODY, validity_period_s=600, status_callback="https://hook.example/sms/status")
    assert result.sid.startswith("SM") and len(result.sid) == 34
    assert result.status == "queued"
    [message] = fake_twilio.messages
    assert (message.sid, message.to, message.body, message.from_) == (result.sid, TO, BODY, "+15005550006")
    assert message.validity_period == 600
    assert message.status_callback == "https://hook.example/sms/status"
    assert fake_twilio.requests == [("POST", f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json", 201)]


def test_messaging_service_is_used_instead_of_from(fake_twilio):
    sender = TwilioSender(
        fake_twilio.account_sid, fake_twilio.auth_token, messaging_service_sid="MG" + "0" * 32,
        base_url=fake_twilio.base_url,
    )
    assert sender.send(TO, BODY).status == "accepted"
    assert fake_twilio.messages[0].from_ is None
    assert fake_twilio.messages[0].messaging_service_sid == "MG" + "0" * 32


def test_sender_needs_a_from_number_or_a_service():
    with pytest.raises(ValueError):
        TwilioSender("AC" + "0" * 32, "token")


@pytest.mark.parametrize(("to", "code"), [("+15005550001", 21211), ("+15005550004", 21610), ("+15005550009", 21614)])
def test_rejected_numbers_are_permanent(fake_twilio, twilio_sender, to, code):
    with pytest.raises(PermanentSendError) as raised:
        twilio_sender.send(to, BODY)
    assert (raised.value.code, raised.value.status) == (code, 400)
    assert fake_twilio.messages == []


def test_bad_credentials_are_permanent(fake_twilio):
    sender = TwilioSender(fake_twilio.account_sid, "wrong", from_number="+15005550006", base_url=fake_twilio.base_url)
    with pytest.raises(PermanentSendError) as raised:
        sender.send(TO, BODY)
    assert (raised.value.status, raised.value.code) == (401, 20003)


def test_rate_limit_is_transient_and_never_sent(fake_twilio, twilio_sender):
    fake_twilio.fail(429, count=1)
    with pytest.raises(TransientSendError) as raised:
        twilio_sender.send(TO, BODY)
    assert raised.value.maybe_sent is False and raised.value.status == 429
    assert fake_twilio.messages == []
    assert twilio_sender.send(TO, BODY).sid == fake_twilio.messages[0].sid


def test_server_error_is_transient_and_maybe_sent(fake_twilio, twilio_sender):
    fake_twilio.fail(500)
    with pytest.raises(TransientSendError) as raised:
        twilio_sender.send(TO, BODY)
    assert raised.value.maybe_sent is True and raised.value.status == 500
    assert fake_twilio.messages == []
    # The client does not retry on its own: one request, one failure.
    assert [status for _, _, status in fake_twilio.requests] == [500]


def test_outage_for_a_minute_is_driven_by_the_fake_clock(fake_twilio, twilio_sender):
    fake_twilio.fail(503, seconds=60)
    with pytest.raises(TransientSendError):
        twilio_sender.send(TO, BODY)
    fake_twilio.advance(59)
    with pytest.raises(TransientSendError):
        twilio_sender.send(TO, BODY)
    fake_twilio.advance(2)
    assert twilio_sender.send(TO, BODY).status == "queued"
    assert len(fake_twilio.messages) == 1


def test_hang_beyond_the_client_timeout_is_transient_and_maybe_sent(fake_twilio):
    sender = TwilioSender(
        fake_twilio.account_sid, fake_twilio.auth_token, from_number="+15005550006",
        base_url=fake_twilio.base_url, timeout_s=0.5,
    )
    fake_twilio.hang(2, count=1)
    with pytest.raises(TransientSendError) as raised:
        sender.send(TO, BODY)
    assert raised.value.maybe_sent is True
    fake_twilio.recover()
    # The slow Twilio did accept it: reconciling finds it, so the caller does not send it twice.
    assert sender.find_sent(TO, BODY, an_hour_ago()).sid == fake_twilio.messages[0].sid


def test_connection_refused_is_transient_and_not_sent(fake_twilio):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    sender = TwilioSender(
        fake_twilio.account_sid, fake_twilio.auth_token, from_number="+15005550006",
        base_url=f"http://127.0.0.1:{closed_port}", timeout_s=1,
    )
    with pytest.raises(TransientSendError) as raised:
        sender.send(TO, BODY)
    assert raised.value.maybe_sent is False


def test_find_sent_after_processed_then_500(fake_twilio, twilio_sender):
    since = fake_twilio.now()
    twilio_sender.send(TO, "an earlier text")
    fake_twilio.fail(500, count=1, processed=True)
    with pytest.raises(TransientSendError) as raised:
        twilio_sender.send(TO, BODY)
    assert raised.value.maybe_sent is True
    [_, accepted] = fake_twilio.messages
    found = twilio_sender.find_sent(TO, BODY, since)
    assert found == SendResult(sid=accepted.sid, status="sent")
    assert twilio_sender.find_sent(TO, "never sent", since) is None
    assert twilio_sender.find_sent("+821099998888", BODY, since) is None


def test_find_sent_ignores_messages_before_since(fake_twilio, twilio_sender):
    twilio_sender.send(TO, BODY)
    fake_twilio.advance(3600)
    assert twilio_sender.find_sent(TO, BODY, fake_twilio.now()) is None
    assert twilio_sender.find_sent(TO, BODY, fake_twilio.now() - timedelta(hours=2)) is not None


def test_find_sent_follows_next_page_links_to_the_fake(fake_twilio, twilio_sender):
    since = fake_twilio.now()
    twilio_sender.send(TO, BODY)
    for n in range(60):
        fake_twilio.advance(1)
        twilio_sender.send(TO, f"later text {n}")
    assert twilio_sender.find_sent(TO, BODY, since).sid == fake_twilio.messages[0].sid
    pages = [path for method, path, _ in fake_twilio.requests if method == "GET"]
    assert len(pages) == 2


def test_find_sent_during_an_outage_is_transient(fake_twilio, twilio_sender):
    fake_twilio.fail(503)
    with pytest.raises(TransientSendError):
        twilio_sender.find_sent(TO, BODY, an_hour_ago())


def test_find_sent_takes_a_naive_time_as_utc(fake_twilio, twilio_sender):
    twilio_sender.send(TO, BODY)
    naive_utc_now = fake_twilio.now().replace(tzinfo=None)
    assert twilio_sender.find_sent(TO, BODY, naive_utc_now - timedelta(minutes=1)) is not None
    assert twilio_sender.find_sent(TO, BODY, naive_utc_now + timedelta(minutes=10)) is None


@pytest.mark.parametrize(("asked", "sent"), [(0, 1), (600, 600), (86400, 36000)])
def test_validity_period_is_kept_within_what_twilio_accepts(fake_twilio, twilio_sender, asked, sent):
    twilio_sender.send(TO, BODY, validity_period_s=asked)
    assert fake_twilio.messages[0].validity_period == sent


def test_fetch_and_date_filters_look_like_twilio(fake_twilio, twilio_sender):
    sid = twilio_sender.send(TO, BODY).sid
    fetched = twilio_sender.client.messages(sid).fetch()
    assert (fetched.sid, fetched.body, fetched.status, fetched.num_segments) == (sid, BODY, "sent", "1")
    assert fetched.date_created.tzinfo is not None
    tomorrow = fake_twilio.now() + timedelta(days=1)
    assert twilio_sender.client.messages.list(to=TO, date_sent_after=tomorrow) == []
    assert len(twilio_sender.client.messages.list(to=TO, date_sent_before=tomorrow)) == 1


def test_status_callback_payload_validates_with_the_signature():
    fake = FakeTwilio()
    fake.messages.append(
        _stored(fake, sid="SM" + "a" * 32, to=TO, body=BODY)
    )
    url = "https://dolbom.example.kr/sms/status?attempt=1"
    payload = fake.status_callback_payload("SM" + "a" * 32, "delivered")
    assert payload["MessageStatus"] == "delivered" and payload["To"] == TO
    signature = sign(url, payload, fake.auth_token)
    validator = RequestValidator(fake.auth_token)
    assert validator.validate(url, payload, signature)
    assert not validator.validate(url, {**payload, "MessageStatus": "failed"}, signature)
    assert not RequestValidator("other-token").validate(url, payload, signature)
    inbound = fake.inbound_payload(TO, "1")
    assert validator.validate("https://dolbom.example.kr/sms/inbound", inbound,
                              sign("https://dolbom.example.kr/sms/inbound", inbound, fake.auth_token))


def _stored(fake, *, sid, to, body):
    now = fake.now()
    return FakeMessage(sid=sid, account_sid=fake.account_sid, to=to, body=body, from_="+15005550006",
                       messaging_service_sid=None, status="sent", date_created=now, date_sent=now)


def test_hang_that_was_never_processed_reconciles_to_resend(fake_twilio):
    sender = TwilioSender(
        fake_twilio.account_sid, fake_twilio.auth_token, from_number="+15005550006",
        base_url=fake_twilio.base_url, timeout_s=0.3,
    )
    since = fake_twilio.now()
    fake_twilio.hang(2, count=1, processed=False)
    with pytest.raises(TransientSendError) as raised:
        sender.send(TO, BODY)
    assert raised.value.maybe_sent is True
    assert sender.find_sent(TO, BODY, since) is None
    assert sender.send(TO, BODY).sid == fake_twilio.messages[0].sid


def test_sender_from_settings_picks_the_backend(fake_twilio):
    from types import SimpleNamespace

    from hotline.sms.senders import sender_from_settings

    assert isinstance(sender_from_settings(SimpleNamespace(sms_backend="console")), ConsoleSender)
    settings = SimpleNamespace(
        sms_backend="twilio", twilio_account_sid=fake_twilio.account_sid, twilio_auth_token=fake_twilio.auth_token,
        twilio_from_number="+15005550006", twilio_messaging_service_sid=None, twilio_base_url=fake_twilio.base_url,
    )
    sender = sender_from_settings(settings)
    assert isinstance(sender, TwilioSender)
    assert sender.send(TO, BODY).sid == fake_twilio.messages[0].sid


def test_console_sender_keeps_the_text_out_of_the_log(caplog):
    """Issue 18: texts carry names, one-time codes and link tokens. The log line says who (masked) and how
    long; in development the text itself goes to the terminal standing in for the phones."""
    import io

    phone = io.StringIO()
    with caplog.at_level(logging.DEBUG):
        ConsoleSender(now=lambda: FAKE_EPOCH).send(TO, BODY)
        ConsoleSender(now=lambda: FAKE_EPOCH, phone=phone).send(TO, BODY)
    assert BODY not in caplog.text and "010-****-5678" in caplog.text
    assert BODY in phone.getvalue() and "12345678" not in phone.getvalue()
