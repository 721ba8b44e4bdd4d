"""One-time SMS codes of online applications. The code and the phone are stored hashed. The draft
application waits here sealed with a key derived from the code (AES-GCM), and, for "send the code again"
and "change the number", the form as typed sealed after it under a key from a value only the parent's
browser holds (hotline.applications.service): nobody reading the database — nor the service itself — can
read the parent's name, number or children without something the parent holds. The sealed draft is deleted
when the code expires (the tick), or becomes the request; the row itself, kept for the hourly limits, is
deleted a day after expiry (retention)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from hotline.core.columns import ts


class VerificationCode(SQLModel, table=True):
    __tablename__ = "verification_code"

    id: int | None = Field(default=None, primary_key=True)
    phone_hash: str = Field(sa_type=String(64), index=True)  # HMAC of the E.164 number
    client: str = Field(max_length=64, index=True)
    code_hash: str = Field(max_length=64)
    sealed_draft: str | None = Field(default=None, sa_type=Text, nullable=True)  # until confirmed or expired
    attempts: int = 0
    created_at: datetime = ts(index=True)
    expires_at: datetime = ts()
    used_at: datetime | None = ts(default=None, nullable=True)
    request_id: int | None = Field(default=None, foreign_key="care_request.id")
