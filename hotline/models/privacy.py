"""The PIPA access record: who read whose personal data, and when."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from hotline.core.columns import ts


class AccessLog(SQLModel, table=True):
    """Who viewed a child's or guardian's personal data (PIPA access record)."""

    __tablename__ = "access_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = ts()
    actor: str = Field(max_length=80)
    action: str = Field(max_length=40)
    request_id: int | None = Field(default=None, index=True)
