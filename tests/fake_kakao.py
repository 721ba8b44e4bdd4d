"""A local fake of the Kakao Local API's address search (`GET /v2/local/search/address.json`), served on
loopback for hotline.places.street.KakaoLocal, as tests/fake_twilio.py fakes Twilio.

It answers like Kakao: `{"meta": {...}, "documents": [{"address_name", "address_type", "x", "y", ...}]}`
with x = longitude and y = latitude as strings; an unknown address is `documents: []`; a missing or wrong
`Authorization: KakaoAK <key>` is 401 with Kakao's error body; `fail(status)` answers every request with
that status (5xx); `quota()` answers as Kakao does past the day's quota (HTTP 400, `{"code": -10}`);
`hang()` holds each request until the test ends (the client's timeout fires first). It records every
request's query and headers, so a test can see exactly what was sent."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

KEY = "test-kakao-rest-key"


@dataclass
class Asked:
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeKakao:
    key: str = KEY
    # address text → (lat, lon, address_type); anything else is not found
    addresses: dict[str, tuple[float, float, str]] = field(default_factory=dict)
    requests: list[Asked] = field(default_factory=list)
    mode: str = "normal"  # normal | fail | quota | hang
    fail_status: int = 500

    def __post_init__(self):
        self._released = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.app = Starlette(routes=[Route("/v2/local/search/address.json", self._search, methods=["GET"])])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, address: str, lat: float, lon: float, address_type: str = "ROAD_ADDR") -> None:
        self.addresses[address] = (lat, lon, address_type)

    def fail(self, status: int = 500) -> None:
        self.mode, self.fail_status = "fail", status

    def quota(self) -> None:
        self.mode = "quota"

    def hang(self) -> None:
        self.mode = "hang"
        self._released.clear()

    def reset(self) -> None:
        self._released.set()
        self.addresses.clear()
        self.requests.clear()
        self.mode = "normal"

    async def _search(self, request: Request) -> JSONResponse:
        self.requests.append(Asked(dict(request.query_params), dict(request.headers)))
        if request.headers.get("authorization") != f"KakaoAK {self.key}":
            return JSONResponse({"errorType": "AccessDeniedError", "message": "cannot find appKey"}, status_code=401)
        if self.mode == "hang":
            while not self._released.is_set():
                await asyncio.sleep(0.01)
        if self.mode == "fail":
            return JSONResponse({"code": -1, "msg": "internal error"}, status_code=self.fail_status)
        if self.mode == "quota":
            return JSONResponse({"code": -10, "msg": "API limit has been exceeded."}, status_code=400)
        query = request.query_params.get("query", "")
        if not query:
            return JSONResponse({"errorType": "MissingParameter", "message": "query parameter required"},
                                status_code=400)
        docs = []
        if query in self.addresses:
            lat, lon, kind = self.addresses[query]
            docs.append({"address_name": query, "address_type": kind, "x": f"{lon:.7f}", "y": f"{lat:.7f}",
                         "address": None, "road_address": None})
        return JSONResponse({"meta": {"total_count": len(docs), "pageable_count": len(docs), "is_end": True},
                             "documents": docs})

    def start(self) -> "FakeKakao":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off", http="h11",
                                loop="asyncio")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 5
        while not self._server.started:  # the server's own start-up, not a job of the service
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("FakeKakao did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "FakeKakao":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
