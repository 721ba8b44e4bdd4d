"""Sending SMS: the ``SmsSender`` protocol, a console backend for development and a Twilio backend.

Errors are sorted for the caller's retry loop. ``TransientSendError`` means try again with backoff;
its ``maybe_sent`` says whether Twilio may already have accepted the message (a 5xx, a read timeout,
a dropped connection), in which case the caller asks ``find_sent`` before resending so that a parent
or provider never gets the same text twice. ``PermanentSendError`` means stop: a bad number, an
opted-out recipient, a rejected request.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Protocol, TextIO, runtime_checkable

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from hotline.privacy.masking import mask
from hotline.sms.segments import segments

logger = logging.getLogger("hotline.sms")

INVALID_NUMBER = 21211
UNSUBSCRIBED = 21610
NOT_MOBILE = 21614

MAX_VALIDITY_S = 36000  # Twilio accepts ValidityPeriod 1..36000 seconds

# Our clock and Twilio's disagree by a little; a message Twilio stamped just before `since` is still
# the one we are looking for.
CLOCK_SKEW = timedelta(minutes=2)


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str


class TransientSendError(Exception):
    def __init__(self, message: str, *, maybe_sent: bool, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.maybe_sent = maybe_sent
        self.status = status
        self.code = code


class PermanentSendError(Exception):
    def __init__(self, message: str, *, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = status


@runtime_checkable
class SmsSender(Protocol):
    def send(
        self,
        to: str,
        body: str,
        *,
        validity_period_s: int | None = None,
        status_callback: str | None = None,
    ) -> SendResult: ...

    def find_sent(self, to: str, body: str, since: datetime, exclude: frozenset[str] = frozenset()) -> SendResult | None:
        """The message with exactly this body accepted for ``to`` at or after ``since``, if any, other than
        those in ``exclude`` (identical texts sent for other outbox rows)."""
        ...




@dataclass(frozen=True)
class ConsoleMessage:
    to: str
    body: str
    sid: str
    sent_at: datetime
    validity_period_s: int | None = None
    status_callback: str | None = None


@dataclass
class ConsoleSender:
    """No account, no network: every message is kept in ``messages`` (development and tests). The log gets
    one line without the text (texts carry names, one-time codes and link tokens: issue 18); in development
    the whole text goes to ``phone``, the terminal standing in for the recipients' phones (production
    refuses this backend)."""

    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    messages: list[ConsoleMessage] = field(default_factory=list)
    phone: TextIO | None = None

    def send(
        self,
        to: str,
        body: str,
        *,
        validity_period_s: int | None = None,
        status_callback: str | None = None,
    ) -> SendResult:
        sid = "CONSOLE" + uuid.uuid4().hex[:27]
        self.messages.append(ConsoleMessage(to, body, sid, self.now(), validity_period_s, status_callback))
        info = segments(body)
        logger.info("SMS %s to %s (%d %s segments)", sid, mask(to), info.segments, info.encoding)
        if self.phone is not None:
            self.phone.write(f"\n[개발용 문자함 · {mask(to)}]\n{body}\n")
            self.phone.flush()
        return SendResult(sid=sid, status="sent")

    def find_sent(self, to: str, body: str, since: datetime, exclude: frozenset[str] = frozenset()) -> SendResult | None:
        since = _aware(since)
        for message in reversed(self.messages):
            if message.to == to and message.body == body and message.sent_at >= since and message.sid not in exclude:
                return SendResult(sid=message.sid, status="sent")
        return None


class TwilioSender:
    """The real ``twilio.rest.Client``; ``base_url`` points it somewhere other than api.twilio.com (a fake).

    Sends from the messaging service when one is given (Twilio picks the number from its pool),
    else from ``from_number``."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        base_url: str | None = None,
        timeout_s: float = 10,
    ):
        if not (from_number or messaging_service_sid):
            raise ValueError("TwilioSender needs from_number or messaging_service_sid")
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        # No max_retries: the library retrying a POST on its own could send a text twice; the caller
        # retries, after reconciling. The quiet logger keeps recipients' numbers (list query params)
        # out of INFO logs.
        http_client = TwilioHttpClient(timeout=timeout_s, logger=_quiet_http_logger)
        self.client = Client(account_sid, auth_token, http_client=http_client)
        if base_url:
            # Every Messages call builds its URL from the `api` domain's base_url (create, list,
            # fetch and next-page links alike). Region/edge settings would rewrite the host, so they go.
            self.client.api.base_url = base_url.rstrip("/")
            self.client.edge = None
            self.client.region = None

    def send(
        self,
        to: str,
        body: str,
        *,
        validity_period_s: int | None = None,
        status_callback: str | None = None,
    ) -> SendResult:
        params: dict[str, object] = {"to": to, "body": body}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self.from_number
        if validity_period_s is not None:
            # Out of range is a 400 from Twilio; a message due to expire in under a second or after
            # ten hours means the nearest valid value.
            params["validity_period"] = min(max(int(validity_period_s), 1), MAX_VALIDITY_S)
        if status_callback is not None:
            params["status_callback"] = status_callback
        try:
            message = self.client.messages.create(**params)
        except Exception as exc:
            mapped = _classify(exc, posting=True)
            if mapped is None:
                raise
            raise mapped from exc
        return SendResult(sid=message.sid, status=message.status)

    def find_sent(self, to: str, body: str, since: datetime, exclude: frozenset[str] = frozenset()) -> SendResult | None:
        """Twilio's ``DateSent>`` filter works on whole UTC days, so the query asks for the day of
        ``since`` and the exact cut is made here on ``date_created``. A naive ``since`` is UTC, the
        storage convention.

        A message still queued has no ``date_sent`` yet and may be missing from a date-filtered list:
        reconcile after the first backoff pause, not the instant the send failed.
        """
        cutoff = _aware(since) - CLOCK_SKEW
        day = cutoff.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        try:
            for message in self.client.messages.stream(to=to, date_sent_after=day, page_size=50, limit=500):
                if (
                    message.body == body
                    and message.sid not in exclude
                    and (message.direction or "").startswith("outbound")
                    and message.date_created is not None
                    and message.date_created >= cutoff
                ):
                    return SendResult(sid=message.sid, status=message.status)
        except Exception as exc:
            mapped = _classify(exc, posting=False)
            if mapped is None:
                raise
            raise mapped from exc
        return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


