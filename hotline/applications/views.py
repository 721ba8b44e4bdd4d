"""What the parent's own status page shows."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from hotline.core.clock import fmt_window
from hotline.requests.intake import active_assignment
from hotline.requests.children import children_of
from hotline.requests.lifecycle import CANCELLABLE, LABELS_KO, RequestStatus
from hotline.models import CareRequest, Provider

LABELS_EN = {"received": "Received", "matching": "Looking for a provider", "offered": "Waiting for a provider",
             "confirmed": "Confirmed", "in_care": "In care", "completed": "Completed", "cancelled": "Cancelled",
             "unmatched": "An operator will call you"}


def status_view(session: Session, request: CareRequest, *, now: datetime) -> dict:
    status = RequestStatus(request.status)
    provider = code = None
    if status in (RequestStatus.confirmed, RequestStatus.in_care):
        assignment = active_assignment(session, request)
        if assignment is not None:
            provider, code = session.get(Provider, assignment.provider_id), assignment.handover_code
    return {
        "ref": request.ref, "status": status.value, "status_ko": LABELS_KO[status], "status_en": LABELS_EN[status.value],
        "window": fmt_window(request.start_at, request.end_at, "ko"),
        "children": [c.first_name for c in children_of(session, request)],
        "provider": provider, "handover_code": code,
        "can_cancel": status in CANCELLABLE,
        "call_back_asked": request.needs_attention and request.attention_reason == "보호자 전화 요청(온라인)",
        "survey_open": status == RequestStatus.completed and request.survey_score is None,
        "survey_score": request.survey_score,
    }
