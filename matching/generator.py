"""Seeded instances shaped like Gyeonggi (and the whole country for size L).

People cluster in cities (weighted by population) and in a few neighbourhoods per city.
Facilities take 5-30 children, open 07:00-22:00 (some 09:00-20:00) and already have after-school
children in the afternoon; visiting caregivers work shifts, take one household of up to 2-3
children and need two hours' notice. Requests: 1-3 children, windows of 2-10 h, some infant and
special needs, many starting in the 17:00-19:00 rush. Times are Unix-epoch minutes (UTC) of a day
in June 2025; `tz_offset_min` = 540 (KST).

Sizes: S = one city (28 providers, 40 requests), M = province peak (600, 300), Mc = M with short
capacity (contended), L = nationwide peak (5,000, 2,000); C600 / C1000 = 600 / 1,000 requests on
200 / 300 providers, 85 % of them caregivers, facilities nearly full (contention); XL = (10,000, 4,000).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .types import Commitment, Interval, Location, Problem, Provider, Request

DAY0 = 29146500  # 2025-06-02 00:00 KST in Unix-epoch minutes
NOW = DAY0 + 7 * 60  # the batch is planned at 07:00


def at(hh: float) -> int:
    """Minutes on the generator's axis for a local clock time (hours may exceed 24)."""
    return DAY0 + int(round(hh * 60))


# name, lat, lon, population in 10,000s
GYEONGGI = [
    ("Suwon", 37.2636, 127.0286, 119), ("Yongin", 37.2411, 127.1776, 108), ("Goyang", 37.6584, 126.8320, 107),
    ("Hwaseong", 37.1995, 126.8312, 95), ("Seongnam", 37.4200, 127.1265, 92), ("Bucheon", 37.5034, 126.7660, 78),
    ("Namyangju", 37.6360, 127.2165, 73), ("Ansan", 37.3219, 126.8309, 63), ("Pyeongtaek", 36.9921, 127.1129, 59),
    ("Anyang", 37.3943, 126.9568, 54), ("Siheung", 37.3800, 126.8029, 52), ("Paju", 37.7599, 126.7800, 50),
    ("Gimpo", 37.6153, 126.7156, 48), ("Uijeongbu", 37.7381, 127.0337, 46), ("Gwangju-GG", 37.4294, 127.2551, 39),
    ("Hanam", 37.5393, 127.2148, 33), ("Gwangmyeong", 37.4786, 126.8646, 28), ("Gunpo", 37.3617, 126.9352, 26),
    ("Yangju", 37.7853, 127.0458, 25), ("Osan", 37.1499, 127.0774, 23), ("Icheon", 37.2723, 127.4350, 22),
    ("Anseong", 37.0080, 127.2797, 19), ("Guri", 37.5943, 127.1296, 19), ("Uiwang", 37.3448, 126.9683, 16),
    ("Pocheon", 37.8949, 127.2003, 15), ("Yangpyeong", 37.4917, 127.4876, 12), ("Yeoju", 37.2983, 127.6374, 11),
    ("Dongducheon", 37.9036, 127.0606, 9), ("Gwacheon", 37.4292, 126.9876, 8), ("Gapyeong", 37.8315, 127.5105, 6),
    ("Yeoncheon", 38.0966, 127.0748, 4),
]
KOREA = GYEONGGI + [
    ("Seoul", 37.5665, 126.9780, 940), ("Busan", 35.1796, 129.0756, 330), ("Incheon", 37.4563, 126.7052, 300),
    ("Daegu", 35.8714, 128.6014, 237), ("Daejeon", 36.3504, 127.3845, 145), ("Gwangju", 35.1595, 126.8526, 143),
    ("Ulsan", 35.5384, 129.3114, 110), ("Changwon", 35.2281, 128.6811, 101), ("Cheongju", 36.6424, 127.4890, 85),
    ("Cheonan", 36.8151, 127.1139, 66), ("Jeonju", 35.8242, 127.1480, 65), ("Gimhae", 35.2285, 128.8894, 53),
    ("Pohang", 36.0190, 129.3435, 50), ("Jeju", 33.4996, 126.5312, 49), ("Gumi", 36.1195, 128.3446, 41),
    ("Sejong", 36.4800, 127.2890, 39), ("Wonju", 37.3422, 127.9202, 36), ("Asan", 36.7898, 127.0018, 34),
    ("Jinju", 35.1800, 128.1076, 34), ("Chuncheon", 37.8813, 127.7298, 29), ("Suncheon", 34.9506, 127.4872, 28),
    ("Yeosu", 34.7604, 127.6622, 27), ("Iksan", 35.9483, 126.9576, 27), ("Gyeongju", 35.8562, 129.2247, 25),
    ("Mokpo", 34.8118, 126.3922, 22), ("Gangneung", 37.7519, 128.8761, 21), ("Chungju", 36.9910, 127.9259, 21),
]
PYEONGTAEK = [c for c in GYEONGGI if c[0] == "Pyeongtaek"]


