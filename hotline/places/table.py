"""Reading a written place against the gazetteer. "경기도 수원시 영통구 매탄3동 123-4", "수원 매탄동",
"영통구매탄동", "매탄동" and "suwon.yeongtong-gu.maetan-dong" all name one 동: the text is compared without
spaces, and every reading (with or without a city, a 구, a 읍·면·동) is tried; the reading that covers the most
of the text wins. Two places read equally well are a choice the caller must put to the person (신흥동 is in
성남시 and 의정부시); a word that looks like a place but names none (없는동) is reported, not guessed."""

from __future__ import annotations

import copy
import re
from collections import defaultdict

from hotline.places.boundaries import index as area_index
from hotline.places.gazetteer import Gazetteer
from hotline.places.model import Match, Place
from hotline.places.names import compact, legal_form, rank_suffix_swap, starts_like

PROVINCE_PREFIXES = ("경기도", "경기")
# a reading may not stop inside a name: what follows it must not begin with a unit of one
_UNIT_START = tuple("시군구동읍면")
# a whole word that looks like a 읍·면·동 name ("없는동", "아무읍") but matched nothing
_PLACE_WORD = re.compile(r"^[가-힣]{1,10}?(?:제?\d{1,2})?(동|읍|면)$")
_LEVEL_ORDER = {"city": 0, "county": 0, "gu": 1, "dong": 2}


def _short(city_ko: str) -> str:
    return city_ko[:-1] if city_ko.endswith(("시", "군")) and len(city_ko) > 2 else city_ko


