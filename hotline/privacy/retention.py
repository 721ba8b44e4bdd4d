"""Retention (PIPA: destroy without delay what is no longer needed). Some time after care ends, a request's
personal data is destroyed: children's names and exact birth dates, the street address, notes, health
notes, the texts sent about it; a guardian with nothing left open loses name and number. What remains is
what the monthly figures need (dates, district, status, score). STOP preferences are kept."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from hotline.models import (AccessLog, Adjustment, CareRequest, CareVisit, Child, FollowUpCase, Guardian, HealthRecord,
                            InboundMessage, OutboxMessage, ReferralForm, RequestStatus, ServiceLog, SiteVisit,
                            VerificationCode)

GONE = "(삭제됨)"
FINISHED = (RequestStatus.completed, RequestStatus.cancelled, RequestStatus.unmatched)


def purge(session: Session, *, now: datetime, retention_days: int, access_log_days: int) -> int:
    cutoff = now - timedelta(days=retention_days)
    due = session.exec(select(CareRequest).where(col(CareRequest.status).in_([s.value for s in FINISHED]),
                                                 CareRequest.end_at < cutoff, CareRequest.purged_at == None)).all()  # noqa: E711
    guardians = set()
    for request in due:
        for child in session.exec(select(Child).where(Child.request_id == request.id)):
            child.first_name = GONE
            child.birth_date = date(child.birth_date.year, 1, 1)  # the year is enough for age statistics
            session.add(child)
        request.address = request.city_ko or GONE
        request.notes, request.health_notes, request.idempotency_key = "", None, None
        request.lat, request.lon = round(request.lat, 2), round(request.lon, 2)
        request.purged_at = now
        session.add(request)
        session.exec(update(OutboxMessage).where(OutboxMessage.request_id == request.id)
                     .values(body=GONE, to=GONE))
        guardians.add(request.guardian_id)
        purge_records(session, request.id)  # provider logs, health records, follow-up notes
    session.flush()
    for guardian_id in guardians:
        still_open = session.exec(select(CareRequest.id).where(CareRequest.guardian_id == guardian_id,
                                                               CareRequest.purged_at == None)).first()  # noqa: E711
        if still_open is None:
            guardian = session.get(Guardian, guardian_id)
            session.exec(delete(InboundMessage).where(InboundMessage.from_number == guardian.phone))
            guardian.name, guardian.phone = GONE, f"del-{guardian.id}"
            session.add(guardian)
    session.exec(delete(AccessLog).where(AccessLog.at < now - timedelta(days=access_log_days)))
    purge_codes(session, now=now)  # online applications' one-time codes and unconfirmed drafts
    return len(due)


def purge_records(session: Session, request_id: int) -> None:
    _purge_provider_records(session, request_id)  # provider logs, health records
    _purge_forms(session, request_id)
    session.exec(update(FollowUpCase).where(FollowUpCase.request_id == request_id).values(note=""))


def _purge_provider_records(session: Session, request_id: int) -> None:
    """Retention: the log's free text goes with the request's personal data; health records are deleted."""
    session.exec(delete(HealthRecord).where(HealthRecord.request_id == request_id))
    session.exec(update(ServiceLog).where(ServiceLog.request_id == request_id)
                 .values(activities="", meals="", notes="", incident_note=""))
    session.exec(update(CareVisit).where(CareVisit.request_id == request_id).values(result_note="", checkout_reason=""))
    session.exec(update(Adjustment).where(Adjustment.request_id == request_id).values(reason=""))


def _purge_forms(session: Session, request_id: int) -> None:
    """Retention: free text and the official's contact go with the request's personal data."""
    session.exec(update(ReferralForm).where(ReferralForm.request_id == request_id)
                 .values(needs_summary="", official_phone=""))
    session.exec(update(SiteVisit).where(SiteVisit.request_id == request_id).values(findings=""))


def purge_codes(session: Session, *, now: datetime) -> None:
    """Codes and unconfirmed drafts are gone a day after they expire (retention)."""
    cutoff = now - timedelta(days=1)
    session.exec(delete(VerificationCode).where(col(VerificationCode.expires_at) < cutoff))
    session.exec(update(OutboxMessage).where(OutboxMessage.kind == "apply_code", col(OutboxMessage.created_at) < cutoff)
                 .values(body="(삭제됨)"))
