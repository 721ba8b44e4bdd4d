"""Follow-up case table."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from hotline.core.columns import ts


class CaseStatus(StrEnum):
    open = "open"
    closed = "closed"


class FollowUpCase(SQLModel, table=True):
    """One follow-up per request and source (a survey score, an incident); the operator closes it with a note."""

    __tablename__ = "follow_up_case"
    __table_args__ = (UniqueConstraint("request_id", "source"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="care_request.id", index=True)
    source: str = Field(max_length=20)  # survey | incident
    reason: str = Field(max_length=300)
    status: CaseStatus = Field(default=CaseStatus.open, sa_type=String(10))
    opened_at: datetime = ts()
    due_at: datetime = ts(index=True)
    closed_at: datetime | None = ts(default=None, nullable=True)
    closed_by: str | None = Field(default=None, max_length=80)
    note: str = Field(default="", max_length=500)
