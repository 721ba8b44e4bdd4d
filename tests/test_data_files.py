"""Sanity checks for the shipped data files (places, demo providers, demo scenario).

Stdlib + phonenumbers only; no network.
"""
from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import phonenumbers
import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
PLACES_CSV = DATA / "places.csv"
PROVIDERS_JSON = DATA / "demo_providers.json"
SCENARIO_JSON = DATA / "demo_scenario.json"

HEADER = ["code", "level", "city_ko", "district_ko", "name_ko", "name_en", "lat", "lon"]
LEVELS = {"city", "county", "gu", "dong"}
# Gyeonggi Province bounding box (generous).
LAT_MIN, LAT_MAX = 36.85, 38.35
LON_MIN, LON_MAX = 126.35, 127.90

GYEONGGI_CITIES = {
    "수원시", "성남시", "의정부시", "안양시", "부천시", "광명시", "평택시", "동두천시",
    "안산시", "고양시", "과천시", "구리시", "남양주시", "오산시", "시흥시", "군포시",
    "의왕시", "하남시", "용인시", "파주시", "이천시", "안성시", "김포시", "화성시",
    "광주시", "양주시", "포천시", "여주시", "연천군", "가평군", "양평군",
}
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
HHMM = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _minutes(hhmm: str) -> int:
    assert HHMM.match(hhmm), f"bad time {hhmm!r}"
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _valid_kr_mobile(number: str) -> bool:
    try:
        parsed = phonenumbers.parse(number, "KR")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number_for_region(parsed, "KR") and phonenumbers.number_type(
        parsed
    ) == phonenumbers.PhoneNumberType.MOBILE


@pytest.fixture(scope="module")
def places() -> list[dict]:
    with PLACES_CSV.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == HEADER
        return list(reader)


@pytest.fixture(scope="module")
def place_by_code(places) -> dict[str, dict]:
    return {p["code"]: p for p in places}


