"""The rules that keep a shift's records consistent with each other (issue 19): when check-in opens and
closes, the handover code as typed on a phone, the span a daily log's times must lie in, the minutes of care a
result needs, and the texts that tell the provider and the parent an adjustment's decision. Used by
hotline.records.service; nothing here commits."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, time, timedelta

from sqlmodel import Session, select

from hotline.core.clock import SEOUL, WEEKDAYS_KO, fmt_window, local
from hotline.core.errors import DomainError, FieldProblem
from hotline.core.korean import with_particle
from hotline.models import Assignment, CareRequest, Guardian, Provider
from hotline.models.records import Adjustment, CareVisit
from hotline.requests.intake import active_assignment
from hotline.requests.lifecycle import RequestStatus
from hotline.sms.outbox import enqueue

S = RequestStatus
# A daily log's times may lie this far outside the shift (the booked window, widened to the real check-in and
# check-out): people write times rounded to 5 or 10 minutes, and the check-in/out taps come a few minutes
# before or after the handover itself. More than that is a typing slip (18:00 for 08:00), not a rounding.
LOG_SLACK = timedelta(minutes=10)
# what a handover code may carry besides its digits: spaces and dashes ("12 34", "1 2 3 4", "12-34")
_CODE_NOISE = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


def outside_shift(detail_ko: str, detail_en: str) -> DomainError:
    """Not the time for this step of the shift (422): the message says when it is."""
    return DomainError("지금은 처리할 수 없는 시각입니다", "Not now", detail_ko, detail_en, status=422,
                       type="/problems/outside-shift")


def moment_text(at: datetime, now: datetime, lang: str = "ko") -> str:
    """`09:30` on the same day as now, else `11/25(수) 09:30` (`Wed 11/25 09:30`), Seoul time."""
    at_local = local(at)
    if at_local.date() == local(now).date():
        return f"{at_local:%H:%M}"
    if lang == "en":
        return f"{at_local:%a %m/%d %H:%M}"
    return f"{at_local.month}/{at_local.day}({WEEKDAYS_KO[at_local.weekday()]}) {at_local:%H:%M}"


def normal_code(typed: str) -> str:
    """The handover code as typed on a phone keypad, without its spaces and dashes (fullwidth digits folded)."""
    return _CODE_NOISE.sub("", unicodedata.normalize("NFKC", typed or ""))


def shift_span(session: Session, request: CareRequest) -> tuple[datetime, datetime]:
    """When the care really ran or runs: the placement (booked, or moved by an approved adjustment or an early
    check-out), widened to the real check-in and a late check-out."""
    assignment = active_assignment(session, request)
    start, end = (assignment.start_at, assignment.end_at) if assignment else (request.start_at, request.end_at)
    visit = session.exec(select(CareVisit).where(CareVisit.request_id == request.id)).first()
    if visit is not None and visit.checked_in_at is not None:
        start = min(start, visit.checked_in_at)
    if visit is not None and visit.checked_out_at is not None:
        end = max(end, visit.checked_out_at)
    return start, end


def log_time_problems(session: Session, request: CareRequest, start: time, end: time) -> list[FieldProblem]:
    """A log's start and end as moments of the shift: start before end, both inside the shift (LOG_SLACK
    either side). Clock times are read as the one moment inside the shift, so a night shift's 22:00–06:00 is
    fine; a shift is shorter than a day (12 hours at most, plus an early check-in), so there is at most one."""
    lo, hi = shift_span(session, request)
    lo, hi = lo - LOG_SLACK, hi + LOG_SLACK
    shown = f"{local(lo + LOG_SLACK):%H:%M}–{local(hi - LOG_SLACK):%H:%M}"
    moments, problems = {}, []
    for name, value, ko, en in (("start_time", start, "시작", "start"), ("end_time", end, "종료", "end")):
        days = sorted({local(lo).date(), local(hi).date()})
        inside = [at for day in days if lo <= (at := datetime.combine(day, value, SEOUL)) <= hi]
        if inside:
            moments[name] = inside[0]
        else:
            problems.append(FieldProblem(name, f"{ko} 시각 {with_particle(f'{value:%H:%M}', '이/가')} 돌봄 시간({shown}) 밖입니다.",
                                         f"The {en} time {value:%H:%M} is outside the care ({shown})."))
    if len(moments) == 2 and moments["end_time"] <= moments["start_time"]:
        problems.append(FieldProblem("end_time", "종료 시각은 시작 시각보다 늦어야 합니다.",
                                     "The end time must be after the start time."))
    return problems


def care_minutes(visit: CareVisit | None) -> int:
    """Whole minutes from check-in to check-out (0 until both are there)."""
    if visit is None or visit.checked_in_at is None or visit.checked_out_at is None:
        return 0
    return max(0, int((visit.checked_out_at - visit.checked_in_at).total_seconds() // 60))


def tell_decision(session: Session, request: CareRequest, adjustment: Adjustment, assignment: Assignment | None, *,
                  approved: bool, now: datetime) -> None:
    """The provider and the parent hear the decision with the window that now holds (never the typed reason,
    which may describe a child's health). The parent only while the care is still coming or going on."""
    verdict = "approved" if approved else "refused"
    provider = session.get(Provider, adjustment.provider_id)
    start, end = (assignment.start_at, assignment.end_at) if assignment else (request.start_at, request.end_at)
    enqueue(session, to=provider.phone, kind=f"adjustment_provider_{verdict}", lang=provider.language, now=now,
            request_id=request.id, ref=request.ref, window=fmt_window(start, end, provider.language))
    if request.status in (S.confirmed, S.in_care):
        guardian = session.get(Guardian, request.guardian_id)
        enqueue(session, to=guardian.phone, kind=f"adjustment_parent_{verdict}", lang=guardian.language, now=now,
                request_id=request.id, window=fmt_window(request.start_at, request.end_at, guardian.language))
