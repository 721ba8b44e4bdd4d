"""The province-wide demo (issue 22): invented providers in every 시·군 besides Pyeongtaek (which has its 28
from data/demo_providers.json), at real 읍·면·동 points, and one invented call per 시·군 for the demo day.

Providers are placed so that every 읍·면·동 of a city lies within COVER_KM of one of them: the first near the
city office, then each next at the 동 farthest from those already placed, as a centre would open branches.
Each city's call comes from its 동 farthest from the city office — where the old city-office table put
people 15–20 km from home. So a demo-day call ends unmatched only for a real shortage (every suitable
provider busy or asked), never because the demo has nobody within reach. All names and numbers invented."""

from __future__ import annotations

import math
from datetime import date

from hotline.places.geo import Place, PlaceTable

COVER_KM = 7.0  # below every provider's radius: a 동 point is always within some provider's reach
MAX_PER_CITY = 8
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = ["서연", "민준", "지우", "하은", "도윤", "수아", "예준", "지호", "서윤", "주원", "하린", "시우", "지안", "유진"]
CHILD = ["하준", "서아", "이안", "로아", "은우", "아린", "선우", "다온", "지율", "채원"]


def _km(a: Place, b: Place) -> float:
    dy = (a.lat - b.lat) * 111.32
    dx = (a.lon - b.lon) * 111.32 * math.cos(math.radians((a.lat + b.lat) / 2))
    return math.hypot(dx, dy)


def branches(places: PlaceTable, city: Place) -> list[Place]:
    """The 동 where the city's demo providers sit (farthest-point cover, see the module's doc)."""
    dongs = [p for p in places.places if p.level == "dong" and p.city_ko == city.city_ko]
    chosen = [min(dongs, key=lambda d: _km(d, city))]
    while len(chosen) < MAX_PER_CITY:
        far = max(dongs, key=lambda d: min(_km(d, c) for c in chosen))
        if min(_km(far, c) for c in chosen) <= COVER_KM:
            break
        chosen.append(far)
    return chosen


def _cities(places: PlaceTable) -> list[Place]:
    return [c for c in places.places if c.level in ("city", "county") and c.city_ko != "평택시"]


def province_providers(places: PlaceTable) -> list[dict]:
    """ProviderCreate payloads: per city a facility near the city office, then home caregivers."""
    rows = []
    for ci, city in enumerate(_cities(places)):
        for n, dong in enumerate(branches(places, city)):
            facility = n == 0
            who = SURNAMES[(ci + n) % len(SURNAMES)] + GIVEN[(ci * 3 + n) % len(GIVEN)]
            rows.append({
                "code": f"gg-{city.code}-{n + 1}",
                "kind": "facility" if facility else "caregiver",
                "name": f"{dong.dong_ko} 다함께돌봄센터" if facility else f"{dong.dong_ko} 아이돌보미 {who}",
                "phone": f"010-58{ci:02d}-{1000 + n * 37:04d}",
                "address": f"{dong.name_ko} {10 + n * 7}-{ci + 1}",
                "place": dong.code, "lat": round(dong.lat, 6), "lon": round(dong.lon, 6),
                "capacity": 15 if facility else 3,
                "min_age": 6 if facility else 0, "max_age": 12,
                "skills": ["special_needs"] if facility and ci % 3 == 0 else (["infant"] if n % 2 else []),
                "languages": ["ko", "en"] if ci % 4 == 0 else ["ko"],
                "radius_km": 10.0 if facility else 8.0,
                "weekly_hours": ({d: [["07:00", "22:00"]] for d in EVERY_DAY[:5]} | {"sat": [["09:00", "18:00"]]}
                                 if facility else {d: [["07:00", "21:00"]] for d in EVERY_DAY}),
                "closures": [],
            })
    return rows


def province_calls(places: PlaceTable, day: date) -> list[dict]:
    """Scenario entries (data/demo_scenario.json's shape) for the demo day: one call per city, from its 동
    farthest from the city office, daytime, children of school age (both kinds of provider take them)."""
    calls = []
    for ci, city in enumerate(_cities(places)):
        dongs = [p for p in places.places if p.level == "dong" and p.city_ko == city.city_ko]
        far = max(dongs, key=lambda d: _km(d, city))
        start = 9 + ci % 6
        calls.append({
            "guardian": {"name": SURNAMES[ci % len(SURNAMES)] + GIVEN[(ci * 5 + 2) % len(GIVEN)],
                         "phone": f"010-59{ci:02d}-{2000 + ci * 13:04d}", "language": "ko"},
            "children": [{"first_name": CHILD[ci % len(CHILD)], "age_years": 6 + ci % 5}],
            "reason": ["illness", "business_trip", "family_event", "other"][ci % 4],
            "notes": "", "start": f"{start:02d}:00", "end": f"{start + 5:02d}:00",
            "place": far.name_ko, "address": f"{far.name_ko} {ci + 3}-{ci + 11}",
            "needs": [], "language": "ko", "health_notes": None,
        })
    return calls
