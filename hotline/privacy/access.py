"""The PIPA access record: every read of a request's personal data and every reveal of a guardian's number is
a row in `access_log` (kept `Settings.access_log_days`)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from hotline.core.phones import national
from hotline.models import AccessLog, CareRequest, Guardian


def log_access(session: Session, *, actor: str, action: str, request: CareRequest | None, now: datetime) -> None:
    session.add(AccessLog(at=now, actor=actor, action=action, request_id=request.id if request else None))


def reveal_guardian_phone(session: Session, request: CareRequest, *, actor: str, now: datetime) -> str:
    """The full number, for an operator calling the parent back; every reveal is an access record."""
    log_access(session, actor=actor, action="reveal_guardian_phone", request=request, now=now)
    return national(session.get(Guardian, request.guardian_id).phone)
