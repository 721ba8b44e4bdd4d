"""Tables of the official's forms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from hotline.core.columns import json_field, ts


class ReferralForm(SQLModel, table=True):
    """서비스 제공의뢰서: one per request, written (and rewritten) by or for the referring official."""

    __tablename__ = "referral_form"
    __table_args__ = (UniqueConstraint("request_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="care_request.id")
    official_name: str = Field(max_length=40)
    official_org: str = Field(max_length=80)
    official_phone: str = Field(default="", max_length=20)
    service_kind: str = Field(max_length=20)  # facility | visiting
    needs_summary: str = Field(default="", max_length=500)
    consent_confirmed: bool = False  # the guardian's consent checked by the official
    written_by: str = Field(max_length=80)
    written_at: datetime = ts()


class SiteVisit(SQLModel, table=True):
    """현장확인 체크리스트: a visit to where the care happens; several per request are possible."""

    __tablename__ = "site_visit"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="care_request.id", index=True)
    visited_at: datetime = ts()
    visitor: str = Field(max_length=40)
    checks: dict[str, bool] = json_field(dict)
    findings: str = Field(default="", max_length=1000)
    written_by: str = Field(max_length=80)
    written_at: datetime = ts()
