"""The offer loop: offers to providers, their answers, expiry and the resulting placements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from hotline.config import Settings
from hotline.geo import PlaceTable
from hotline.models import Assignment, CareRequest, Offer, OfferStatus


@dataclass
class OfferContext:
    """What the offer loop needs besides a session and the time: settings and the place table."""

    settings: Settings
    places: PlaceTable


def start_matching(session: Session, request: CareRequest, *, now: datetime, ctx: OfferContext | None) -> None:
    """Called at intake, inside the intake transaction. The offer loop is wired in by the offer-loop issue."""


def release_for_cancel(session: Session, request: CareRequest, *, now: datetime, ctx: OfferContext | None = None) -> None:
    """A cancelled request withdraws its pending offers and frees the provider's capacity."""
    for offer in session.exec(select(Offer).where(Offer.request_id == request.id, Offer.status == OfferStatus.pending)):
        offer.status, offer.answered_at, offer.answer_channel = OfferStatus.withdrawn, now, "system"
        session.add(offer)
    assignment = session.exec(select(Assignment).where(Assignment.request_id == request.id)).first()
    if assignment and assignment.active:
        assignment.active = False
        session.add(assignment)
