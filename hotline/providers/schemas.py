"""The provider registry's API schemas: registration (Create), partial change (Update), what staff see
(Public) and a provider's commitments on a day."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator

from hotline.core.patterns import KR_MOBILE
from hotline.core.scalars import DateString, Number, WholeNumber, YesNo
from hotline.core.schemas import ProviderName, PublicModel, Strict
from hotline.models import Language, Need, ProviderKind
from hotline.requests.schemas import AssignmentPublic, OfferPublic


HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")  # ASCII digits: \d takes any script's
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# what the document says of the two rules above; that a span starts before it ends, it cannot say (422)
PHONE_SCHEMA = {"pattern": KR_MOBILE, "description": "휴대전화 (문자 수신) / a mobile that can receive text messages"}
HOURS_SCHEMA = {
    "propertyNames": {"enum": list(DAYS)},
    "additionalProperties": {"type": "array", "items": {
        "type": "array", "minItems": 2, "maxItems": 2,
        "items": {"type": "string", "pattern": "^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"}}},
    "description": "요일별 [시작, 끝] (시작 < 끝) / per day, [start, end] spans with start < end",
}


def _check_hours(value: dict[str, list[list[str]]] | None) -> dict[str, list[list[str]]] | None:
    if value is None:
        return value
    for day, spans in value.items():
        if day not in DAYS:
            raise ValueError(f"unknown day '{day}' (use {', '.join(DAYS)})")
        for span in spans:
            if len(span) != 2 or not all(HHMM.match(t) for t in span) or span[0] >= span[1]:
                raise ValueError(f"{day}: {span} must be [\"HH:MM\", \"HH:MM\"] with start < end")
    return value


class ProviderBase(Strict):
    kind: ProviderKind
    name: ProviderName
    phone: str = Field(max_length=30, json_schema_extra=PHONE_SCHEMA)
    address: Annotated[str, Field(min_length=1, max_length=200)]
    capacity: WholeNumber = Field(ge=1, le=200, description="facility: children at once; caregiver: children per household")
    min_age: WholeNumber = Field(default=0, ge=0, le=12)
    max_age: WholeNumber = Field(default=12, ge=0, le=12)
    skills: list[Need] = Field(default_factory=list)
    languages: list[Language] = Field(default_factory=lambda: [Language.ko], min_length=1)
    radius_km: Number = Field(default=5.0, gt=0, le=50)
    weekly_hours: dict[str, list[list[str]]] = Field(default_factory=dict, json_schema_extra=HOURS_SCHEMA)
    closures: list[DateString] = Field(default_factory=list)
    language: Language = Language.ko

    _hours = field_validator("weekly_hours")(_check_hours)


class ProviderCreate(ProviderBase):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,39}$", examples=["pt-f29"])
    place: str | None = Field(default=None, max_length=80, examples=["평택시 비전동"])
    lat: Number | None = Field(default=None, ge=-90, le=90)
    lon: Number | None = Field(default=None, ge=-180, le=180)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "pt-f29",
                    "kind": "facility",
                    "name": "비전동 다함께돌봄센터 3호점",
                    "phone": "010-5550-0199",
                    "address": "평택시 비전동 45-6",
                    "place": "평택시 비전동",
                    "capacity": 15,
                    "min_age": 6,
                    "max_age": 12,
                    "skills": [],
                    "languages": ["ko"],
                    "radius_km": 5,
                    "weekly_hours": {d: [["07:00", "22:00"]] for d in DAYS[:5]},
                    "closures": ["2026-12-25"],
                }
            ]
        },
    )


def _omitted(schema: dict[str, Any] | None = None, **constraints: Any) -> Any:
    """A PATCH field that may be left out but never sent as null: every column it changes is NOT NULL, and
    a stored null once broke the provider list and all matching (issue 9, defect 2). `schema`: what the
    document says of it besides the constraints."""

    def document(field_schema: dict[str, Any]) -> None:
        field_schema.pop("default", None)
        field_schema.update(schema or {})

    return Field(default=None, json_schema_extra=document, **constraints)


class ProviderUpdate(Strict):
    """Every field optional: only what is sent changes. A field sent as null is refused (422)."""

    name: ProviderName = _omitted()
    phone: str = _omitted(PHONE_SCHEMA, max_length=30)
    address: str = _omitted(min_length=1, max_length=200)
    capacity: WholeNumber = _omitted(ge=1, le=200)
    min_age: WholeNumber = _omitted(ge=0, le=12)
    max_age: WholeNumber = _omitted(ge=0, le=12)
    skills: list[Need] = _omitted()
    languages: list[Language] = _omitted(min_length=1)
    radius_km: Number = _omitted(gt=0, le=50)
    weekly_hours: dict[str, list[list[str]]] = _omitted(HOURS_SCHEMA)
    closures: list[DateString] = _omitted()
    active: YesNo = _omitted()
    language: Language = _omitted()

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"capacity": 20, "closures": ["2026-12-31"]}]})

    _hours = field_validator("weekly_hours")(_check_hours)


class ProviderPublic(PublicModel):
    id: int
    code: str
    kind: ProviderKind
    name: str
    phone: str
    address: str
    place_code: str | None
    lat: float
    lon: float
    capacity: int
    min_age: int
    max_age: int
    skills: list[str]
    languages: list[str]
    radius_km: float
    weekly_hours: dict[str, list[list[str]]]
    closures: list[str]
    active: bool
    paused_until: datetime | None


class CommitmentsPublic(PublicModel):
    provider_id: int
    date: date
    assignments: list[AssignmentPublic]
    pending_offers: list[OfferPublic]