@pytest.fixture(scope="module")
def providers() -> list[dict]:
    return json.loads(PROVIDERS_JSON.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def scenario() -> dict:
    return json.loads(SCENARIO_JSON.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- places.csv


def test_places_has_all_31_cities_and_counties(places):
    top = [p for p in places if p["level"] in ("city", "county")]
    assert len(top) == 31
    assert {p["city_ko"] for p in top} == GYEONGGI_CITIES
    for p in top:
        assert p["district_ko"] == ""
        assert p["name_ko"] == p["city_ko"]
        assert p["level"] == ("county" if p["city_ko"].endswith("군") else "city")
        assert "." not in p["code"]


def test_places_codes_and_names_unique(places):
    codes = [p["code"] for p in places]
    assert len(codes) == len(set(codes))
    names = [p["name_ko"] for p in places]
    assert len(names) == len(set(names))
    for p in places:
        assert re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)?", p["code"]), p["code"]
        assert p["level"] in LEVELS
        assert p["name_en"].strip()


def test_places_coordinates_inside_gyeonggi(places):
    for p in places:
        lat, lon = float(p["lat"]), float(p["lon"])
        assert LAT_MIN <= lat <= LAT_MAX, p
        assert LON_MIN <= lon <= LON_MAX, p


def test_places_subdivisions_belong_to_existing_city(places, place_by_code):
    cities = {p["city_ko"]: p for p in places if p["level"] in ("city", "county")}
    for p in places:
        if p["level"] not in ("gu", "dong"):
            continue
        assert p["city_ko"] in cities, p
        city = cities[p["city_ko"]]
        assert p["code"].startswith(city["code"] + "."), p
        assert p["district_ko"], p
        assert p["name_ko"] == f'{p["city_ko"]} {p["district_ko"]}', p
        suffix = "구" if p["level"] == "gu" else ("동", "읍", "면")
        assert p["district_ko"].endswith(suffix), p
        # a 구청 / 행정복지센터 lies within ~30 km of its city hall
        assert _km(float(p["lat"]), float(p["lon"]), float(city["lat"]), float(city["lon"])) < 30, p


def test_places_reference_points(place_by_code):
    pt = place_by_code["pyeongtaek"]
    assert _km(float(pt["lat"]), float(pt["lon"]), 36.9921, 127.1129) < 1.0
    sw = place_by_code["suwon"]
    assert _km(float(sw["lat"]), float(sw["lon"]), 37.2636, 127.0286) < 1.0
    assert sum(1 for p in place_by_code.values() if p["code"].startswith("pyeongtaek.")) >= 15


# ---------------------------------------------------------- demo_providers.json


def _check_weekly_hours(weekly: dict) -> None:
    assert sorted(weekly) == sorted(DAYS)
    for day, spans in weekly.items():
        assert isinstance(spans, list), day
        prev_end = -1
        for span in spans:
            assert isinstance(span, list) and len(span) == 2, span
            start, end = _minutes(span[0]), _minutes(span[1])
            assert span[0] != "24:00"
            assert start < end, (day, span)
            assert start > prev_end, f"overlapping spans on {day}"
            prev_end = end


def test_providers_count_and_codes(providers):
    assert len(providers) == 28
    codes = [p["code"] for p in providers]
    assert len(set(codes)) == 28
    kinds = [p["kind"] for p in providers]
    assert set(kinds) == {"facility", "caregiver"}
    assert kinds.count("caregiver") >= 4


def test_providers_places_and_distance(providers, place_by_code):
    for p in providers:
        assert p["place"] in place_by_code, p["code"]
        place = place_by_code[p["place"]]
        assert p["address"].startswith(place["city_ko"]), p["code"]
        d = _km(p["lat"], p["lon"], float(place["lat"]), float(place["lon"]))
        assert d <= 8.0, (p["code"], d)
        assert LAT_MIN <= p["lat"] <= LAT_MAX and LON_MIN <= p["lon"] <= LON_MAX


def test_providers_phones_valid_and_unique(providers):
    phones = [p["phone"] for p in providers]
    assert len(set(phones)) == len(phones)
    for ph in phones:
        assert _valid_kr_mobile(ph), ph


def test_providers_fields_sane(providers):
    for p in providers:
        assert 0 <= p["min_age"] <= p["max_age"] <= 12, p["code"]
        assert p["radius_km"] > 0
        assert set(p["languages"]) <= {"ko", "en"} and "ko" in p["languages"]
        assert set(p["skills"]) <= {"infant", "special_needs"}
        if "infant" in p["skills"]:
            assert p["min_age"] <= 2, p["code"]
        if p["kind"] == "facility":
            assert 5 <= p["capacity"] <= 30, p["code"]
            assert 3 <= p["radius_km"] <= 8, p["code"]
        else:
            assert 1 <= p["capacity"] <= 3, p["code"]
            assert 8 <= p["radius_km"] <= 15, p["code"]
        _check_weekly_hours(p["weekly_hours"])
        for d in p["closures"]:
            assert DATE.match(d), d


# ----------------------------------------------------------- demo_scenario.json


def test_scenario_requests(scenario, place_by_code):
    assert scenario["date_offset_days"] >= 0
    reqs = scenario["requests"]
    assert 20 <= len(reqs) <= 40
    calls = [_minutes(r["call_at"]) for r in reqs]
    assert calls == sorted(calls)
    for r in reqs:
        assert r["place"] in place_by_code, r
        assert r["reason"] in {"illness", "family_event", "business_trip", "other"}
        assert r["language"] in {"ko", "en"}
        assert r["guardian"]["language"] in {"ko", "en"}
        assert r["guardian"]["name"].strip()
        assert _valid_kr_mobile(r["guardian"]["phone"]), r["guardian"]["phone"]
        assert 1 <= len(r["children"]) <= 3
        for c in r["children"]:
            assert c["first_name"].strip()
            assert isinstance(c["age_years"], int) and 0 <= c["age_years"] <= 12
        start, end = _minutes(r["start"]), _minutes(r["end"])
        assert r["start"] != "24:00"
        assert start < end
        assert 7 * 60 <= start and end <= 24 * 60
        assert 2 * 60 <= end - start <= 10 * 60, r["call_at"]
        assert _minutes(r["call_at"]) <= start
        assert set(r["needs"]) <= {"infant", "special_needs"}
        assert r["health_notes"] is None or isinstance(r["health_notes"], str)


def test_scenario_is_bursty(scenario):
    hours = [_minutes(r["call_at"]) // 60 for r in scenario["requests"]]
    morning = sum(1 for h in hours if 7 <= h < 9)
    lunch = sum(1 for h in hours if 11 <= h < 14)
    evening = sum(1 for h in hours if 17 <= h < 22)
    assert morning >= 8 and lunch >= 4 and evening >= 4


def test_scenario_has_an_unplaceable_request(scenario, providers, place_by_code):
    """At least one special-needs request that no provider can serve on any weekday."""

    def can_serve(p, r) -> bool:
        if not set(r["needs"]) <= set(p["skills"]):
            return False
        place = place_by_code[r["place"]]
        if _km(p["lat"], p["lon"], float(place["lat"]), float(place["lon"])) > p["radius_km"]:
            return False
        start, end = _minutes(r["start"]), _minutes(r["end"])
        return any(
            _minutes(a) <= start and end <= _minutes(b)
            for day in DAYS
            for a, b in p["weekly_hours"][day]
        )

    unplaceable = [
        r for r in scenario["requests"] if not any(can_serve(p, r) for p in providers)
    ]
    assert unplaceable
    assert any("special_needs" in r["needs"] for r in unplaceable)


def test_english_speaking_families_have_english_providers(scenario, providers):
    en_reqs = [r for r in scenario["requests"] if r["language"] == "en"]
    assert len(en_reqs) >= 2
    assert sum(1 for p in providers if "en" in p["languages"]) >= 2