@dataclass(frozen=True)
class Spec:
    cities: tuple
    n_providers: int
    n_requests: int
    seed: int
    contended: bool = False
    caregiver_share: float = 0.25
    fill: tuple[float, float] = (0.3, 0.7)  # share of a facility's places taken by regulars in the afternoon
    rush: float = 0.4  # share of requests starting 17:00-19:00


SIZES = {
    "S": Spec(tuple(PYEONGTAEK), 28, 40, seed=11),
    "M": Spec(tuple(GYEONGGI), 600, 300, seed=22),
    "Mc": Spec(tuple(GYEONGGI), 600, 300, seed=33, contended=True, fill=(0.95, 1.0), rush=0.6),
    "L": Spec(tuple(KOREA), 5000, 2000, seed=44),
    # Scarce capacity, mostly visiting caregivers, three requests per provider or more.
    "C600": Spec(tuple(GYEONGGI), 200, 600, seed=55, contended=True, caregiver_share=0.85, fill=(0.95, 1.0), rush=0.6),
    "C1000": Spec(tuple(GYEONGGI), 300, 1000, seed=66, contended=True, caregiver_share=0.85, fill=(0.95, 1.0),
                  rush=0.6),
    "XL": Spec(tuple(KOREA), 10000, 4000, seed=77),
}


