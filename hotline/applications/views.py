"""What the parent's own status page shows."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from hotline.core.clock import fmt_window, local
from hotline.offers.plans import CHANGEABLE
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
        # "선생님이 안 오셨어요": from a quarter hour before the start, while care is placed and not yet reported
        "can_report_absent": status in (RequestStatus.confirmed, RequestStatus.in_care)
        and request.start_at - timedelta(minutes=15) <= now < request.end_at and request.no_show_at is None,
        "absent_reported": request.no_show_at is not None,
        "can_change": status in CHANGEABLE and request.start_at > now,
        "change": {"day": local(request.start_at).strftime("%Y-%m-%d"), "start_time": f"{local(request.start_at):%H:%M}",
                   "end_time": f"{local(request.end_at):%H:%M}"},
    }
