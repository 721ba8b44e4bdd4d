"""Table models: what the hotline stores. API schemas (Create/Public/Update) live in `hotline.schemas`.

Datetimes are stored in UTC (naive on SQLite, timestamptz on PostgreSQL) and always read back aware."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, String, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel

from hotline.clock import UTC
from hotline.lifecycle import RequestStatus


class UTCDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database; convert with clock.as_utc first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def json_field(default_factory: Any = list) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))


class Role(StrEnum):
    operator = "operator"
    admin = "admin"
    provider = "provider"


class Reason(StrEnum):
    illness = "illness"
    family_event = "family_event"
    business_trip = "business_trip"
    other = "other"


class Need(StrEnum):
    infant = "infant"
    special_needs = "special_needs"


class ProviderKind(StrEnum):
    facility = "facility"
    caregiver = "caregiver"


class Language(StrEnum):
    ko = "ko"
    en = "en"


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    full_name: str = ""
    password_hash: str
    role: Role = Field(sa_type=String(16))
    provider_id: int | None = Field(default=None, foreign_key="provider.id")
    active: bool = True


class Guardian(SQLModel, table=True):
    """The caller. One row per phone number so opt-outs and aftercare follow the person."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60)
    phone: str = Field(sa_column=Column(String(20), unique=True, nullable=False))  # E.164
    language: Language = Field(default=Language.ko, sa_type=String(2))
    created_at: datetime = ts()


class Provider(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(40), unique=True, nullable=False))
    kind: ProviderKind = Field(sa_type=String(16))
    name: str = Field(max_length=100)
    phone: str = Field(max_length=20)  # E.164
    address: str = Field(max_length=200)
    place_code: str | None = Field(default=None, max_length=80, index=True)
    lat: float
    lon: float
    capacity: int
    min_age: int = 0
    max_age: int = 12
    skills: list[str] = json_field()
    languages: list[str] = json_field(lambda: ["ko"])
    radius_km: float = 5.0
    # {"mon": [["07:00", "22:00"]], ...}: local Seoul times, "24:00" allowed as an end
    weekly_hours: dict[str, list[list[str]]] = json_field(dict)
    closures: list[str] = json_field()  # ISO dates, local
    active: bool = True
    paused_until: datetime | None = ts(default=None, nullable=True)
    missed_offers: int = 0  # offers in a row left to expire; reset by any answer
    language: Language = Field(default=Language.ko, sa_type=String(2))  # for SMS
    created_at: datetime = ts()
    updated_at: datetime = ts()


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
    # when the offer loop next looks at an offered request to ask more providers (see hotline.offer_policy)
    next_wave_at: datetime | None = ts(default=None, nullable=True, index=True)
    needs_attention: bool = False  # an operator should look (escalated, undeliverable SMS, …)
    attention_reason: str | None = Field(default=None, max_length=200)
    survey_score: int | None = None
    reminded_at: datetime | None = ts(default=None, nullable=True)
    survey_sent_at: datetime | None = ts(default=None, nullable=True)
    purged_at: datetime | None = ts(default=None, nullable=True)  # personal data destroyed (retention)
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


class OfferStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    expired = "expired"
    withdrawn = "withdrawn"


class Offer(SQLModel, table=True):
    __table_args__ = (Index("ix_offer_status_expires", "status", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="care_request.id", index=True)
    provider_id: int = Field(foreign_key="provider.id", index=True)
    round: int = 1
    status: OfferStatus = Field(default=OfferStatus.pending, sa_type=String(16))
    distance_km: float | None = None
    rank: int = 1
    created_at: datetime = ts()
    expires_at: datetime = ts()
    answered_at: datetime | None = ts(default=None, nullable=True)
    answer_channel: str | None = Field(default=None, max_length=10)  # sms | link | system
    # short code in the offer SMS ("1 A7") so a provider with several offers answers the one meant
    reply_code: str = Field(default="", max_length=4)


class Assignment(SQLModel, table=True):
    """A confirmed placement: it uses the provider's capacity from start to end."""

    __table_args__ = (UniqueConstraint("request_id"), Index("ix_assignment_provider_time", "provider_id", "start_at"))

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="care_request.id")
    provider_id: int = Field(foreign_key="provider.id")
    offer_id: int | None = Field(default=None, foreign_key="offer.id")
    start_at: datetime = ts()
    end_at: datetime = ts()
    children: int
    handover_code: str = Field(max_length=4)
    active: bool = True
    created_at: datetime = ts()