class _Geo:
    """Cities with a few neighbourhoods each; samples points weighted by population."""

    def __init__(self, cities, rng: np.random.Generator):
        self.rng = rng
        self.hoods: list[tuple[float, float, float]] = []  # lat, lon, spread km
        weights = []
        for _, lat, lon, pop in cities:
            k = int(min(6, 1 + pop // 30))
            spread = 1.5 + math.sqrt(pop) / 3.0
            for _ in range(k):
                dlat, dlon = self._offset(lat, spread)
                self.hoods.append((lat + dlat, lon + dlon, 0.8 + math.sqrt(pop) / 8.0))
                weights.append(pop / k)
        w = np.asarray(weights, dtype=float)
        self.p = w / w.sum()

    def _offset(self, lat: float, sd_km: float) -> tuple[float, float]:
        dx, dy = self.rng.normal(0.0, sd_km, 2)
        return dy / 110.9, dx / (111.32 * math.cos(math.radians(lat)))

    def point(self) -> Location:
        lat, lon, sd = self.hoods[int(self.rng.choice(len(self.hoods), p=self.p))]
        dlat, dlon = self._offset(lat, sd)
        return Location(round(lat + dlat, 6), round(lon + dlon, 6))


def _languages(rng) -> frozenset[str]:
    langs = {"ko"}
    for lang, p in (("en", 0.10), ("vi", 0.05), ("zh", 0.05)):
        if rng.random() < p:
            langs.add(lang)
    return frozenset(langs)


def _facility(i: int, rng, geo: _Geo, spec: Spec) -> Provider:
    contended = spec.contended
    cap = int(rng.integers(5, 31))
    kind = rng.random()
    if kind < 0.6:
        min_age, max_age, skills = 6, 12, set()  # 다함께돌봄센터 / 지역아동센터
    elif kind < 0.8:
        min_age, max_age, skills = 0, 7, {"infant"}
    else:
        min_age, max_age, skills = 0, 12, ({"infant"} if rng.random() < 0.5 else set())
    if rng.random() < 0.15:
        skills.add("special_needs")
    hours = (7, 22) if rng.random() < 0.8 else (9, 20)
    # After-school regulars fill part of the afternoon and evening.
    fill = rng.uniform(*spec.fill)
    coms = []
    a = int(round(cap * fill * 0.6))
    b = int(round(cap * fill)) - a
    if a > 0:
        coms.append(Commitment(at(13), at(18), a))
    if b > 0:
        coms.append(Commitment(at(15 + rng.integers(0, 2)), at(19 + (2 if contended else rng.integers(0, 2))), b))
    if rng.random() < 0.3:
        coms.append(Commitment(at(9), at(12), int(rng.integers(1, max(2, cap // 3)))))
    radius = float(rng.choice([5.0, 3.0, 8.0], p=[0.7, 0.15, 0.15]))
    return Provider(
        id=f"F{i:04d}", kind="facility", location=geo.point(), capacity=cap,
        availability=(Interval(at(hours[0]), at(hours[1])),), commitments=tuple(coms),
        min_age=min_age, max_age=max_age, skills=frozenset(skills), languages=_languages(rng), radius_km=radius,
    )


SHIFTS = [(7, 15), (9, 18), (12, 22), (14, 24), (7, 22)]


def _caregiver(i: int, rng, geo: _Geo, contended: bool) -> Provider:
    home = geo.point()
    s, e = SHIFTS[int(rng.integers(0, len(SHIFTS)))]
    coms = []
    n_visits = int(rng.integers(0, 3 if contended else 2))
    t = s + 1.0
    for _ in range(n_visits):
        length = float(rng.choice([2, 3, 4]))
        if t + length > e:
            break
        lat = home.lat + rng.normal(0, 0.02)
        lon = home.lon + rng.normal(0, 0.025)
        coms.append(Commitment(at(t), at(t + length), int(rng.integers(1, 3)), Location(round(lat, 6), round(lon, 6))))
        t += length + 1.5 + float(rng.integers(0, 3))
    skills = set()
    if rng.random() < 0.5:
        skills.add("infant")
    if rng.random() < 0.1:
        skills.add("special_needs")
    return Provider(
        id=f"C{i:04d}", kind="caregiver", location=home, capacity=int(rng.choice([2, 3], p=[0.6, 0.4])),
        availability=(Interval(at(s), at(e)),), commitments=tuple(coms), min_age=0, max_age=12,
        skills=frozenset(skills), languages=_languages(rng), radius_km=10.0,
    )


def _request(i: int, rng, geo: _Geo, now: int, spec: Spec) -> Request:
    contended = spec.contended
    from . import urgency_priority

    u = rng.random()
    rush = spec.rush
    if u < 0.3:
        start = now + 30 + int(rng.integers(0, 121))
    elif u < 0.3 + rush:
        start = at(17 + rng.uniform(0, 2))
    else:
        start = at(rng.uniform(9, 20))
    start = int(math.ceil(start / 15) * 15)
    length = float(rng.choice([2, 3, 4, 5, 6, 8, 10], p=[0.2, 0.2, 0.2, 0.12, 0.12, 0.1, 0.06])) * 60
    late = at(22) if rng.random() < 0.8 else at(24)
    end = int(min(start + length, max(late, start + 120)))
    n = int(rng.choice([1, 2, 3], p=[0.45, 0.35, 0.2] if contended else [0.6, 0.3, 0.1]))
    ages = tuple(sorted(int(a) for a in rng.integers(0, 13, n)))
    needs = set()
    if min(ages) < 2:
        needs.add("infant")
    if rng.random() < 0.05:
        needs.add("special_needs")
    lang = str(rng.choice(["ko", "en", "vi", "zh"], p=[0.95, 0.02, 0.02, 0.01]))
    return Request(id=f"R{i:04d}", child_ages=ages, start=start, end=end, location=geo.point(),
                   needs=frozenset(needs), language=lang, priority=urgency_priority(start, now))


def generate(size: str = "S", seed: int | None = None, **overrides) -> Problem:
    """A seeded instance of the named size; `overrides` replace Spec fields (n_providers, ...)."""
    spec = replace(SIZES[size], **overrides)
    if seed is not None:
        spec = replace(spec, seed=seed)
    rng = np.random.default_rng(spec.seed)
    geo = _Geo(spec.cities, rng)
    n_care = int(round(spec.n_providers * spec.caregiver_share))
    providers = [_facility(i, rng, geo, spec) for i in range(spec.n_providers - n_care)]
    providers += [_caregiver(i, rng, geo, spec.contended) for i in range(n_care)]
    requests = [_request(i, rng, geo, NOW, spec) for i in range(spec.n_requests)]
    return Problem(requests=requests, providers=tuple(providers), now=NOW)


def more_requests(size: str, n: int, seed: int, first_id: int = 10000) -> list[Request]:
    """Requests that call in later, from the same geography as `size` (for incremental runs)."""
    spec = SIZES[size]
    geo = _Geo(spec.cities, np.random.default_rng(spec.seed))  # same neighbourhoods
    geo.rng = np.random.default_rng(seed)
    return [_request(first_id + i, geo.rng, geo, NOW, spec) for i in range(n)]
