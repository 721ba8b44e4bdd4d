"""A local fake of an OSRM `table` service (`GET /table/v1/{profile}/{lon,lat;…}`), served on loopback for
hotline.places.travel.RoadTable, as tests/fake_kakao.py fakes Kakao.

It answers like osrm-routed: `{"code": "Ok", "durations": [[s, …], …], "distances": [[m, …], …],
"sources": [...], "destinations": [...]}`, rows for `sources`, columns for `destinations` (both `all` by
default), seconds and metres, `null` where there is no route; more than `max_locations` coordinates is a 400
`TooBig`, bad coordinates a 400 `InvalidUrl`. Between two points it answers the road set with `road(a, b,
minutes, km)`, `None` for `no_route(a, b)`, else a made-up road network: 1.5 × the straight line at 36 km/h
(unlike the great-circle default, so a test can tell which model measured). `fail(status)` answers every
request with that status, `garbage(kind)` with a body that does not read, `hang()` holds each request until
the test ends. Every request's path, query and headers are recorded."""

from __future__ import annotations

import asyncio
import math
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

Point = tuple[float, float]  # (lat, lon)


def _key(lat: float, lon: float) -> Point:
    return (round(lat, 5), round(lon, 5))


def straight_km(a: Point, b: Point) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(h, 1.0)))


@dataclass
class Asked:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    coordinates: list[Point]  # (lat, lon) as read from the path


@dataclass
class FakeOsrm:
    max_locations: int = 100
    roads: dict[tuple[Point, Point], tuple[float, float] | None] = field(default_factory=dict)  # → (s, m)
    requests: list[Asked] = field(default_factory=list)
    mode: str = "normal"  # normal | fail | garbage | hang
    fail_status: int = 500
    garbage_kind: str = "html"

    def __post_init__(self):
        self._released = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.app = Starlette(routes=[Route("/table/v1/{profile}/{coordinates}", self._table, methods=["GET"])])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def road(self, a: Point, b: Point, minutes: float, km: float) -> None:
        self.roads[(_key(*a), _key(*b))] = (minutes * 60.0, km * 1000.0)

    def no_route(self, a: Point, b: Point) -> None:
        self.roads[(_key(*a), _key(*b))] = None

    @staticmethod
    def made_up(a: Point, b: Point) -> tuple[float, float]:
        """The fake's own road between two points: (minutes, km)."""
        km = straight_km(a, b) * 1.5
        return km / 36.0 * 60.0, km

    def fail(self, status: int = 500) -> None:
        self.mode, self.fail_status = "fail", status

    def garbage(self, kind: str = "html") -> None:
        """html: not JSON; error: code other than Ok; shape: a row short; negative: a negative duration."""
        self.mode, self.garbage_kind = "garbage", kind

    def hang(self) -> None:
        self.mode = "hang"
        self._released.clear()

    def reset(self) -> None:
        self._released.set()
        self.roads.clear()
        self.requests.clear()
        self.mode = "normal"

    def _figures(self, a: Point, b: Point) -> tuple[float, float] | None:
        if a == b:
            return (0.0, 0.0)
        if (a, b) in self.roads:
            return self.roads[(a, b)]
        minutes, km = self.made_up(a, b)
        return (minutes * 60.0, km * 1000.0)

    async def _table(self, request: Request):
        raw = request.path_params["coordinates"]
        points: list[Point] = []
        try:
            for part in raw.split(";"):
                lon, lat = part.split(",")
                points.append(_key(float(lat), float(lon)))
        except ValueError:
            points = []
        self.requests.append(Asked(request.url.path, dict(request.query_params), dict(request.headers), points))
        if self.mode == "hang":
            while not self._released.is_set():
                await asyncio.sleep(0.01)
        if self.mode == "fail":
            return JSONResponse({"code": "InternalError", "message": "boom"}, status_code=self.fail_status)
        if not points:
            return JSONResponse({"code": "InvalidUrl", "message": "URL string malformed"}, status_code=400)
        if len(points) > self.max_locations:
            return JSONResponse({"code": "TooBig", "message": "Too many table coordinates"}, status_code=400)
        q = request.query_params
        try:
            src = list(range(len(points))) if q.get("sources", "all") == "all" else [int(i) for i in q["sources"].split(";")]
            dst = list(range(len(points))) if q.get("destinations", "all") == "all" else \
                [int(i) for i in q["destinations"].split(";")]
            if any(not 0 <= i < len(points) for i in src + dst):
                raise ValueError
        except ValueError:
            return JSONResponse({"code": "InvalidOptions", "message": "Index out of range"}, status_code=400)
        wanted = set(q.get("annotations", "duration").split(","))
        durations, distances = [], []
        for i in src:
            row_d, row_m = [], []
            for j in dst:
                f = self._figures(points[i], points[j])
                row_d.append(None if f is None else round(f[0], 1))
                row_m.append(None if f is None else round(f[1], 1))
            durations.append(row_d)
            distances.append(row_m)
        body: dict = {"code": "Ok",
                      "sources": [{"location": [points[i][1], points[i][0]], "name": "", "distance": 0.0} for i in src],
                      "destinations": [{"location": [points[j][1], points[j][0]], "name": "", "distance": 0.0} for j in dst]}
        if "duration" in wanted:
            body["durations"] = durations
        if "distance" in wanted:
            body["distances"] = distances
        if self.mode == "garbage":
            if self.garbage_kind == "html":
                return PlainTextResponse("<html>502 Bad Gateway</html>", media_type="text/html")
            if self.garbage_kind == "error":
                return JSONResponse({"code": "NoTable", "message": "No table found"})
            if self.garbage_kind == "shape":
                body["durations"] = durations[:-1]
            if self.garbage_kind == "negative":
                body["durations"] = [[-1.0 for _ in row] for row in durations]
        return JSONResponse(body)

    def start(self) -> "FakeOsrm":
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
                raise RuntimeError("FakeOsrm did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "FakeOsrm":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
