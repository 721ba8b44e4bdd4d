"""Where a call is: from coordinates when given, else the street geocoder's point for the address (when one
is configured and agrees with the written place), else the offline point of the 동 (or 구, or 시·군) the place
or address names — then the request carries how precise its point is, shown as "동 단위 위치"."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.core.errors import InvalidInput, invalid
from hotline.places.geo import in_service_area
from hotline.places.model import Place
from hotline.places.resolve import place_for, problem_for

# how precise a request's point is (care_request.location_precision): exact ones, then the offline fallbacks
EXACT = ("address", "coordinates")
LABELS = {
    "address": ("주소 위치", "street address"),
    "coordinates": ("좌표 입력", "coordinates given"),
    "dong": ("동 단위 위치", "dong-level location"),
    "gu": ("구 단위 위치", "district-level location"),
    "city": ("시·군 단위 위치", "city-level location"),
}


@dataclass(frozen=True)
class Located:
    lat: float
    lon: float
    place: Place | None
    precision: str  # address | coordinates | dong | gu | city
    outcome: str = ""  # what the street geocoder answered, when it was asked


def coarse(place: Place) -> str:
    return {"dong": "dong", "gu": "gu"}.get(place.level, "city")


def locate(table, *, address: str, place_text: str | None, lat: float | None, lon: float | None) -> Located:
    """Raises InvalidInput naming the field (location.place, location.lat/lon) when nothing places the call."""
    if (lat is None) != (lon is None):
        missing = "location.lon" if lon is None else "location.lat"
        raise invalid(missing, "위도와 경도를 함께 입력해 주세요.", "Give latitude and longitude together.")
    place = place_for(table, place_text, "location.place") if place_text else None
    if lat is not None and lon is not None:
        if not in_service_area(lat, lon):
            raise invalid("location.lat", "좌표가 경기도 서비스 지역 밖입니다.", "Coordinates lie outside Gyeonggi.")
        return Located(lat, lon, place or table.reverse(lat, lon), "coordinates")
    outcome = ""
    street = getattr(table, "street", None)
    if street is not None and address.strip():
        answer = street.locate(address)  # the address text only
        outcome = answer.outcome
        if answer.found and in_service_area(answer.lat, answer.lon):
            dong = table.reverse(answer.lat, answer.lon)
            # a street of the same name in another city (or a typo) must not move the call away from the
            # place the operator chose: then the chosen place's point stands
            if place is None or (dong is not None and dong.city_ko == place.city_ko):
                return Located(answer.lat, answer.lon, dong or place, "address", outcome)
            outcome = "elsewhere"
    if place is None:
        match = table.find(address, strict=False)
        if match.place is None:
            if match.ambiguous:
                raise InvalidInput(problem_for(match, address, "location.place"))
            raise invalid("location.place", f"주소 '{address}'에서 지역을 찾을 수 없습니다. 지역(place)이나 좌표를 입력해 주세요.",
                          f"Could not place address '{address}'. Give a place or coordinates.")
        place = match.place
    return Located(place.lat, place.lon, place, coarse(place), outcome)
