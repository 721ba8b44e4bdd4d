"""API schemas: what callers send (Create/Update, strict: unknown fields are refused) and what they get
back (Public). Table models stay in `hotline.models`."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_serializer, field_validator
from pydantic_core import PydanticCustomError

from hotline.clock import local
from hotline.lifecycle import RequestStatus
from hotline.models import Language, Need, OfferStatus, ProviderKind, Reason, Role


def _holds_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(arg) for arg in get_args(annotation))


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any, info: ValidationInfo) -> Any:
        # PostgreSQL cannot store a NUL character in text, and nobody types one (issue 9, defect 5);
        # a nested model checks its own fields, so the error names the innermost one
        if not _holds_model(cls.model_fields[info.field_name].annotation) and _has_nul(value):
            raise PydanticCustomError("nul_character", "must not contain a NUL (\\x00) character")
        return value


class PublicModel(BaseModel):
    """Datetimes leave the API in Seoul time (+09:00): people read them."""

    model_config = ConfigDict(from_attributes=True)

    @field_serializer("*", when_used="json")
    def _seoul(self, value: Any) -> Any:
        return local(value).isoformat() if isinstance(value, datetime) else value


Name = Annotated[str, Field(min_length=1, max_length=60)]
T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# --- care requests -------------------------------------------------------------------------------------

class GuardianIn(Strict):
    name: Name
    phone: str = Field(max_length=30, examples=["010-1234-5678"])
    language: Language = Language.ko


SaneDate = Annotated[date, Field(ge=date(1990, 1, 1), le=date(2100, 12, 31))]


def _sane_year(value: datetime) -> datetime:
    # far-off years overflow when converted between time zones; nobody books care for them
    if not 2000 <= value.year <= 2100:
        raise ValueError("year must be between 2000 and 2100")
    return value


class ChildIn(Strict):
    first_name: Annotated[str, Field(min_length=1, max_length=30)]
    birth_date: SaneDate


class LocationIn(Strict):
    """Either a known place (`평택시 비전동`, a place code) or explicit coordinates; the address text is kept
    for the provider who accepts."""

    address: Annotated[str, Field(min_length=1, max_length=200)]
    place: str | None = Field(default=None, max_length=80, examples=["평택시 비전동"])
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class ConsentIn(Strict):
    """Recorded on the call: the guardian's consent to process the children's data (PIPA, under 14s) and,
    separately, consent for health information (sensitive)."""

    guardian_consent: bool
    health_consent: bool = False


class CareRequestCreate(Strict):
    guardian: GuardianIn
    children: list[ChildIn] = Field(min_length=1, max_length=5)
    reason: Reason
    notes: str = Field(default="", max_length=500)
    start_at: datetime = Field(description="돌봄 시작 (시간대가 없으면 서울 시각) / care start; naive = Seoul time")
    end_at: datetime
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


# --- providers -----------------------------------------------------------------------------------------

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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
    name: Annotated[str, Field(min_length=1, max_length=100)]
    phone: str = Field(max_length=30)
    address: Annotated[str, Field(min_length=1, max_length=200)]
    capacity: int = Field(ge=1, le=200, description="facility: children at once; caregiver: children per household")
    min_age: int = Field(default=0, ge=0, le=12)
    max_age: int = Field(default=12, ge=0, le=12)
    skills: list[Need] = Field(default_factory=list)
    languages: list[Language] = Field(default_factory=lambda: [Language.ko], min_length=1)
    radius_km: float = Field(default=5.0, gt=0, le=50)
    weekly_hours: dict[str, list[list[str]]] = Field(default_factory=dict)
    closures: list[date] = Field(default_factory=list)
    language: Language = Language.ko

    _hours = field_validator("weekly_hours")(_check_hours)


class ProviderCreate(ProviderBase):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,39}$", examples=["pt-f29"])
    place: str | None = Field(default=None, max_length=80, examples=["평택시 비전동"])
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

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


def _omitted(**constraints: Any) -> Any:
    """A PATCH field that may be left out but never sent as null: every column it changes is NOT NULL, and
    a stored null once broke the provider list and all matching (issue 9, defect 2)."""
    return Field(default=None, json_schema_extra=lambda schema: schema.pop("default", None), **constraints)


class ProviderUpdate(Strict):
    """Every field optional: only what is sent changes. A field sent as null is refused (422)."""

    name: str = _omitted(min_length=1, max_length=100)
    phone: str = _omitted(max_length=30)
    address: str = _omitted(min_length=1, max_length=200)
    capacity: int = _omitted(ge=1, le=200)
    min_age: int = _omitted(ge=0, le=12)
    max_age: int = _omitted(ge=0, le=12)
    skills: list[Need] = _omitted()
    languages: list[Language] = _omitted(min_length=1)
    radius_km: float = _omitted(gt=0, le=50)
    weekly_hours: dict[str, list[list[str]]] = _omitted()
    closures: list[date] = _omitted()
    active: bool = _omitted()
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


# --- auth ----------------------------------------------------------------------------------------------

class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: Role


class UserPublic(PublicModel):
    username: str
    full_name: str
    role: Role
    provider_id: int | None
