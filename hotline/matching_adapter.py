"""Bridge between the hotline's rows and the pure `matching` library (filled in by the offer loop)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from hotline.models import CareRequest, RequestEvent


def last_explanation(session: Session, request: CareRequest) -> dict[str, Any] | None:
    """The newest solver explanation recorded for this request, for the console."""
    event = session.exec(
        select(RequestEvent).where(RequestEvent.request_id == request.id, RequestEvent.reason.like("match%"))
        .order_by(col(RequestEvent.id).desc())
    ).first()
    return (event.detail or {}).get("explanation") if event else None
