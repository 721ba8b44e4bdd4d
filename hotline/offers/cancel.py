"""Cancelling a request: by the guardian or an operator. Its pending offers are withdrawn and the placement
is freed; everyone involved is told."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from hotline.core.clock import fmt_window
from hotline.requests.intake import active_assignment
from hotline.requests.lifecycle import RequestStatus, transition
from hotline.models import (CareRequest, Guardian, Provider)
from hotline.sms.outbox import enqueue

from hotline.offers.loop import withdraw_others


def release_for_cancel(session: Session, request: CareRequest, *, now: datetime) -> None:
    """A cancelled request withdraws its pending offers and frees the placement; everyone is told."""
    withdraw_others(session, request, keep=None, now=now)
    assignment = active_assignment(session, request)
    if assignment is not None:
        assignment.active = False
        session.add(assignment)
        provider = session.get(Provider, assignment.provider_id)
        enqueue(session, to=provider.phone, kind="cancel_provider", lang=provider.language, now=now,
                request_id=request.id, window=fmt_window(request.start_at, request.end_at, provider.language))
    guardian = session.get(Guardian, request.guardian_id)
    enqueue(session, to=guardian.phone, kind="cancel_ack", lang=guardian.language, now=now, request_id=request.id,
            window=fmt_window(request.start_at, request.end_at, guardian.language))


def cancel_request(session: Session, request: CareRequest, *, actor: str, now: datetime, reason: str) -> None:
    """Cancel by guardian or operator. Offers and the placement are released by the offer loop."""
    transition(session, request, RequestStatus.cancelled, actor=actor, at=now, reason=reason or "취소")
    release_for_cancel(session, request, now=now)
    request.needs_attention = False
    session.add(request)
