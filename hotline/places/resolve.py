"""A written place as the one place it names, or a refusal that names the field: a name found in several
places lists them (the person picks one), a name found nowhere says so. Korean first, English second."""

from __future__ import annotations

from hotline.core.errors import FieldProblem, InvalidInput
from hotline.places.model import Match, Place
from hotline.core.korean import quoted_with_particle


def problem_for(match: Match, text: str, field: str) -> FieldProblem | None:
    """None when `match` names one place; otherwise the field problem to show."""
    if match.place is not None:
        return None
    if match.ambiguous:
        names = [p.name_ko for p in match.choices]
        shown = ", ".join(names[:8]) + (f" 외 {len(names) - 8}곳" if len(names) > 8 else "")
        shown_en = ", ".join(p.name_en for p in match.choices[:8]) + (
            f" and {len(names) - 8} more" if len(names) > 8 else "")
        return FieldProblem(field, f"{quoted_with_particle(text, '은/는')} 여러 곳에 있습니다: {shown}. 시·군·구를 붙여 하나를 골라 주세요.",
                            f"'{text}' names several places: {shown_en}. Add the city or district to pick one.",
                            choices=names)
    word = match.unknown or text
    if word and word != text.strip():
        return FieldProblem(field, f"'{text}'에서 {quoted_with_particle(word, '을/를')} 찾을 수 없습니다. 경기도의 시·군·구·읍·면·동 이름을 확인해 주세요.",
                            f"'{word}' in '{text}' is not a place in Gyeonggi. Check the city, district or dong name.")
    return FieldProblem(field, f"'{text}' 지역을 찾을 수 없습니다. 경기도의 시·군 또는 구·읍·면·동 이름을 입력해 주세요.",
                        f"Unknown place '{text}'. Give a city/county or district/dong name in Gyeonggi.")


def place_for(geocoder, text: str, field: str, *, strict: bool = True) -> Place:
    """The place `text` names, or InvalidInput(field) with the choices or the unknown word."""
    match = geocoder.find(text, strict=strict)
    if (problem := problem_for(match, text, field)) is not None:
        raise InvalidInput(problem)
    return match.place
