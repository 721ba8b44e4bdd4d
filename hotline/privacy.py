"""Retention (PIPA: destroy without delay what is no longer needed). Some time after care ends, a request's
personal data is destroyed: children's names and exact birth dates, the street address, notes, health
notes, the texts sent about it; a guardian with nothing left open loses name and number. What remains is
what the monthly figures need (dates, district, status, score). STOP preferences are kept."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from hotline.lifecycle import RequestStatus
from hotline.models import AccessLog, CareRequest, Child, Guardian, InboundMessage, OutboxMessage

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
    from hotline.aftercare.models import FollowUpCase
    from hotline.forms.service import purge_request as purge_forms
    from hotline.records.service import purge_request

    purge_request(session, request_id)
    purge_forms(session, request_id)
    session.exec(update(FollowUpCase).where(FollowUpCase.request_id == request_id).values(note=""))


def purge_codes(session: Session, *, now: datetime) -> None:
    from hotline.applications.service import purge_codes as purge

    purge(session, now=now)
