"""The care request's lifecycle: an explicit state machine whose every transition is recorded as a
`RequestEvent`. Nothing else in the code assigns `CareRequest.status`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hotline.core.errors import Conflict
from hotline.core.korean import quoted_with_particle
from hotline.models.requests import RequestStatus

if TYPE_CHECKING:
    from datetime import datetime

    from sqlmodel import Session

    from hotline.models import CareRequest


S = RequestStatus
TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    S.received: frozenset({S.matching, S.cancelled}),
    # matching/unmatched -> confirmed: a provider's late accept of an offer past its deadline
    S.matching: frozenset({S.offered, S.confirmed, S.unmatched, S.cancelled}),
    # a declined or expired offer sends the request back to matching
    S.offered: frozenset({S.confirmed, S.matching, S.unmatched, S.cancelled}),
    # confirmed/in_care -> matching: care fell through (the provider withdrew or did not turn up, or the
    # operator moved the child, or a changed plan no longer fits); always with a recorded reason
    S.confirmed: frozenset({S.in_care, S.matching, S.cancelled}),
    S.in_care: frozenset({S.completed, S.matching}),
    # an operator can retry an escalated request (e.g. after widening the radius)
    S.unmatched: frozenset({S.matching, S.confirmed, S.cancelled}),
    S.completed: frozenset(),
    S.cancelled: frozenset(),
}
OPEN_STATUSES = frozenset({S.received, S.matching, S.offered, S.unmatched})
CANCELLABLE = frozenset(s for s, targets in TRANSITIONS.items() if S.cancelled in targets)

LABELS_KO = {
    S.received: "접수",
    S.matching: "매칭 중",
    S.offered: "제안 중",
    S.confirmed: "확정",
    S.in_care: "돌봄 중",
    S.completed: "완료",
    S.cancelled: "취소",
    S.unmatched: "미매칭(상담원 확인)",
}


class IllegalTransition(Conflict):
    def __init__(self, current: RequestStatus, target: RequestStatus):
        super().__init__(
            f"'{LABELS_KO[current]}' 상태의 요청은 {quoted_with_particle(LABELS_KO[target], '으로/로')} 바꿀 수 없습니다.",
            f"A request that is {current.value} cannot become {target.value}.",
            type="/problems/illegal-transition",
        )
        self.current, self.target = current, target


def can_transition(current: RequestStatus, target: RequestStatus) -> bool:
    return target in TRANSITIONS[current]


def transition(
    session: "Session",
    request: "CareRequest",
    target: RequestStatus,
    *,
    actor: str,
    at: "datetime",
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Move `request` to `target`, appending the event; the caller's transaction commits both or neither.
    The row is re-read under a lock first (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises), so two
    writers — a parent cancelling as care starts, say — cannot both move it from the same state."""
    from hotline.core.db import lock, needs_lock
    from hotline.models import RequestEvent

    if not can_transition(RequestStatus(request.status), target):
        raise IllegalTransition(RequestStatus(request.status), target)
    if request.id is not None and needs_lock(session, request):
        lock(session, type(request), request.id)  # refreshes `request` itself
    current = RequestStatus(request.status)
    if not can_transition(current, target):
        raise IllegalTransition(current, target)
    request.status = target
    request.updated_at = at
    session.add(request)
    session.add(
        RequestEvent(
            request_id=request.id,
            at=at,
            actor=actor,
            from_status=current,
            to_status=target,
            reason=reason,
            detail=detail or {},
        )
    )


def record(session: "Session", request: "CareRequest", *, actor: str, at: "datetime", reason: str,
           detail: dict[str, Any] | None = None) -> None:
    """An event that does not change the status (an offer sent, a reminder, a survey answer)."""
    from hotline.models import RequestEvent

    session.add(
        RequestEvent(request_id=request.id, at=at, actor=actor, from_status=request.status,
                     to_status=request.status, reason=reason, detail=detail or {})
    )