class PlaceTable:
    """The geocoder interface over the gazetteer (`lookup`, `get`, `search`, `places`), plus `find` (the
    reading with its choices) and `reverse` (the 동 that holds a coordinate)."""

    street = None  # a hotline.places.street.StreetGeocoder, when settings configure one (with_street)

    def __init__(self, gaz: Gazetteer, province: str = "경기도"):
        self.province = province
        self.gazetteer = gaz
        self.places: list[Place] = gaz.cities + gaz.gus + gaz.dongs
        self.by_code: dict[str, Place] = {p.code: p for p in self.places + gaz.aliases}
        self.by_code.update(gaz.alias_codes)
        self._city: dict[str, Place] = {}
        for c in gaz.cities:
            en = c.name_en.lower()
            for name in (c.city_ko, _short(c.city_ko), c.code, compact(en), en.split()[0]):
                self._city[compact(name)] = c
        for name, c in gaz.city_aliases.items():
            self._city.setdefault(compact(name), c)
        self._gu: dict[str, list[Place]] = defaultdict(list)
        for g in gaz.gus:
            self._gu[compact(g.gu_ko)].append(g)
        self._dong: dict[str, list[Place]] = defaultdict(list)
        for d in gaz.dongs + gaz.aliases:
            self._dong[d.dong_ko].append(d)
            if (other := rank_suffix_swap(d.dong_ko)) and d not in self._dong[other]:
                self._dong[other].append(d)
        self._longest_dong = max(len(k) for k in self._dong)
        self._keys = self._search_keys()

    # --- reading a written place ------------------------------------------------------------------

    def find(self, text: str, *, strict: bool = True) -> Match:
        """Read `text`. strict: a leftover word that looks like a 읍·면·동 name makes the reading unknown
        (the place field); otherwise (an address) the best reading stands and the rest is the street."""
        raw = (text or "").strip()
        exact = self.by_code.get(raw) or self.by_code.get(raw.lower())
        if exact is not None:
            return Match(place=exact)
        positions: list[int] = []  # compact index → index in raw
        for i, ch in enumerate(raw):
            positions += [i] * len(compact(ch))
        q = "".join(compact(ch) for ch in raw)
        if not q:
            return Match(unknown=raw)
        start = 0
        for prefix in PROVINCE_PREFIXES:
            if q.startswith(prefix) and len(q) > len(prefix):
                start = len(prefix)
                break
        best_end, best = start, []
        for end, places in self._readings(q, start):
            if end > best_end:
                best_end, best = end, list(places)
            elif end == best_end and end > start:
                best += [p for p in places if p not in best]
        rest = raw[positions[best_end]:].strip() if best_end < len(q) else ""
        word = rest.split()[0] if rest else ""
        if not best or (strict and _PLACE_WORD.match(word)):
            return Match(unknown=word or raw, rest=rest, choices=best if len(best) > 1 else [])
        if len(best) > 1:
            return Match(choices=sorted(best, key=lambda p: p.code), rest=rest)
        return Match(place=best[0], rest=rest)

    def _readings(self, q: str, start: int):
        """(end, places) for every way a prefix of q[start:] reads as [city] [구] [읍·면·동]."""
        cities: list[tuple[Place | None, int]] = [(None, start)]
        cities += [(c, start + len(k)) for k, c in self._city.items() if k and q.startswith(k, start)]
        for city, i in cities:
            gus: list[tuple[Place | None, int]] = [(None, i)]
            gus += [(g, i + len(k)) for k, found in self._gu.items() if q.startswith(k, i)
                    for g in found if city is None or g.city_ko == city.city_ko]
            for gu, j in gus:
                for dongs, k in self._dongs_at(q, j, city, gu):
                    if k < len(q) and q[k] in _UNIT_START:
                        continue  # stopped inside a longer name ("평택" of "평택동")
                    if dongs:
                        yield k, dongs
                    elif gu is not None:
                        yield k, [gu]
                    elif city is not None:
                        yield k, [city]

    def _dongs_at(self, q: str, j: int, city: Place | None, gu: Place | None):
        yield [], j
        seen = set()
        for length in range(min(self._longest_dong, len(q) - j), 1, -1):
            name = q[j:j + length]
            if name in self._dong:
                seen.add(name)
                if found := self._in_scope(self._dong[name], city, gu):
                    yield found, j + length
        numbered = legal_form(q[j:])  # 매탄3동 → 매탄동
        if numbered and numbered[0] in self._dong:
            if found := self._in_scope(self._dong[numbered[0]], city, gu):
                yield found, j + numbered[1]

    @staticmethod
    def _in_scope(dongs: list[Place], city: Place | None, gu: Place | None) -> list[Place]:
        return [d for d in dongs if (city is None or d.city_ko == city.city_ko)
                and (gu is None or (d.city_ko == gu.city_ko and d.gu_ko in ("", gu.gu_ko)))]

    def with_street(self, street) -> "PlaceTable":
        """This table with a street-address geocoder (the cached table itself stays offline)."""
        twin = copy.copy(self)
        twin.street = street
        return twin

    # --- the geocoder interface -------------------------------------------------------------------

    def lookup(self, query: str, *, strict: bool = True) -> Place | None:
        """The one place `query` names, or None (unknown or a choice: `find` tells which)."""
        return self.find(query, strict=strict).place

    def get(self, code: str) -> Place | None:
        return self.by_code.get(code)

    def reverse(self, lat: float, lon: float) -> Place | None:
        """The 읍·면·동 whose boundary holds the point (None outside the province)."""
        area = area_index(self.province).at(lat, lon)
        return self.gazetteer.by_legal.get(area.code) if area else None

    # --- suggestions as a name is typed -----------------------------------------------------------

    def _search_keys(self) -> list[tuple[str, Place]]:
        keys: list[tuple[str, Place]] = []
        for p in self.places + self.gazetteer.aliases:
            short = _short(p.city_ko)
            forms = {p.city_ko, short} if p.level in ("city", "county") else set()
            if p.level == "gu":
                forms |= {p.gu_ko, p.city_ko + p.gu_ko, short + p.gu_ko}
            if p.level == "dong":
                for dong in {p.dong_ko, rank_suffix_swap(p.dong_ko) or p.dong_ko}:
                    forms |= {dong, p.city_ko + dong, short + dong}
                    if p.gu_ko:
                        forms |= {p.gu_ko + dong, p.city_ko + p.gu_ko + dong, short + p.gu_ko + dong}
            keys += [(compact(f), p) for f in forms]
        return keys

    def search(self, prefix: str, limit: int = 10) -> list[Place]:
        """Places whose name begins as typed: "매탄", "수원 영통구 매", "ㅁㅌ" (초성), "매탄3" (a 행정동 number
        dropped); 시·군 and 구 before 동, the closest to the typed length first."""
        q = compact(prefix)
        for province in PROVINCE_PREFIXES:
            if q.startswith(province) and len(q) > len(province):
                q = q[len(province):]
                break
        q = re.sub(r"(?<=[가-힣])제?\d{1,2}(?=동|가|$)", "", q)
        if not q:
            return []
        hits: dict[str, tuple[tuple, Place]] = {}
        for key, place in self._keys:
            if starts_like(key, q):
                rank = (key != q, _LEVEL_ORDER[place.level], len(key), place.name_ko)
                if place.code not in hits or rank < hits[place.code][0]:
                    hits[place.code] = (rank, place)
        return [p for _, p in sorted(hits.values(), key=lambda h: h[0])][:limit]
