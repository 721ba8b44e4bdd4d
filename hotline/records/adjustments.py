"""Adjustment requests waiting for the operator, and the ones that can no longer be decided: a request
asked for while the care was on, whose care has since ended (completed, cancelled, fallen through), can
never be approved. It is closed as `expired` — by the tick, or at once by the operator from the list —
instead of waiting forever; nothing about the care changes and nobody is texted (the provider's workspace
shows 만료). Nothing here commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from hotline.core.db import lock
from hotline.core.errors import Conflict, NotFound
from hotline.models import CareRequest, Provider
from hotline.models.records import Adjustment, AdjustmentStatus
from hotline.records.service import KINDS_KO
from hotline.requests.lifecycle import RequestStatus, record

S = RequestStatus
ADJUSTABLE = (S.confirmed.value, S.in_care.value)  # the care is on: an adjustment can still move its end
STATUS_KO = {"pending": "승인 대기", "approved": "승인", "rejected": "반려", "expired": "만료(돌봄 종료)"}


def _pending(live: bool):
    where = col(CareRequest.status).in_(ADJUSTABLE) if live else col(CareRequest.status).not_in(ADJUSTABLE)
    return (select(Adjustment, CareRequest, Provider).join(CareRequest, CareRequest.id == Adjustment.request_id)
            .join(Provider, Provider.id == Adjustment.provider_id)
            .where(Adjustment.status == AdjustmentStatus.pending, where).order_by(col(Adjustment.created_at)))


def waiting(session: Session) -> list[tuple[Adjustment, CareRequest, Provider]]:
    """Pending requests the operator can approve or refuse (the care is still confirmed or on)."""
    return list(session.exec(_pending(live=True)))


def stale(session: Session) -> list[tuple[Adjustment, CareRequest, Provider]]:
    """Pending requests whose care has ended: only closing is left."""
    return list(session.exec(_pending(live=False)))


def waiting_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Adjustment)
                        .join(CareRequest, CareRequest.id == Adjustment.request_id)
                        .where(Adjustment.status == AdjustmentStatus.pending,
                               col(CareRequest.status).in_(ADJUSTABLE))).one()


def _close(session: Session, adjustment: Adjustment, request: CareRequest, *, actor: str, now: datetime) -> None:
    adjustment.status, adjustment.decided_at, adjustment.decided_by = AdjustmentStatus.expired, now, actor
    session.add(adjustment)
    if request.needs_attention and (request.attention_reason or "").startswith("서비스 조정신청"):
        request.needs_attention, request.attention_reason = False, None
        session.add(request)
    record(session, request, actor=actor, at=now,
           reason=f"서비스 조정신청 만료: 돌봄이 끝나 처리하지 않음 ({KINDS_KO[adjustment.kind]})")


def close_stale(session: Session, adjustment_id: int, *, actor: str, now: datetime) -> Adjustment:
    """The operator closes one whose care has ended; one whose care is on must be approved or refused."""
    if session.get(Adjustment, adjustment_id) is None:
        raise NotFound("조정신청", "Adjustment")
    adjustment = lock(session, Adjustment, adjustment_id)
    if adjustment.status != AdjustmentStatus.pending:
        raise Conflict("이미 처리한 조정신청입니다.", "The adjustment was already decided.")
    request = session.get(CareRequest, adjustment.request_id)
    if request.status in ADJUSTABLE:
        raise Conflict("돌봄이 아직 진행 중입니다. 승인하거나 반려해 주세요.",
                       "The care is still on: approve or refuse the adjustment.")
    _close(session, adjustment, request, actor=actor, now=now)
    return adjustment


def expire_stale(session: Session, *, now: datetime) -> int:
    """The tick's part: close every pending request whose care has ended."""
    closed = 0
    for adjustment, request, _ in stale(session):
        adjustment = lock(session, Adjustment, adjustment.id)  # an operator deciding it at the same moment wins
        if adjustment.status == AdjustmentStatus.pending:
            _close(session, adjustment, request, actor="system", now=now)
            closed += 1
    return closed
