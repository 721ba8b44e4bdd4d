"""Distances and travel times: great-circle with a road factor, or a matrix from a routing engine.

Every function works elementwise on numpy arrays of coordinates so candidate pruning and model
building never loop in Python per pair. A service radius (반경) is measured as the crow flies
(`haversine_km`); travel figures (total km, minutes between visits) come from the `TravelModel`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from .types import Location

EARTH_RADIUS_KM = 6371.0088


def haversine_km(a_lat, a_lon, b_lat, b_lon) -> np.ndarray:
    """Straight-line distance in km, elementwise over broadcastable arrays of degrees."""
    a_lat, a_lon, b_lat, b_lon = (np.radians(np.asarray(v, dtype=float)) for v in (a_lat, a_lon, b_lat, b_lon))
    h = np.sin((b_lat - a_lat) / 2) ** 2 + np.cos(a_lat) * np.cos(b_lat) * np.sin((b_lon - a_lon) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


@runtime_checkable
class TravelModel(Protocol):
    """Road distance and travel time between points, elementwise over coordinate arrays."""

    def road_km(self, a_lat, a_lon, b_lat, b_lon) -> np.ndarray: ...

    def travel_min(self, a_lat, a_lon, b_lat, b_lon) -> np.ndarray: ...


@dataclass(frozen=True)
class GreatCircle:
    """Road km = straight km x road_factor; minutes = road km at speed_kmh, rounded up."""

    road_factor: float = 1.3
    speed_kmh: float = 30.0

    def road_km(self, a_lat, a_lon, b_lat, b_lon) -> np.ndarray:
        return haversine_km(a_lat, a_lon, b_lat, b_lon) * self.road_factor

    def travel_min(self, a_lat, a_lon, b_lat, b_lon) -> np.ndarray:
        # Small epsilon so 12.000000001 minutes of float noise does not become 13.
        return np.ceil(self.road_km(a_lat, a_lon, b_lat, b_lon) / self.speed_kmh * 60.0 - 1e-9).astype(np.int64)


@dataclass(frozen=True)
class MatrixTravel:
    """Travel figures from a routing engine's matrix over known points; other pairs use `fallback`.

    `points[i]` is a Location; `km[i][j]` and `minutes[i][j]` are the figures from i to j.
    Lookups match coordinates exactly, so pass the same Location objects the problem uses.
    """

    points: Sequence["Location"]
    km: Sequence[Sequence[float]]
    minutes: Sequence[Sequence[int]]
    fallback: TravelModel = field(default_factory=GreatCircle)

    def __post_init__(self) -> None:
        index = {(p.lat, p.lon): i for i, p in enumerate(self.points)}
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_km", np.asarray(self.km, dtype=float))
        object.__setattr__(self, "_min", np.asarray(self.minutes, dtype=np.int64))

    def _lookup(self, table: np.ndarray, fallback: np.ndarray, a_lat, a_lon, b_lat, b_lon) -> np.ndarray:
        a_lat, a_lon, b_lat, b_lon = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (a_lat, a_lon, b_lat, b_lon)))
        out = np.array(fallback, dtype=table.dtype, copy=True).reshape(a_lat.shape)
        index = self._index  # type: ignore[attr-defined]
        flat = out.reshape(-1)
        for k, (alat, alon, blat, blon) in enumerate(zip(a_lat.ravel(), a_lon.ravel(), b_lat.ravel(), b_lon.ravel())):
            i = index.get((float(alat), float(alon)))
            j = index.get((float(blat), float(blon)))
            if i is not None and j is not None:
                flat[k] = table[i, j]
        return out

    def road_km(self, a_lat, a_lon, b_lat, b_lon) -> np.ndarray:
        fb = self.fallback.road_km(a_lat, a_lon, b_lat, b_lon)
        return self._lookup(self._km, fb, a_lat, a_lon, b_lat, b_lon)  # type: ignore[attr-defined]

    def travel_min(self, a_lat, a_lon, b_lat, b_lon) -> np.ndarray:
        fb = self.fallback.travel_min(a_lat, a_lon, b_lat, b_lon)
        return self._lookup(self._min, fb, a_lat, a_lon, b_lat, b_lon)  # type: ignore[attr-defined]


def road_km_between(travel: TravelModel, a: "Location", b: "Location") -> float:
    return float(travel.road_km(a.lat, a.lon, b.lat, b.lon))


def travel_min_between(travel: TravelModel, a: "Location", b: "Location") -> int:
    return int(travel.travel_min(a.lat, a.lon, b.lat, b.lon))
