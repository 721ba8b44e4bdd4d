"""Offers of a request to a provider and the confirmed placements (assignments) they turn into."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from hotline.core.columns import ts


class OfferStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    expired = "expired"
    withdrawn = "withdrawn"  # by the system: another provider's accept came first, or the request closed
    retracted = "retracted"  # accepted, then the provider withdrew or did not turn up (counts against it)
    released = "released"  # accepted, then the operator moved the child or the plan changed (nobody's fault)


class Offer(SQLModel, table=True):
    # created_at: the day's effect reads the centre's offers of the last hours at every wave (offers.history)
    __table_args__ = (Index("ix_offer_status_expires", "status", "expires_at"),
                      Index("ix_offer_created_at", "created_at"))

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
    # the provider's odds when asked, before the day's effect (hotline.offers.history), so later waves can
    # tell how today differs; and what this offer added to the chance of a confirmation by the target
    odds_accept: float | None = None
    odds_answer: float | None = None
    odds_mu: float | None = None
    chance_gain: float | None = None


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
