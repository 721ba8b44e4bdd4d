"""The call and what it is about: the guardian (caller), the care request with its state, the children,
and the append-only event log of every move."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from hotline.core.columns import json_field, ts


class RequestStatus(StrEnum):
    """The states of a request; the moves between them are `hotline.requests.lifecycle`'s table."""

    received = "received"
    matching = "matching"
    offered = "offered"
    confirmed = "confirmed"
    in_care = "in_care"
    completed = "completed"
    cancelled = "cancelled"
    unmatched = "unmatched"


class Reason(StrEnum):
    illness = "illness"
    family_event = "family_event"
    business_trip = "business_trip"
    other = "other"


class Need(StrEnum):
    infant = "infant"
    special_needs = "special_needs"


class Language(StrEnum):
    ko = "ko"
    en = "en"


class Guardian(SQLModel, table=True):
    """The caller. One row per phone number so opt-outs and aftercare follow the person."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60)
    phone: str = Field(sa_column=Column(String(20), unique=True, nullable=False))  # E.164
    language: Language = Field(default=Language.ko, sa_type=String(2))
    created_at: datetime = ts()


class CareRequest(SQLModel, table=True):
    __tablename__ = "care_request"
    __table_args__ = (Index("ix_care_request_status_start", "status", "start_at"),)

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(sa_column=Column(String(20), unique=True, nullable=False))
    guardian_id: int = Field(foreign_key="guardian.id", index=True)
    status: RequestStatus = Field(default=RequestStatus.received, sa_type=String(16))
    reason: Reason = Field(sa_type=String(16))
    notes: str = Field(default="", max_length=500)
    start_at: datetime = ts()
    end_at: datetime = ts()
    address: str = Field(max_length=200)
    place_code: str | None = Field(default=None, max_length=80, index=True)
    city_ko: str | None = Field(default=None, max_length=20, index=True)
    lat: float
    lon: float
    # how precise lat/lon are: address | coordinates | dong | gu | city (hotline.places.locate); the last
    # three are the offline point of the place, shown as "동 단위 위치"; NULL on rows from before issue 22
    location_precision: str | None = Field(default=None, max_length=12)
    needs: list[str] = json_field()
    language: Language = Field(default=Language.ko, sa_type=String(2))
    # PIPA: consent on the call (when, which operator); health notes only with their own consent
    consent_at: datetime = ts()
    consent_by: str = Field(max_length=64)
    health_consent: bool = False
    health_notes: str | None = Field(default=None, max_length=500)
    idempotency_key: str | None = Field(default=None, sa_column=Column(String(100), unique=True, nullable=True))
    payload_hash: str | None = Field(default=None, max_length=64)
    offer_rounds: int = 0
    # when the offer loop next looks at an offered request to ask more providers (see hotline.offers.policy)
    next_wave_at: datetime | None = ts(default=None, nullable=True, index=True)
    needs_attention: bool = False  # an operator should look (escalated, undeliverable SMS, …)
    attention_reason: str | None = Field(default=None, max_length=200)
    survey_score: int | None = None
    reminded_at: datetime | None = ts(default=None, nullable=True)
    survey_sent_at: datetime | None = ts(default=None, nullable=True)
    purged_at: datetime | None = ts(default=None, nullable=True)  # personal data destroyed (retention)
    # care fell through after a confirmation: the offer loop's clock restarts here, at the top urgency
    fell_through_at: datetime | None = ts(default=None, nullable=True)
    # nobody checked in by the start plus a few minutes: the provider was texted and the board raised it
    no_show_at: datetime | None = ts(default=None, nullable=True)
    created_by: str = Field(max_length=64)
    created_at: datetime = ts()
    updated_at: datetime = ts()


class Child(SQLModel, table=True):
    """Only what matching and care need: a first name and a birth date."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="care_request.id", index=True)
    first_name: str = Field(max_length=30)
    birth_date: date


class RequestEvent(SQLModel, table=True):
    """Append-only log of every state change and notable event of a request."""

    __tablename__ = "request_event"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="care_request.id", index=True)
    at: datetime = ts()
    actor: str = Field(max_length=80)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    reason: str = Field(default="", max_length=300)
    detail: dict[str, Any] = json_field(dict)
