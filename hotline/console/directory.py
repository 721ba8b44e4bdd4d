"""The providers directory as operators see it: each provider with one day's load (children placed), opening
hours that day, closed or paused, and where it is."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from hotline.console import labels
from hotline.core.clock import local_day_bounds
from hotline.models import Assignment, Offer, OfferStatus, Provider
from hotline.places.geo import Geocoder


def day_rows(session: Session, geocoder: Geocoder, the_day: date, *, q: str, now: datetime) -> list[dict[str, Any]]:
    lo, hi = local_day_bounds(the_day)
    load: dict[int, int] = {}
    for a in session.exec(select(Assignment).where(Assignment.active == True, Assignment.start_at < hi,  # noqa: E712
                                                   Assignment.end_at > lo)):
        load[a.provider_id] = load.get(a.provider_id, 0) + a.children
    weekday = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][the_day.weekday()]
    # its record: care it confirmed and then withdrew from or did not turn up for, in the last 90 days
    fell = Counter(session.exec(select(Offer.provider_id).where(Offer.status == OfferStatus.retracted,
                                                                Offer.created_at >= now - timedelta(days=90))))
    rows: list[dict[str, Any]] = []
    for p in session.exec(select(Provider).order_by(col(Provider.name))):
        place = geocoder.get(p.place_code) if p.place_code else None
        area = place.name_ko if place else ""
        if q and q not in p.name and q not in area and q not in p.address:
            continue
        hours = ", ".join(f"{a}–{b}" for a, b in p.weekly_hours.get(weekday, []))
        closed = the_day.isoformat() in p.closures or not hours
        rows.append({"name": p.name, "kind_ko": labels.KIND.get(p.kind, ""), "area": area, "phone": p.phone,
                     "capacity": p.capacity, "ages": f"{p.min_age}–{p.max_age}세", "radius": p.radius_km,
                     "skills": labels.needs(p.skills), "load": load.get(p.id, 0), "hours": hours or "휴무",
                     "closed": closed, "active": p.active, "id": p.id, "fell_through": fell.get(p.id, 0),
                     "paused_until": p.paused_until if p.paused_until and p.paused_until > now else None})
    return rows
