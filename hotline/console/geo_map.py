"""A map of Gyeonggi drawn from the place table alone (no tile server): city centres as labelled points,
providers and active requests placed by their coordinates, as SVG numbers for the template."""

from __future__ import annotations

import math
from datetime import datetime

from sqlmodel import Session, col, select

from hotline.console import labels
from hotline.console.read import ACTIVE
from hotline.models import CareRequest, Provider

WIDTH, HEIGHT, PAD = 900, 760, 30


def draw(session: Session, places, *, now: datetime) -> dict:
    cities = [p for p in places.places if p.level in ("city", "county")]
    lats = [p.lat for p in places.places]
    lons = [p.lon for p in places.places]
    lat0, lat1, lon0, lon1 = min(lats) - 0.05, max(lats) + 0.05, min(lons) - 0.05, max(lons) + 0.05
    # equirectangular, with longitude shrunk by cos(latitude) so distances look right
    kx = math.cos(math.radians((lat0 + lat1) / 2))
    scale = min((WIDTH - 2 * PAD) / ((lon1 - lon0) * kx), (HEIGHT - 2 * PAD) / (lat1 - lat0))

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return round(PAD + (lon - lon0) * kx * scale, 1), round(PAD + (lat1 - lat) * scale, 1)

    providers = [{"name": p.name, "kind_ko": labels.KIND.get(p.kind, ""), "xy": xy(p.lat, p.lon),
                  "paused": bool(p.paused_until and p.paused_until > now), "active": p.active}
                 for p in session.exec(select(Provider))]
    requests = [{"ref": r.ref, "status": r.status, "status_ko": labels.STATUS[r.status], "xy": xy(r.lat, r.lon)}
                for r in session.exec(select(CareRequest).where(col(CareRequest.status).in_([s.value for s in ACTIVE])))]
    return {"width": WIDTH, "height": HEIGHT,
            "cities": [{"name": c.name_ko, "xy": xy(c.lat, c.lon)} for c in cities],
            "providers": providers, "requests": requests}
