"""Places: what operators pick instead of typing coordinates (prefix search over Gyeonggi's 시·군·구·동)."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import GeocoderDep, Staff

router = APIRouter(prefix="/v1/places", tags=["places"])


class PlacePublic(BaseModel):
    code: str
    level: str
    name_ko: str
    name_en: str
    lat: float
    lon: float


@router.get("", response_model=list[PlacePublic])
def search_places(q: Annotated[str, Query(min_length=1, max_length=40, examples=["평택시 비"])],
                  geocoder: GeocoderDep, user: Staff) -> list[PlacePublic]:
    return [PlacePublic.model_validate(p, from_attributes=True) for p in geocoder.search(q)]
