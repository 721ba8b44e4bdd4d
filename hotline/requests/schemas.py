"""The care request's API schemas: what an operator or the parent's form sends (strict: unknown fields are
refused) and what callers get back, with the offers and placements shown on a request."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator

from hotline.core.patterns import KR_MOBILE, NOT_BLANK, YEARS_1990_2100, date_pattern, datetime_pattern
from hotline.core.scalars import DateString, DateTimeString, Number, YesNo
from hotline.core.schemas import ChildName, Name, PublicModel, Strict
from hotline.models import Language, Need, OfferStatus, Reason, RequestStatus


class GuardianIn(Strict):
    name: Name
    phone: str = Field(max_length=30, examples=["010-1234-5678"], json_schema_extra={"pattern": KR_MOBILE},
                       description="휴대전화 (문자 수신) / a mobile that can receive text messages")
    language: Language = Language.ko


SaneDate = Annotated[DateString, Field(ge=date(1990, 1, 1), le=date(2100, 12, 31),
                                 json_schema_extra={"pattern": date_pattern(YEARS_1990_2100)})]


def _sane_year(value: datetime) -> datetime:
    # far-off years overflow when converted between time zones; nobody books care for them
    if not 2000 <= value.year <= 2100:
        raise ValueError("year must be between 2000 and 2100")
    return value


class ChildIn(Strict):
    first_name: ChildName
    birth_date: SaneDate


class LocationIn(Strict):
    """Either a known place (`평택시 비전동`, a place code) or explicit coordinates; the address text is kept
    for the provider who accepts."""

    address: Annotated[str, Field(min_length=1, max_length=200)]
    place: str | None = Field(default=None, max_length=80, examples=["평택시 비전동"])
    lat: Number | None = Field(default=None, ge=-90, le=90)
    lon: Number | None = Field(default=None, ge=-180, le=180)


class ConsentIn(Strict):
    """Recorded on the call: the guardian's consent to process the children's data (PIPA, under 14s) and,
    separately, consent for health information (sensitive)."""

    # the schema admits only true: false is refused with a message that says why (422), never stored
    guardian_consent: YesNo = Field(json_schema_extra={"const": True},
                                   description="보호자 동의 없이는 접수하지 않습니다 / required: the request is refused without it")
    health_consent: YesNo = False


class CareRequestCreate(Strict):
    guardian: GuardianIn
    children: list[ChildIn] = Field(min_length=1, max_length=5)
    reason: Reason
    notes: str = Field(default="", max_length=500)
    start_at: DateTimeString = Field(description="돌봄 시작 (시간대가 없으면 서울 시각) / care start, RFC 3339 with its "
                                                 "offset; one sent without is read as Seoul time. Refused (422) if "
                                                 "already past or too far ahead",
                               json_schema_extra={"pattern": datetime_pattern()})
    end_at: DateTimeString = Field(description="돌봄 종료 / care end: after start_at, within the longest window (422)",
                             json_schema_extra={"pattern": datetime_pattern()})
    location: LocationIn
    needs: list[Need] = Field(default_factory=list, max_length=5)
    language: Language = Language.ko
    consent: ConsentIn
    health_notes: str | None = Field(default=None, max_length=500)

    _years = field_validator("start_at", "end_at")(_sane_year)

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            # health notes (anything but white space) need the separate health consent, else 422
            "if": {"properties": {"health_notes": {"type": "string", "pattern": NOT_BLANK}}, "required": ["health_notes"]},
            "then": {"properties": {"consent": {"properties": {"health_consent": {"const": True}},
                                                "required": ["health_consent"]}}},
            "examples": [
                {
                    "guardian": {"name": "김하늘", "phone": "010-5550-1234", "language": "ko"},
                    "children": [
                        {"first_name": "서윤", "birth_date": "2021-03-14"},
                        {"first_name": "도윤", "birth_date": "2017-05-02"},
                    ],
                    "reason": "illness",
                    "notes": "보호자 갑작스러운 입원",
                    "start_at": "2026-11-24T09:00:00+09:00",
                    "end_at": "2026-11-24T18:00:00+09:00",
                    "location": {"address": "평택시 비전동 123-4", "place": "평택시 비전동"},
                    "needs": [],
                    "language": "ko",
                    "consent": {"guardian_consent": True, "health_consent": False},
                }
            ]
        },
    )


class CareRequestCancel(Strict):
    reason: str = Field(default="", max_length=300)
    by: str = Field(default="operator", pattern="^(operator|guardian)$")

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra={"examples": [{"reason": "보호자 일정 변경", "by": "guardian"}]})


class ChildPublic(PublicModel):
    first_name: str
    birth_date: date
    age_years: int


class GuardianPublic(PublicModel):
    name: str
    phone_masked: str
    language: Language


class EventPublic(PublicModel):
    at: datetime
    actor: str
    from_status: str | None
    to_status: str
    reason: str
    detail: dict[str, Any] = {}


class OfferPublic(PublicModel):
    id: int
    request_ref: str
    provider_id: int
    round: int
    rank: int
    status: OfferStatus
    distance_km: float | None
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None
    window: str
    children_ages: list[int]
    needs: list[str]
    district: str | None


class AssignmentPublic(PublicModel):
    request_ref: str
    provider_id: int
    provider_name: str
    start_at: datetime
    end_at: datetime
    children: int


class CareRequestPublic(PublicModel):
    id: int
    ref: str
    status: RequestStatus
    status_label: str
    reason: Reason
    notes: str
    start_at: datetime
    end_at: datetime
    address: str
    place_code: str | None
    city_ko: str | None
    lat: float
    lon: float
    location_precision: str | None = Field(
        default=None, examples=["dong"],
        description="how precise lat/lon are: address (the street geocoder's point), coordinates (given), or "
                    "dong / gu / city (the offline point of the place: '동 단위 위치')")
    needs: list[str]
    language: Language
    guardian: GuardianPublic
    children: list[ChildPublic]
    consent_at: datetime
    consent_by: str
    health_consent: bool
    has_health_notes: bool
    offer_rounds: int
    needs_attention: bool
    attention_reason: str | None
    assignment: AssignmentPublic | None = None
    offers: list[OfferPublic] = []
    events: list[EventPublic] = []
    explanation: dict[str, Any] | None = None
    created_at: datetime


class CareRequestSummary(PublicModel):
    id: int
    ref: str
    status: RequestStatus
    status_label: str
    start_at: datetime
    end_at: datetime
    city_ko: str | None
    place_code: str | None
    district: str | None = None
    children: int
    needs: list[str]
    needs_attention: bool
    created_at: datetime
