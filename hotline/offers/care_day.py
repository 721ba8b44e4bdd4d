"""The day of care: a reminder an hour before, `in_care` at the start, `completed` and the survey at the end."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from hotline.core.clock import local
from hotline.requests.intake import active_assignment
from hotline.requests.lifecycle import record, transition
from hotline.models import (CareRequest, Guardian, Provider)
from hotline.sms.outbox import enqueue

from hotline.offers.answers import care_place
from hotline.offers.loop import SYSTEM, S, OfferContext


def run_care_day(session: Session, *, now: datetime, ctx: OfferContext) -> None:
    """Reminders an hour before care, in care at the start, completed and surveyed at the end."""
    soon = now + timedelta(hours=1)
    for request in session.exec(select(CareRequest).where(CareRequest.status == S.confirmed,
                                                          CareRequest.start_at <= soon,
                                                          CareRequest.reminded_at == None)):  # noqa: E711
        if request.start_at > now:
            _remind(session, request, now=now)
        request.reminded_at = now
        session.add(request)
    for request in session.exec(select(CareRequest).where(CareRequest.status == S.confirmed,
                                                          CareRequest.start_at <= now)):
        transition(session, request, S.in_care, actor=SYSTEM, at=now, reason="돌봄 시작")
    for request in session.exec(select(CareRequest).where(CareRequest.status == S.in_care,
                                                          CareRequest.end_at <= now)):
        transition(session, request, S.completed, actor=SYSTEM, at=now, reason="돌봄 종료")
        guardian = session.get(Guardian, request.guardian_id)
        enqueue(session, to=guardian.phone, kind="survey", lang=guardian.language, now=now, request_id=request.id)
        request.survey_sent_at = now
        session.add(request)
    # offers whose request starts now are closed by their own expiry (never later than the start)


def _remind(session: Session, request: CareRequest, *, now: datetime) -> None:
    assignment = active_assignment(session, request)
    provider = session.get(Provider, assignment.provider_id)
    guardian = session.get(Guardian, request.guardian_id)
    start = local(request.start_at).strftime("%H:%M")
    enqueue(session, to=guardian.phone, kind="reminder_parent", lang=guardian.language, now=now,
            request_id=request.id, start=start, provider=provider.name, address=care_place(provider, request),
            code=assignment.handover_code)
    enqueue(session, to=provider.phone, kind="reminder_provider", lang=provider.language, now=now,
            request_id=request.id, start=start, address=care_place(provider, request), code=assignment.handover_code)
    record(session, request, actor=SYSTEM, at=now, reason="돌봄 1시간 전 알림 발송")
