"""Figures for the officials who read the monthly report: calls logged, placements, how fast, how many
went unmatched, and satisfaction — computed from the request and event rows."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, select

from hotline.core.clock import SEOUL
from hotline.requests.lifecycle import RequestStatus
from hotline.models import CareRequest, RequestEvent


@dataclass
class MonthFigures:
    month: str
    calls: int
    placed: int
    unmatched: int
    cancelled: int
    placement_rate: float | None
    median_minutes_to_confirm: float | None
    satisfaction: float | None  # mean survey score scaled to 100, as the province reports it
    surveys: int


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    first = datetime.combine(date(year, month, 1), time(0), SEOUL)
    nxt = datetime.combine(date(year + month // 12, month % 12 + 1, 1), time(0), SEOUL)
    return first, nxt


def month_figures(session: Session, year: int, month: int) -> MonthFigures:
    lo, hi = month_bounds(year, month)
    requests = session.exec(select(CareRequest).where(CareRequest.created_at >= lo, CareRequest.created_at < hi)).all()
    ids = [r.id for r in requests]
    confirmed_at: dict[int, datetime] = {}
    if ids:
        for event in session.exec(select(RequestEvent).where(col(RequestEvent.request_id).in_(ids),
                                                             RequestEvent.to_status == RequestStatus.confirmed,
                                                             RequestEvent.from_status != RequestStatus.confirmed)):
            confirmed_at.setdefault(event.request_id, event.at)
    placed = len(confirmed_at)
    waits = [(confirmed_at[r.id] - r.created_at) / timedelta(minutes=1) for r in requests if r.id in confirmed_at]
    scores = [r.survey_score for r in requests if r.survey_score is not None]
    decided = placed + sum(1 for r in requests if r.status == RequestStatus.unmatched)
    return MonthFigures(
        month=f"{year}-{month:02d}",
        calls=len(requests),
        placed=placed,
        unmatched=sum(1 for r in requests if r.status == RequestStatus.unmatched),
        cancelled=sum(1 for r in requests if r.status == RequestStatus.cancelled),
        placement_rate=round(placed / decided, 3) if decided else None,
        median_minutes_to_confirm=round(statistics.median(waits), 1) if waits else None,
        satisfaction=round((statistics.mean(scores) - 1) / 4 * 100, 1) if scores else None,
        surveys=len(scores),
    )
