"""Road travel from an OSRM-compatible table service (issue 22), against a local fake of its HTTP API: the
road figures are used when it is configured (the km an offer shows, a caregiver's chain of visits), every
failure (timeout, 5xx, an answer that does not read) falls back to the great circle, logged once and never
a 500, a pair of points is asked once, and only coordinates are sent."""

from __future__ import annotations

import logging
import math
import re

import pytest

import matching
from conftest import request_body
from fake_osrm import FakeOsrm, straight_km
from hotline.places.travel import (RoadTable, _Points, forget_tables, key_of, problem_travel, road_matrix, road_table,
                                   visit_travel)
from loop_support import offers_of, only_providers, pending, provider, request_row, sms_from

# two homes in 평택시 비전동 and 세교동, ~1.4 km apart as the crow flies; pt-c01 lives nearby
HOME_A = (36.9950, 127.1050)
HOME_B = (37.0060, 127.0980)
GREAT = matching.GreatCircle()  # the settings' defaults: road factor 1.3, 30 km/h


@pytest.fixture(autouse=True)
def _loopback_and_fresh_tables(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    forget_tables()  # one client (and cache) per process and URL: each test starts with none
    yield
    forget_tables()


@pytest.fixture(scope="module")
def _osrm_server():
    with FakeOsrm() as fake:
        yield fake


@pytest.fixture
def osrm(_osrm_server):
    _osrm_server.reset()
    yield _osrm_server
    _osrm_server.reset()


class Ticker:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def table(osrm, **kw) -> RoadTable:
    return RoadTable(osrm.base_url, timeout_s=kw.pop("timeout_s", 0.3), **kw)


def loc(point) -> matching.Location:
    return matching.Location(*point)


def caregiver(point=(36.9922, 127.1164), commitments=()) -> matching.Provider:
    return matching.Provider(id="c1", kind="caregiver", location=loc(point), capacity=2,
                             availability=(matching.Interval(0, 10**9),), commitments=tuple(commitments),
                             radius_km=10.0)


def request(rid: str, point, start=600, end=720) -> matching.Request:
    return matching.Request(id=rid, child_ages=(5,), start=start, end=end, location=loc(point))


@pytest.fixture
def plain():
    """Settings without a database: the adapter's own tests need none."""
    from hotline.core.config import Settings

    return Settings(environment="test")


def configured(settings, osrm):
    return settings.model_copy(update={"travel_url": osrm.base_url, "travel_timeout_s": 0.3})


# -- the adapter on its own ----------------------------------------------------------------------------


def test_the_road_figures_replace_the_great_circle_and_only_coordinates_are_sent(osrm, plain):
    osrm.road(HOME_A, HOME_B, minutes=35, km=9.8)  # the bridge is down: the long way round
    travel = problem_travel(configured(plain, osrm), [request("a", HOME_A), request("b", HOME_B)], [caregiver()])
    assert isinstance(travel, matching.MatrixTravel)
    a, b = loc(HOME_A), loc(HOME_B)
    assert matching.distance.travel_min_between(travel, a, b) == 35
    assert matching.distance.road_km_between(travel, a, b) == pytest.approx(9.8)
    minutes, km = FakeOsrm.made_up(HOME_B, HOME_A)  # the other way: the fake's own road network
    assert matching.distance.road_km_between(travel, b, a) == pytest.approx(km, abs=0.001)
    assert matching.distance.travel_min_between(travel, b, a) == math.ceil(round(minutes * 60, 1) / 60 - 1e-9)
    # a pair the problem never measures keeps the great circle
    far = matching.Location(37.5, 127.5)
    assert matching.distance.road_km_between(travel, a, far) == pytest.approx(
        matching.distance.road_km_between(GREAT, a, far))
    [asked] = osrm.requests
    assert re.fullmatch(r"/table/v1/driving/(-?\d+\.\d{5},-?\d+\.\d{5};?)+", asked.path)
    assert set(asked.query) == {"sources", "destinations", "annotations"}
    assert asked.query["annotations"] == "duration,distance"
    assert not {h for h in asked.headers if h.lower() in ("authorization", "cookie", "referer")}


def test_a_pair_of_points_is_asked_once_and_the_cache_is_bounded(osrm):
    roads = table(osrm, cache_size=3)
    a, b, c = key_of(*HOME_A), key_of(*HOME_B), key_of(37.02, 127.09)
    first = roads.figures([(a, b), (b, a)])
    assert set(first) == {(a, b), (b, a)} and roads.asked == 1
    assert roads.figures([(b, a), (a, b)]) == first and roads.asked == 1  # from the cache
    assert roads.figures([(a, a)]) == {(a, a): (0.0, 0)} and roads.asked == 1  # staying put is never asked
    roads.figures([(a, b), (a, c)])  # only the new pair goes out
    assert roads.asked == 2 and osrm.requests[-1].coordinates == [a, c]
    roads.figures([(c, a), (c, b)])  # the cache holds 3 pairs: (b, a) and (a, b), the oldest used, fall out
    assert roads.asked == 3
    roads.figures([(b, a)])
    assert roads.asked == 4


def test_a_big_problem_is_asked_in_blocks_the_service_accepts(osrm):
    osrm.max_locations = 10
    try:
        roads = table(osrm, max_locations=10)
        points = [key_of(37.0 + i / 1000, 127.0) for i in range(12)]
        pairs = [(p, q) for p in points for q in points if p != q]
        got = roads.figures(pairs)
        assert set(got) == set(pairs)
        assert all(len(r.coordinates) <= 10 for r in osrm.requests) and roads.asked == 9  # 3 × 3 blocks of 5
    finally:
        osrm.max_locations = 100


def test_a_cold_cache_fills_over_several_calls_rather_than_keep_one_waiting(osrm):
    class Slow(Ticker):  # every look at the clock is a second later: the service takes its time
        def __call__(self):
            self.t += 1.0
            return self.t

    osrm.max_locations = 10
    try:
        roads = table(osrm, max_locations=10, budget_s=2.5, monotonic=Slow())
        points = [key_of(37.0 + i / 1000, 127.0) for i in range(12)]
        pairs = [(p, q) for p in points for q in points if p != q]
        first = roads.figures(pairs)
        assert 0 < len(first) < len(pairs) and roads.asked == 2  # the rest keep the great circle this time
        while len(roads.figures(pairs)) < len(pairs):
            assert roads.asked <= 9
        assert roads.asked == 9  # nothing asked twice
    finally:
        osrm.max_locations = 100


def test_no_route_between_two_points_keeps_the_great_circle_for_that_pair(osrm, plain):
    osrm.no_route(HOME_A, HOME_B)
    travel = problem_travel(configured(plain, osrm), [request("a", HOME_A), request("b", HOME_B)], [caregiver()])
    a, b = loc(HOME_A), loc(HOME_B)
    assert matching.distance.road_km_between(travel, a, b) == pytest.approx(matching.distance.road_km_between(GREAT, a, b))
    assert matching.distance.road_km_between(travel, b, a) == pytest.approx(FakeOsrm.made_up(HOME_B, HOME_A)[1], abs=1e-3)


@pytest.mark.parametrize("breakage", ["hang", "503", "500", "html", "error", "shape", "negative", "refused"])
def test_a_failing_service_falls_back_logs_once_and_rests(osrm, caplog, breakage):
    now = Ticker()
    url = "http://127.0.0.1:9" if breakage == "refused" else osrm.base_url  # port 9: nobody listens
    roads = RoadTable(url, timeout_s=0.2, retry_after_s=60, monotonic=now)
    if breakage == "hang":
        osrm.hang()
    elif breakage.isdigit():
        osrm.fail(int(breakage))
    elif breakage != "refused":
        osrm.garbage(breakage)
    points = _Points()
    a, b = points.at(*HOME_A), points.at(*HOME_B)
    caplog.set_level(logging.INFO, logger="dolbom.travel")
    travel = road_matrix(roads, points, {(a, b), (b, a)}, GREAT)
    assert matching.distance.road_km_between(travel, loc(HOME_A), loc(HOME_B)) == pytest.approx(
        matching.distance.road_km_between(GREAT, loc(HOME_A), loc(HOME_B)))
    asked = roads.asked
    road_matrix(roads, points, {(a, b)}, GREAT)
    assert roads.asked == asked == 1  # resting: later calls do not wait for the timeout again
    now.t += 61
    road_matrix(roads, points, {(a, b)}, GREAT)
    assert roads.asked == 2  # tried again after the rest, failed again: still one line in the log
    warnings = [r for r in caplog.records if r.name == "dolbom.travel" and r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "great-circle" in warnings[0].getMessage()
    # nothing about the places asked in the log line
    assert "36.99" not in warnings[0].getMessage() and "127.1" not in warnings[0].getMessage()
    if breakage != "refused":
        osrm.reset()
        now.t += 61
        travel = road_matrix(roads, points, {(a, b)}, GREAT)
        assert matching.distance.road_km_between(travel, loc(HOME_A), loc(HOME_B)) == pytest.approx(
            FakeOsrm.made_up(HOME_A, HOME_B)[1], abs=1e-3)
        assert any("again" in r.getMessage() for r in caplog.records if r.name == "dolbom.travel")


def test_not_configured_is_the_great_circle_and_one_client_per_process(plain, osrm):
    settings = plain
    assert road_table(settings) is None
    assert problem_travel(settings, [request("a", HOME_A)], [caregiver()]) == matching.GreatCircle(
        settings.road_factor, settings.speed_kmh)
    assert visit_travel(settings, *HOME_A, [HOME_B]) == matching.GreatCircle(settings.road_factor, settings.speed_kmh)
    on = configured(settings, osrm)
    assert road_table(on) is road_table(on.model_copy())  # the cache lives as long as the process


def test_the_setting_is_read_from_the_environment(monkeypatch):
    from hotline.core.config import Settings

    monkeypatch.setenv("DOLBOM_TRAVEL_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("DOLBOM_TRAVEL_TIMEOUT_S", "0.5")
    s = Settings(environment="test")
    assert (s.travel_url, s.travel_timeout_s) == ("http://127.0.0.1:5000", 0.5)
    assert Settings(environment="test", travel_url=None).travel_url is None


# -- through the hotline: a caregiver's chain of visits, the km an offer shows ----------------------------


@pytest.fixture
def road_settings(settings, osrm):
    return configured(settings, osrm)


@pytest.fixture
def road_client(road_settings, engine, clock):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from hotline import jobs

    app = create_app(road_settings, engine=engine, clock=clock)
    with TestClient(app) as client:
        from conftest import _runtime

        _runtime(app, engine, clock)
        yield client
    jobs.RUNTIME = None


@pytest.fixture
def staff(road_client, engine):
    from sqlmodel import Session

    from conftest import PASSWORD, token_for
    from hotline.accounts.security import ensure_user
    from hotline.models import Role

    with Session(engine) as s:
        ensure_user(s, "op-road", PASSWORD, Role.operator)
        s.commit()
    return token_for(road_client, "op-road")


def _call(client, staff, point, start: str, end: str, phone: str) -> str:
    body = request_body(guardian={"name": "김하늘", "phone": phone, "language": "ko"},
                        start_at=f"2026-11-25T{start}:00+09:00", end_at=f"2026-11-25T{end}:00+09:00",
                        location={"address": "평택시 비전동 123-4", "place": "평택시 비전동",
                                  "lat": point[0], "lon": point[1]})
    res = client.post("/v1/requests", json=body, headers=staff)
    assert res.status_code == 201, res.text
    return res.json()["ref"]


def _a_morning_visit_confirmed(client, staff, engine, twilio):
    only_providers(engine, "pt-c01")
    ref = _call(client, staff, HOME_A, "09:00", "12:00", "010-5550-8101")
    [offer] = pending(offers_of(engine, ref))
    care = provider(engine, offer.provider_id)
    sms_from(client, twilio, care.phone, "1")
    assert request_row(engine, ref).status == "confirmed"
    return ref, offer, care


@pytest.mark.twilio
def test_the_road_time_between_two_homes_decides_whether_a_caregiver_can_go_on(road_client, staff, demo, engine,
                                                                               twilio, osrm):
    osrm.road(HOME_A, HOME_B, minutes=35, km=9.8)  # 1.4 km as the crow flies, 35 minutes by road
    _, offer, care = _a_morning_visit_confirmed(road_client, staff, engine, twilio)
    # the offer showed road km from the service, not the great circle's
    minutes, km = FakeOsrm.made_up(HOME_A, (care.lat, care.lon))
    assert offer.distance_km == pytest.approx(km, abs=0.01)
    assert abs(km - straight_km(HOME_A, (care.lat, care.lon)) * 1.3) > 0.1
    # 20 minutes between the visits: the great circle says 4 minutes' drive, the road says 35
    ref = _call(road_client, staff, HOME_B, "12:20", "17:00", "010-5550-8102")
    assert pending(offers_of(engine, ref)) == []
    shown = road_client.get(f"/v1/requests/{ref}", headers=staff).json()
    assert shown["status"] == "unmatched"
    assert shown["explanation"]["reason_code"] == "caregiver_busy"
    assert "다른 방문" in shown["explanation"]["summary_ko"] or "겹" in shown["explanation"]["summary_ko"]


@pytest.mark.twilio
@pytest.mark.parametrize("breakage", ["503", "hang", "shape"])
def test_when_the_service_fails_the_great_circle_places_the_call(road_client, staff, demo, engine, twilio, osrm,
                                                                 breakage):
    osrm.road(HOME_A, HOME_B, minutes=35, km=9.8)
    if breakage == "hang":
        osrm.hang()
    elif breakage == "503":
        osrm.fail(503)
    else:
        osrm.garbage(breakage)
    _, offer, care = _a_morning_visit_confirmed(road_client, staff, engine, twilio)
    assert offer.distance_km == pytest.approx(straight_km(HOME_A, (care.lat, care.lon)) * 1.3, abs=0.01)
    ref = _call(road_client, staff, HOME_B, "12:20", "17:00", "010-5550-8102")
    [next_visit] = pending(offers_of(engine, ref))  # 4 minutes by the great circle: the caregiver goes on
    assert next_visit.provider_id == offer.provider_id
    assert len(osrm.requests) == 1  # asked once, then left alone while it is down
