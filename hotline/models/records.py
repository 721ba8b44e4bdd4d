"""Tables of the provider's records. Health details live in their own table (sensitive data, PIPA art. 23),
only for requests with the guardian's separate health consent."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from hotline.core.columns import ts


class CareVisit(SQLModel, table=True):
    """The provider's side of a placement: the real check-in and check-out, and the service result."""

    __tablename__ = "care_visit"
    __table_args__ = (UniqueConstraint("request_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="care_request.id")
    provider_id: int = Field(foreign_key="provider.id", index=True)
    checked_in_at: datetime | None = ts(default=None, nullable=True)
    code_tries: int = 0  # wrong handover codes typed; check-in stops after MAX_CODE_TRIES
    checked_out_at: datetime | None = ts(default=None, nullable=True)
    # why the provider checked out before the booked end (then the placement ends at checked_out_at, while
    # the request keeps its booked end); free text, blanked by retention
    checkout_reason: str = Field(default="", max_length=300)
    result: str | None = Field(default=None, max_length=20)  # provided | partial | not_provided
    result_note: str = Field(default="", max_length=500)
    result_at: datetime | None = ts(default=None, nullable=True)


class ServiceLog(SQLModel, table=True):
    """일일 서비스 제공일지: one per request and day."""

    __tablename__ = "service_log"
    __table_args__ = (UniqueConstraint("request_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="care_request.id", index=True)
    provider_id: int = Field(foreign_key="provider.id")
    day: date
    start_time: str = Field(max_length=5)
    end_time: str = Field(max_length=5)
    activities: str = Field(default="", max_length=500)
    meals: str = Field(default="", max_length=200)
    incident: bool = False
    incident_note: str = Field(default="", max_length=500)
    notes: str = Field(default="", max_length=500)
    written_at: datetime = ts()


class HealthRecord(SQLModel, table=True):
    """Health details of a day's care (sensitive): apart from the log, read only with an access record."""

    __tablename__ = "health_record"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="care_request.id", index=True)
    service_log_id: int = Field(foreign_key="service_log.id")
    note: str = Field(max_length=500)
    written_at: datetime = ts()


class AdjustmentKind(StrEnum):
    extend = "extend"
    shorten = "shorten"
    end_early = "end_early"


class AdjustmentStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    expired = "expired"  # the care ended before anyone decided: closed, nothing changed (records.adjustments)


class Adjustment(SQLModel, table=True):
    """서비스 조정신청: the provider asks, the operator decides; approval moves the placement's end."""

    __tablename__ = "adjustment_request"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="care_request.id", index=True)
    provider_id: int = Field(foreign_key="provider.id")
    kind: AdjustmentKind = Field(sa_type=String(12))
    new_end_at: datetime = ts()
    reason: str = Field(default="", max_length=300)
    status: AdjustmentStatus = Field(default=AdjustmentStatus.pending, sa_type=String(10), index=True)
    created_at: datetime = ts()
    decided_at: datetime | None = ts(default=None, nullable=True)
    decided_by: str | None = Field(default=None, max_length=80)
