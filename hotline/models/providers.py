"""Registered providers: care facilities (N children at once) and visiting caregivers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, text
from sqlmodel import Field, SQLModel

from hotline.core.columns import json_field, ts
from hotline.models.requests import Language


class ProviderKind(StrEnum):
    facility = "facility"
    caregiver = "caregiver"


class Provider(SQLModel, table=True):
    __table_args__ = (
        # who can reach a call (hotline.offers.reach, issue 23): read from the index alone, a band of latitude
        # as wide as the largest radius (the second index), not the whole table with its JSON columns
        Index("ix_provider_reach", "lat", postgresql_include=["lon", "radius_km", "id", "paused_until", "phone"],
              postgresql_where=text("active"), sqlite_where=text("active")),
        Index("ix_provider_radius", "radius_km", postgresql_where=text("active"), sqlite_where=text("active")),
    )
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(40), unique=True, nullable=False))
    kind: ProviderKind = Field(sa_type=String(16))
    name: str = Field(max_length=100)
    phone: str = Field(max_length=20, index=True)  # E.164; an inbound SMS finds its provider by it
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
    # bumped by every workspace link sent: a link signed for an older version no longer opens (issue 18)
    workspace_link_version: int = 0
    language: Language = Field(default=Language.ko, sa_type=String(2))  # for SMS
    created_at: datetime = ts()
    updated_at: datetime = ts()
