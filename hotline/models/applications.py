"""One-time SMS codes of online applications. The code and the phone are stored hashed; the draft
application waits here until the code is confirmed, and the row is deleted a day after it expires."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from hotline.core.columns import json_field, ts


class VerificationCode(SQLModel, table=True):
    __tablename__ = "verification_code"

    id: int | None = Field(default=None, primary_key=True)
    phone_hash: str = Field(sa_type=String(64), index=True)  # HMAC of the E.164 number
    client: str = Field(max_length=64, index=True)
    code_hash: str = Field(max_length=64)
    draft: dict[str, Any] = json_field(dict)  # the application as typed, until the code is confirmed
    attempts: int = 0
    created_at: datetime = ts(index=True)
    expires_at: datetime = ts()
    used_at: datetime | None = ts(default=None, nullable=True)
    request_id: int | None = Field(default=None, foreign_key="care_request.id")
