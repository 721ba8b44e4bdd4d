"""Opening, listing and closing follow-up cases. Nothing here commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from hotline.models.aftercare import CaseStatus, FollowUpCase
from hotline.core.errors import Conflict, NotFound, invalid
from hotline.requests.lifecycle import record
from hotline.models import CareRequest

LOW_SCORE = 2  # a survey answer of 1 or 2 ("불만족") is followed up
DUE = {"survey": timedelta(days=2), "incident": timedelta(days=1)}
SOURCES_KO = {"survey": "만족도 낮음", "incident": "돌봄 중 사고·특이사항"}


def open_case(session: Session, request: CareRequest, *, source: str, reason: str, now: datetime) -> FollowUpCase:
    """Open (once per request and source) a case due in a day (incident) or two (low score)."""
    existing = session.exec(select(FollowUpCase).where(FollowUpCase.request_id == request.id,
                                                       FollowUpCase.source == source)).first()
    if existing is not None:
        return existing
    case = FollowUpCase(request_id=request.id, source=source, reason=reason[:300], opened_at=now,
                        due_at=now + DUE[source])
    session.add(case)
    record(session, request, actor="system", at=now, reason=f"사후관리 시작: {SOURCES_KO[source]}",
           detail={"follow_up": source})
    session.flush()
    return case


def record_survey(session: Session, request: CareRequest, score: int, *, now: datetime) -> None:
    """A parent's 1–5 answer (by SMS or on the status page); 2 or less opens a follow-up case."""
    if not 1 <= score <= 5:
        raise invalid("score", "만족도는 1~5 중에서 골라 주세요.", "Choose a score from 1 to 5.")
    request.survey_score = score
    session.add(request)
    if score <= LOW_SCORE:
        open_case(session, request, source="survey", reason=f"만족도 {score}점", now=now)


def open_cases(session: Session) -> list[tuple[FollowUpCase, CareRequest]]:
    rows = session.exec(select(FollowUpCase, CareRequest).join(CareRequest, CareRequest.id == FollowUpCase.request_id)
                        .where(FollowUpCase.status == CaseStatus.open).order_by(col(FollowUpCase.due_at)))
    return list(rows)


def open_count(session: Session) -> int:
    from sqlalchemy import func

    return session.exec(select(func.count()).select_from(FollowUpCase)
                        .where(FollowUpCase.status == CaseStatus.open)).one()


def cases_of(session: Session, request: CareRequest) -> list[FollowUpCase]:
    return list(session.exec(select(FollowUpCase).where(FollowUpCase.request_id == request.id)
                             .order_by(col(FollowUpCase.id))))


def close_case(session: Session, case_id: int, *, actor: str, note: str, now: datetime) -> FollowUpCase:
    case = session.get(FollowUpCase, case_id)
    if case is None:
        raise NotFound("사후관리 건", "Follow-up case")
    if case.status != CaseStatus.open:
        raise Conflict("이미 종결된 사후관리 건입니다.", "The case is already closed.")
    if not note.strip():
        raise invalid("note", "조치 내용을 적어 주세요.", "Write what was done.")
    case.status, case.closed_at, case.closed_by, case.note = CaseStatus.closed, now, actor, note.strip()[:500]
    session.add(case)
    request = session.get(CareRequest, case.request_id)
    record(session, request, actor=actor, at=now, reason=f"사후관리 종결: {note.strip()[:100]}")
    return case