class AccessLog(SQLModel, table=True):
    """Who viewed a child's or guardian's personal data (PIPA access record)."""

    __tablename__ = "access_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = ts()
    actor: str = Field(max_length=80)
    action: str = Field(max_length=40)
    request_id: int | None = Field(default=None, index=True)


class OutboxStatus(StrEnum):
    pending = "pending"  # to send (again) at next_attempt_at
    sending = "sending"  # handed to the SMS provider; if we crash now, reconcile before resending
    sent = "sent"  # accepted by the SMS provider (sid known)
    delivered = "delivered"
    undelivered = "undelivered"
    failed = "failed"  # permanent error: an operator must act
    suppressed = "suppressed"  # recipient opted out


class OutboxMessage(SQLModel, table=True):
    """One SMS to send, written in the same transaction as the state change that caused it."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_status_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    to: str = Field(max_length=20)
    body: str = Field(max_length=1600)
    kind: str = Field(max_length=30)
    language: str = Field(default="ko", max_length=2)
    request_id: int | None = Field(default=None, foreign_key="care_request.id", index=True)
    offer_id: int | None = Field(default=None, foreign_key="offer.id")
    status: OutboxStatus = Field(default=OutboxStatus.pending, sa_type=String(12))
    attempts: int = 0
    next_attempt_at: datetime = ts()
    attempt_started_at: datetime | None = ts(default=None, nullable=True)
    expires_at: datetime | None = ts(default=None, nullable=True)  # stale offers are not sent late
    sid: str | None = Field(default=None, sa_column=Column(String(40), unique=True, nullable=True))
    provider_status: str | None = Field(default=None, max_length=20)
    error: str | None = Field(default=None, max_length=300)
    created_at: datetime = ts()
    sent_at: datetime | None = ts(default=None, nullable=True)


class InboundMessage(SQLModel, table=True):
    """Inbound SMS, keyed by the provider's MessageSid: a retried webhook is handled once."""

    __tablename__ = "inbound_message"

    id: int | None = Field(default=None, primary_key=True)
    sid: str = Field(sa_column=Column(String(40), unique=True, nullable=False))
    from_number: str = Field(max_length=20)
    body: str = Field(max_length=1600)
    handled_as: str = Field(default="", max_length=30)
    received_at: datetime = ts()


class OptOut(SQLModel, table=True):
    """A phone number that replied STOP (or 수신거부) and has not said START since."""

    __tablename__ = "opt_out"

    phone: str = Field(sa_column=Column(String(20), primary_key=True))
    at: datetime = ts()


class SignInAttempt(SQLModel, table=True):
    """A sign-in attempt not known to have succeeded. The throttle counts them per username and client
    address, and per address, here rather than in memory: every worker sees the same count and a restart
    does not reset it (see hotline.security.LoginThrottle)."""

    __tablename__ = "sign_in_attempt"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, index=True)
    client: str = Field(max_length=64, index=True)
    at: datetime = ts(index=True)


class EarlyStatus(SQLModel, table=True):
    """A delivery-status callback for a sid no outbox row carries yet: Twilio can call back before our
    send() has returned and the sid is recorded. Applied when it is (hotline.outbox)."""

    __tablename__ = "early_status"

    id: int | None = Field(default=None, primary_key=True)
    sid: str = Field(max_length=40, index=True)
    status: str = Field(max_length=20)
    error_code: str | None = Field(default=None, max_length=10)
    received_at: datetime = ts()


class ConsoleSession(SQLModel, table=True):
    """A signed-in console browser. The cookie holds a random token; only its SHA-256 is stored, so a
    database reader cannot sign in with it. Sign-out (or an admin) sets `revoked_at`: the same cookie is
    refused from then on, in every worker (hotline.console.sessions)."""

    __tablename__ = "console_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = ts()
    expires_at: datetime = ts()
    revoked_at: datetime | None = ts(default=None, nullable=True)


# the capability packages keep their own tables; importing them here registers them with the metadata
import hotline.aftercare.models  # noqa: E402,F401
import hotline.applications.models  # noqa: E402,F401
import hotline.records.models  # noqa: E402,F401
import hotline.forms.models  # noqa: E402,F401
