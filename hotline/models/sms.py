"""Texts: the outbox (written in the transaction that causes them), inbound messages (deduplicated by sid),
opt-outs, and delivery callbacks that arrive before their send is recorded."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from hotline.core.columns import ts


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


class EarlyStatus(SQLModel, table=True):
    """A delivery-status callback for a sid no outbox row carries yet: Twilio can call back before our
    send() has returned and the sid is recorded. Applied when it is (hotline.sms.outbox)."""

    __tablename__ = "early_status"

    id: int | None = Field(default=None, primary_key=True)
    sid: str = Field(max_length=40, index=True)
    status: str = Field(max_length=20)
    error_code: str | None = Field(default=None, max_length=10)
    received_at: datetime = ts()
