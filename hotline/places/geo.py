"""Locations without the internet: a geocoder interface and the shipped table of Gyeonggi's cities,
districts and (for the demo city) neighbourhoods, looked up by name prefix."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Place:
    code: str
    level: str  # city | county | gu | dong
    city_ko: str
    district_ko: str
    name_ko: str
    name_en: str
    lat: float
    lon: float


class Geocoder(Protocol):
    """Turns what an operator types into a place. A real geocoding service can implement this later."""

    def lookup(self, query: str) -> Place | None: ...

    def get(self, code: str) -> Place | None: ...


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip())


def _short_city(city_ko: str) -> str:
    return city_ko[:-1] if city_ko.endswith(("시", "군")) and len(city_ko) > 2 else city_ko


class PlaceTable:
    """Prefix lookup over `data/places.csv`: the longest known name at the start of the query wins, so
    `평택시 비전동 123` finds the 동 and `평택시 없는동` falls back to 평택시."""

    def __init__(self, places: list[Place]):
        self.places = places
        self.by_code = {p.code: p for p in places}
        aliases: dict[str, Place] = {}
        for p in sorted(places, key=lambda p: p.level in ("city", "county"), reverse=True):
            short = _short_city(p.city_ko)
            names = [p.name_ko, p.code]
            if p.district_ko:
                names += [f"{short} {p.district_ko}", f"{p.city_ko}{p.district_ko}"]
            else:
                names += [short, p.name_en]
            for name in names:
                aliases.setdefault(_norm(name).lower(), p)
        # a 구/동 name alone is an alias only when no other city has one of that name
        counts: dict[str, int] = {}
        for p in places:
            if p.district_ko:
                counts[p.district_ko] = counts.get(p.district_ko, 0) + 1
        for p in places:
            if p.district_ko and counts[p.district_ko] == 1:
                aliases.setdefault(p.district_ko, p)
        self._aliases = sorted(aliases.items(), key=lambda kv: -len(kv[0]))

    @classmethod
    def from_csv(cls, path: Path) -> "PlaceTable":
        with path.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        return cls([
            Place(r["code"], r["level"], r["city_ko"], r["district_ko"], r["name_ko"], r["name_en"],
                  float(r["lat"]), float(r["lon"]))
            for r in rows
        ])

    def get(self, code: str) -> Place | None:
        return self.by_code.get(code)

    def lookup(self, query: str) -> Place | None:
        q = _norm(query).lower()
        if not q:
            return None
        if q in self.by_code:
            return self.by_code[q]
        for alias, place in self._aliases:
            if q == alias or (q.startswith(alias) and (len(q) == len(alias) or not q[len(alias)].isalnum()
                                                        or alias.endswith(("시", "군", "구", "동", "읍", "면")))):
                return place
        # a prefix of one city's name (`평택` typed without 시 is handled above; `평` alone is too short)
        hits = {p.city_ko for alias, p in self._aliases if alias.startswith(q)} if len(q) >= 2 else set()
        if len(hits) == 1:
            city = hits.pop()
            return next(p for p in self.places if p.city_ko == city and not p.district_ko)
        return None

    def search(self, prefix: str, limit: int = 10) -> list[Place]:
        q = _norm(prefix).lower()
        seen: dict[str, Place] = {}
        for alias, place in self._aliases:
            if alias.startswith(q) or q.startswith(alias):
                seen.setdefault(place.code, place)
        return sorted(seen.values(), key=lambda p: (p.level not in ("city", "county"), p.name_ko))[:limit]


@lru_cache
def load_places(data_dir: Path) -> PlaceTable:
    return PlaceTable.from_csv(data_dir / "places.csv")


# Gyeonggi (with Seoul and Incheon inside it) fits in this box; coordinates outside it are a typo.
GYEONGGI_BOX = (36.85, 38.35, 126.35, 127.90)


def in_service_area(lat: float, lon: float) -> bool:
    lat0, lat1, lon0, lon1 = GYEONGGI_BOX
    return lat0 <= lat <= lat1 and lon0 <= lon <= lon1
