"""What a place look-up returns: a `Place` (a 시·군, a 구 or a 읍·면·동 with a point inside it) and a `Match`
(the one place a written name means, the several it may mean, or the word that named nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Place:
    code: str  # ours: "suwon", "suwon.yeongtong-gu", "suwon.yeongtong-gu.maetan-dong"
    level: str  # city | county | gu | dong (a 읍·면·동)
    city_ko: str
    district_ko: str  # "영통구", "영통구 매탄동", "비전동"; "" for a city
    name_ko: str  # "수원시 영통구 매탄동"
    name_en: str
    lat: float
    lon: float
    gu_ko: str = ""
    dong_ko: str = ""  # the 읍·면·동 as written on this place (a 행정동 alias keeps its own name)
    legal_code: str = ""  # the 법정동 code of the 읍·면·동 (or 시·군·구) whose boundary holds the point


@dataclass
class Match:
    """One written place, read: `place` when it names one, `choices` when it could be several (신흥동),
    `unknown` when a word that looks like a place name (없는동) names none; `rest` is what followed the
    name (a street and number)."""

    place: Place | None = None
    choices: list[Place] = field(default_factory=list)
    unknown: str | None = None
    rest: str = ""

    @property
    def ambiguous(self) -> bool:
        return self.place is None and len(self.choices) > 1
