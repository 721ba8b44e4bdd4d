"""Places: what people pick instead of typing coordinates. `/v1/places` is the staff API's search over
Gyeonggi's 시·군·구·읍·면·동; `/places/suggest` feeds the place comboboxes (console new call and edit, the
parents' /apply): public, because the names of the province's places are no one's personal data."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from api.deps import GeocoderDep, Staff

router = APIRouter(tags=["places"])


class PlacePublic(BaseModel):
    code: str
    level: str
    name_ko: str
    name_en: str
    lat: float
    lon: float


@router.get("/v1/places", response_model=list[PlacePublic])
def search_places(q: Annotated[str, Query(min_length=1, max_length=40, examples=["평택시 비"])],
                  geocoder: GeocoderDep, user: Staff) -> list[PlacePublic]:
    return [PlacePublic.model_validate(p, from_attributes=True) for p in geocoder.search(q)]


@router.get("/places/suggest", response_model=list[PlacePublic], include_in_schema=False)
def suggest_places(q: Annotated[str, Query(max_length=40)], geocoder: GeocoderDep, response: Response,
                   limit: Annotated[int, Query(ge=1, le=20)] = 8) -> list[PlacePublic]:
    """Up to `limit` 시·군·구 and 읍·면·동 whose names begin as typed (초성 too: ㅁㅌ → 매탄동)."""
    response.headers["Cache-Control"] = "public, max-age=3600"  # the same for everyone until a redeploy
    return [PlacePublic.model_validate(p, from_attributes=True) for p in geocoder.search(q, limit=limit)]
