"""ASGI middleware: refuse request bodies over the configured size before any of it is parsed; refuse NUL
characters in the address and in form bodies; answer any unexpected error with a problem+json 500 and a
log line free of personal data."""

from __future__ import annotations

import json
import logging
import traceback
from urllib.parse import parse_qsl, unquote

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.access_log import route_of
from hotline.core.db import describe_error

logger = logging.getLogger("api.errors")


class BodyTooLarge(HTTPException):
    """An HTTPException, so that FastAPI's body parsing lets it through: it turns any other exception raised
    while reading the body into a 400 (issue 9, defect 12: a chunked body over the limit got 400 "오류")."""

    def __init__(self, limit: int):
        super().__init__(413, f"The request body must be at most {limit // 1024} KiB.")
        self.limit = limit


def _problem_413(limit: int) -> bytes:
    return json.dumps({
        "type": "/problems/body-too-large", "title": "요청 본문이 너무 큽니다", "status": 413,
        "detail": f"요청 본문은 {limit // 1024} KiB 이하여야 합니다.", "title_en": "Request body too large",
        "detail_en": f"The request body must be at most {limit // 1024} KiB.",
        "errors": [{"field": "body", "message": f"{limit // 1024} KiB 초과", "message_en": f"over {limit // 1024} KiB"}],
    }, ensure_ascii=False).encode()


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send)
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = _problem_413(self.max_bytes)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _problem(status: int, title: tuple[str, str], detail: tuple[str, str], field: str | None = None) -> bytes:
    body = {"type": "/problems/invalid-input" if status == 422 else "/problems/internal-error", "title": title[0],
            "status": status, "detail": detail[0], "title_en": title[1], "detail_en": detail[1]}
    if field:
        body["errors"] = [{"field": field, "message": detail[0], "message_en": detail[1]}]
    return json.dumps(body, ensure_ascii=False).encode()


async def _send_problem(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


NUL_KO, NUL_EN = "NUL(\\x00) 문자는 쓸 수 없습니다.", "must not contain a NUL (\\x00) character"


class RefuseNul:
    """PostgreSQL cannot store a NUL character in text (issue 9, defect 5): refuse one in the path, the query
    or a form body, naming the field. JSON bodies are checked by the schemas (`hotline.core.schemas.Strict`)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if "\x00" in scope.get("path", ""):
            return await self._refuse(send, "path")
        query = scope.get("query_string", b"").decode("latin-1")
        if "%00" in query:
            return await self._refuse(send, _nul_field(query))
        headers = dict(scope.get("headers") or [])
        if not headers.get(b"content-type", b"").startswith(b"application/x-www-form-urlencoded"):
            return await self.app(scope, receive, send)
        # a form body is small (the size limit runs first): read it, look, and hand it on unchanged
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message]), send)
            chunks.append(message)
            more = message.get("more_body", False)
        body = b"".join(m.get("body", b"") for m in chunks).decode("latin-1")
        if "%00" in body:
            return await self._refuse(send, _nul_field(body))
        await self.app(scope, _replay(chunks, receive), send)

    async def _refuse(self, send: Send, field: str) -> None:
        await _send_problem(send, 422, _problem(422, ("입력값을 확인해 주세요", "Invalid input"),
                                                (f"{field}: {NUL_KO}", f"{field}: {NUL_EN}"), field))


def _nul_field(encoded: str) -> str:
    for key, value in parse_qsl(encoded, keep_blank_values=True, encoding="latin-1"):
        if "\x00" in key or "\x00" in value:
            return unquote(key.replace("\x00", ""))[:40] or "query"
    return "query"


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.request", "body": b"", "more_body": False}

    return receive


class LastResort:
    """Any error nothing else handled: a problem+json 500 (never Starlette's plain text), and one log line
    with the error's type, the database's error code and constraint, and the code's own frames — never the
    exception's message, which quotes SQL parameters or a failing row with names and phone numbers
    (issue 9, defect 4)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001
            frames = "".join(traceback.format_tb(exc.__traceback__)[-6:])
            logger.error("%s %s failed: %s\n%s", scope.get("method"), route_of(scope), describe_error(exc), frames)
            if not started:
                await _send_problem(send, 500, _problem(
                    500, ("서버 오류", "Internal server error"),
                    ("요청을 처리하지 못했습니다. 잠시 후 다시 시도해 주세요.",
                     "The request could not be processed; please try again shortly.")))
