"""A local fake of Twilio's Messages REST API (2010-04-01), served on loopback for the real twilio client.

``FakeTwilio`` runs a Starlette app under uvicorn in a background thread on a free port and records
what it accepted. Tests drive outages without sleeping: ``fail``/``hang`` take a duration measured on
the fake's own clock (``advance`` it, or replace ``clock``) and/or a request count. It answers like
Twilio: JSON field names, RFC 2822 dates, the paging envelope, error bodies with Twilio error codes,
and the magic test numbers (``+15005550001`` invalid → 21211, ``+15005550004`` unsubscribed → 21610,
``+15005550009`` not a mobile → 21614).

``sign`` and the ``*_payload`` helpers let webhook tests build and sign the form posts Twilio would send.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Callable, Iterable
from urllib.parse import parse_qsl, urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from hotline.sms.segments import segments

API_VERSION = "2010-04-01"

MAGIC_NUMBERS = {
    "+15005550001": (21211, "The 'To' number {to} is not a valid phone number."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}

STATUS_ERRORS = {
    400: (21201, "Bad Request"),
    401: (20003, "Authenticate"),
    404: (20404, "The requested resource was not found"),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    502: (20502, "Bad Gateway"),
    503: (20503, "Service Unavailable"),
}


def sign(url: str, params: dict[str, str], auth_token: str) -> str:
    """The ``X-Twilio-Signature`` Twilio would send for a form POST of ``params`` to ``url``."""
    return RequestValidator(auth_token).compute_signature(url, params)


def rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone.utc).replace(microsecond=0))


# The fake's own time stands still (tests move it with advance() or give it the service clock): no test
# may depend on the day it runs. 24 November 2026, 08:00 in Seoul, like the suite's NOW.
FAKE_EPOCH = datetime(2026, 11, 23, 23, 0, tzinfo=timezone.utc)

@dataclass
class FakeMessage:
    sid: str
    account_sid: str
    to: str
    body: str
    from_: str | None
    messaging_service_sid: str | None
    status: str
    date_created: datetime
    date_sent: datetime | None
    validity_period: int | None = None
    status_callback: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    def to_json(self, *, status: str | None = None, date_sent: datetime | None | bool = True) -> dict:
        sent = self.date_sent if date_sent is True else date_sent
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(sent) if sent else None,
            "date_updated": rfc2822(sent or self.date_created),
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(segments(self.body).segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": status or self.status,
            "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
            "to": self.to,
            "uri": f"{uri}.json",
        }


@dataclass
class _Fault:
    status: int | None  # None: hang, then answer normally
    until: datetime | None
    count: int | None
    processed: bool
    methods: frozenset[str]
    hang_s: float = 0.0

    def applies(self, method: str, now: datetime) -> bool:
        if method not in self.methods:
            return False
        if self.until is not None and now >= self.until:
            return False
        return self.count is None or self.count > 0


class FakeTwilio:
    def __init__(self, *, account_sid: str | None = None, auth_token: str | None = None):
        self.account_sid = account_sid or "AC" + uuid.uuid4().hex
        self.auth_token = auth_token or uuid.uuid4().hex
        self.messages: list[FakeMessage] = []
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status) of every API call
        self.clock: Callable[[], datetime] = lambda: FAKE_EPOCH
        self._offset = timedelta(0)
        self._generation = 0  # bumped by reset(): a request held across a reset must leave no trace
        self._fault: _Fault | None = None
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # notified on every message taken
        self._released = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None
        self.app = self._build_app()

    # -- time and faults -------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += timedelta(seconds=seconds)

    def fail(
        self,
        status: int,
        *,
        seconds: float | None = None,
        count: int | None = None,
        processed: bool = False,
        methods: Iterable[str] = ("POST", "GET"),
    ) -> None:
        """Answer ``status`` with a Twilio error body for ``seconds`` of fake time and/or ``count``
        requests (neither: until ``recover``). Nothing is recorded, unless ``processed``: then a POST
        creates the message first and only the answer fails (Twilio's "maybe sent")."""
        self._set_fault(_Fault(status, self._until(seconds), count, processed, frozenset(methods)))

    def hang(
        self,
        seconds: float,
        *,
        during: float | None = None,
        count: int | None = None,
        processed: bool = True,
        methods: Iterable[str] = ("POST",),
    ) -> None:
        """Hold each matching request ``seconds`` (real time, server side) before answering normally,
        for ``during`` seconds of fake time and/or ``count`` requests. ``processed`` records a POST
        before the pause, as a slow Twilio would; ``recover``/``stop`` release held requests."""
        self._released.clear()
        fault = _Fault(None, self._until(during), count, processed, frozenset(methods), hang_s=seconds)
        self._set_fault(fault)

    def recover(self) -> None:
        with self._lock:
            self._fault = None
        self._released.set()

    def reset(self) -> None:
        """Forget messages, requests, faults and clock changes (one server shared by many tests)."""
        with self._lock:
            self._generation += 1
            self.messages.clear()
            self.requests.clear()
        self.recover()
        self.clock = lambda: FAKE_EPOCH
        self._offset = timedelta(0)

    def _until(self, seconds: float | None) -> datetime | None:
        return None if seconds is None else self.now() + timedelta(seconds=seconds)

    def _set_fault(self, fault: _Fault) -> None:
        with self._lock:
            self._fault = fault

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            fault = self._fault
            if fault is None or not fault.applies(method, self.now()):
                return None
            if fault.count is not None:
                fault.count -= 1
            return fault

    # -- helpers for tests -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeTwilio is not running")
        return f"http://127.0.0.1:{self.port}"

    def wait_for(self, count: int, timeout: float) -> bool:
        """Block until `count` messages have been taken (a server in another process sends them), or
        `timeout` seconds pass; True if they arrived. Woken by each message, not by polling."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)

    def bodies_to(self, to: str) -> list[str]:
        return [m.body for m in self.messages if m.to == to]

    def message(self, sid: str) -> FakeMessage:
        return next(m for m in self.messages if m.sid == sid)

    def status_callback_payload(self, sid: str, status: str, *, error_code: int | None = None) -> dict[str, str]:
        """The form Twilio posts to a message's StatusCallback; also moves the stored message to ``status``."""
        message = self.message(sid)
        message.status = status
        message.error_code = error_code
        payload = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "From": message.from_ or "",
            "To": message.to,
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
        }
        if message.messaging_service_sid:
            payload["MessagingServiceSid"] = message.messaging_service_sid
        if error_code is not None:
            payload["ErrorCode"] = str(error_code)
        return payload

    def inbound_payload(self, from_: str, body: str, *, to: str = "+15005550006") -> dict[str, str]:
        """The form Twilio posts to the number's incoming-message webhook."""
        sid = "SM" + uuid.uuid4().hex
        return {
            "ToCountry": "US",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": body,
            "To": to,
            "NumSegments": str(max(1, segments(body).segments)),
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "ApiVersion": API_VERSION,
        }

    # -- server ----------------------------------------------------------------------------------

    def start(self) -> "FakeTwilio":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Without it, the reused keep-alive connection of requests meets Nagle + delayed ACK: +40 ms a call.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off", http="h11", loop="asyncio"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 5
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("FakeTwilio did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> "FakeTwilio":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- the API ---------------------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        base = f"/{API_VERSION}/Accounts/{{account}}"
        return Starlette(
            routes=[
                Route(f"{base}/Messages.json", self._messages, methods=["GET", "POST"]),
                Route(f"{base}/Messages/{{sid}}.json", self._fetch, methods=["GET"]),
            ]
        )

    async def _messages(self, request: Request) -> JSONResponse:
        if request.method == "POST":
            return await self._guarded(request, self._create)
        return await self._guarded(request, self._list)

    async def _fetch(self, request: Request) -> JSONResponse:
        async def fetch(req: Request) -> JSONResponse:
            found = [m for m in self.messages if m.sid == req.path_params["sid"]]
            if not found:
                return _error(404, 20404, f"The requested resource {req.url.path} was not found")
            return JSONResponse(found[0].to_json())

        return await self._guarded(request, fetch)

    async def _guarded(self, request: Request, handler) -> JSONResponse:
        generation = request.state.generation = self._generation
        response = self._check_auth(request)
        if response is None:
            fault = self._take_fault(request.method)
            if fault is not None and fault.hang_s:
                response = await handler(request) if fault.processed else None
                await self._hold(fault.hang_s)
                if generation != self._generation:
                    return _error(503, 20503, "Service Unavailable")
                if response is None:
                    response = await handler(request)
            elif fault is not None:
                if fault.processed and request.method == "POST":
                    await handler(request)
                code, message = STATUS_ERRORS.get(fault.status, (fault.status, "Error"))
                response = _error(fault.status, code, message)
            else:
                response = await handler(request)
        with self._lock:
            if generation == self._generation:
                self.requests.append((request.method, request.url.path, response.status_code))
        return response

    async def _hold(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._released.is_set():
            await asyncio.sleep(0.02)

    def _check_auth(self, request: Request) -> JSONResponse | None:
        header = request.headers.get("authorization", "")
        user = password = None
        if header.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                pass
        if user != self.account_sid or password != self.auth_token:
            return _error(401, 20003, "Authenticate")
        if request.path_params["account"] != self.account_sid:
            return _error(404, 20404, f"The requested resource {request.url.path} was not found")
        return None

    async def _create(self, request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        to = form.get("To", "")
        body = form.get("Body", "")
        from_ = form.get("From") or None
        service = form.get("MessagingServiceSid") or None
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not (from_ or service):
            return _error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return _error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return _error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if to in MAGIC_NUMBERS:
            code, message = MAGIC_NUMBERS[to]
            return _error(400, code, message.format(to=to))
        validity = form.get("ValidityPeriod")
        if validity is not None and not (validity.isdigit() and 1 <= int(validity) <= 36000):
            return _error(400, 21623, "ValidityPeriod must be an integer between 1 and 36000.")
        now = self.now()
        message = FakeMessage(
            sid="SM" + uuid.uuid4().hex,
            account_sid=self.account_sid,
            to=to,
            body=body,
            from_=from_,
            messaging_service_sid=service,
            # Twilio hands the text to the carrier within moments; the fake does it at once.
            status="sent",
            date_created=now,
            date_sent=now,
            validity_period=int(validity) if validity else None,
            status_callback=form.get("StatusCallback"),
            params=form,
        )
        with self._lock:
            if request.state.generation == self._generation:
                self.messages.append(message)
                self._arrived.notify_all()
        initial = "accepted" if service and not from_ else "queued"
        return JSONResponse(message.to_json(status=initial, date_sent=None), status_code=201)

    async def _list(self, request: Request) -> JSONResponse:
        query = request.query_params
        found = [m for m in self.messages if m.account_sid == self.account_sid]
        if "To" in query:
            found = [m for m in found if m.to == query["To"]]
        if "From" in query:
            found = [m for m in found if m.from_ == query["From"]]
        for key, keep in (("DateSent>", _on_or_after), ("DateSent<", _on_or_before), ("DateSent", _on_day)):
            if key in query:
                bound = _parse_date(query[key])
                found = [m for m in found if m.date_sent is not None and keep(m.date_sent, bound)]
        found.sort(key=lambda m: m.date_created, reverse=True)

        page_size = min(int(query.get("PageSize", 50)), 1000)
        page = int(query.get("Page", 0))
        chunk = found[page * page_size : (page + 1) * page_size]
        path = request.url.path

        def page_uri(number: int) -> str:
            params = [(k, v) for k, v in query.multi_items() if k not in ("Page", "PageSize", "PageToken")]
            params += [("PageSize", str(page_size)), ("Page", str(number))]
            return f"{path}?{urlencode(params)}"

        more = (page + 1) * page_size < len(found)
        return JSONResponse(
            {
                "messages": [m.to_json() for m in chunk],
                "end": page * page_size + max(len(chunk) - 1, 0),
                "first_page_uri": page_uri(0),
                "next_page_uri": page_uri(page + 1) if more else None,
                "page": page,
                "page_size": page_size,
                "previous_page_uri": page_uri(page - 1) if page > 0 else None,
                "start": page * page_size,
                "uri": page_uri(page),
            }
        )


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
        status_code=status,
    )


def _parse_date(value: str) -> date | datetime:
    value = value.strip()
    if len(value) == 10:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def _on_or_after(moment: datetime, bound: date | datetime) -> bool:
    return moment >= bound if isinstance(bound, datetime) else moment.date() >= bound


def _on_or_before(moment: datetime, bound: date | datetime) -> bool:
    return moment <= bound if isinstance(bound, datetime) else moment.date() <= bound


def _on_day(moment: datetime, bound: date | datetime) -> bool:
    day = bound.date() if isinstance(bound, datetime) else bound
    return moment.astimezone(timezone.utc).date() == day