_quiet_http_logger = logging.getLogger("hotline.sms.twilio_http")
_quiet_http_logger.setLevel(logging.WARNING)


def _classify(exc: Exception, *, posting: bool) -> Exception | None:
    """Map what the Twilio client raised onto Transient/Permanent; None leaves it alone (a bug, not an outage).

    ``maybe_sent`` can only be true for a POST (``posting``); a failed lookup sent nothing."""
    if isinstance(exc, (TwilioRestException, TwilioServiceException)):
        status, code = exc.status, exc.code
        detail = getattr(exc, "msg", None) or getattr(exc, "title", "")
        if status == 429:
            # Rate limited before anything was processed: safe to resend without reconciling.
            return TransientSendError(f"rate limited: {detail}", maybe_sent=False, status=status, code=code)
        if status >= 500:
            return TransientSendError(f"Twilio {status}: {detail}", maybe_sent=posting, status=status, code=code)
        return PermanentSendError(f"Twilio {status} ({code}): {detail}", code=code, status=status)
    if isinstance(exc, TwilioException):
        # A list page that did not come back 200 (Page.process_response) carries only the response.
        response = exc.args[1] if len(exc.args) > 1 else None
        status = getattr(response, "status_code", None)
        if status is not None and 400 <= status < 500 and status != 429:
            return PermanentSendError(f"Twilio {status}: {exc.args[0]}", status=status)
        return TransientSendError(f"Twilio: {exc.args[0] if exc.args else exc}", maybe_sent=posting, status=status)
    if isinstance(exc, requests.exceptions.RequestException):
        reached = not _never_connected(exc)
        return TransientSendError(f"{type(exc).__name__}: {exc}", maybe_sent=posting and reached)
    if isinstance(exc, json.JSONDecodeError):
        return TransientSendError(f"unreadable Twilio response: {exc}", maybe_sent=posting)
    return None


def _never_connected(exc: BaseException) -> bool:
    """True when the request provably never reached the server (refused, DNS, connect timeout)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (NewConnectionError, ConnectTimeoutError)):
            return True
        stack.extend([getattr(current, "reason", None), current.__cause__, current.__context__, *current.args])
    return False


def sender_from_settings(settings: Any) -> SmsSender:
    """The backend named by ``settings.sms_backend`` ("console" or "twilio"), from the DOLBOM_ settings."""
    if getattr(settings, "sms_backend", "console") != "twilio":
        return ConsoleSender(phone=sys.stderr if getattr(settings, "is_development", False) else None)
    return TwilioSender(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        from_number=getattr(settings, "twilio_from_number", None),
        messaging_service_sid=getattr(settings, "twilio_messaging_service_sid", None),
        base_url=getattr(settings, "twilio_base_url", None),
    )
