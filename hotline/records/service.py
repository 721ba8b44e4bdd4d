"""The provider's records: shifts, check-in/out with the handover code, the daily log (health details apart),
adjustment requests the operator decides, the service result. An approved adjustment moves the placement's
end (Assignment.end_at, the commitment the solver sees) and the request's end together. Nothing here commits."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlmodel import Session, col, select

from hotline.aftercare.service import open_case
from hotline.core.clock import SEOUL, local
from hotline.core.config import Settings
from hotline.core.db import lock
from hotline.core.errors import Conflict, FieldProblem, InvalidInput, NotFound, invalid
from hotline.core.korean import quoted_with_particle
from hotline.requests.intake import active_assignment, get_request
from hotline.requests.children import check_child, children_of
from hotline.privacy.access import log_access
from hotline.requests.lifecycle import RequestStatus, record, transition
from hotline.models import Assignment, CareRequest, Guardian, Provider
from hotline.sms.outbox import enqueue
from hotline.models.records import Adjustment, AdjustmentKind, AdjustmentStatus, CareVisit, HealthRecord, ServiceLog
# the consistency rules (issue 19); the workspace router reads checkin_opens and moment_text through here
from hotline.offers.fallthrough import checkin_opens, mark_arrived  # one check-in for the workspace and SMS
# the workspace links live in records.workspace_links; the workspace router and tests read them through here
from hotline.records.workspace_links import (link_purpose, provider_for_link, send_workspace_link,  # noqa: F401
                                             workspace_link)
from hotline.records.rules import (care_minutes, log_time_problems, moment_text, normal_code, outside_shift,
                                   tell_decision)

S = RequestStatus
MAX_CODE_TRIES = 5
RESULTS_KO = {"provided": "제공 완료", "partial": "일부 제공", "not_provided": "미제공"}
KINDS_KO = {"extend": "연장", "shorten": "단축", "end_early": "조기 종료"}


def shifts(session: Session, provider: Provider, *, now: datetime) -> list[tuple[Assignment, CareRequest]]:
    """Today's and upcoming placements of the provider (ended ones drop off at the end of their day)."""
    day_start = datetime.combine(local(now).date(), time(0), SEOUL)
    rows = session.exec(select(Assignment, CareRequest).join(CareRequest, CareRequest.id == Assignment.request_id)
                        .where(Assignment.provider_id == provider.id, Assignment.active == True,  # noqa: E712
                               Assignment.end_at >= day_start).order_by(col(Assignment.start_at)))
    return list(rows)


def shift_for(session: Session, provider: Provider, ref: str) -> tuple[CareRequest, Assignment]:
    """The request only if this provider holds its placement: another's shift is 'not found', not 'forbidden'."""
    try:
        request = get_request(session, ref)
    except NotFound:
        raise NotFound("돌봄 일정", "Shift") from None
    assignment = active_assignment(session, request)
    if assignment is None or assignment.provider_id != provider.id:
        raise NotFound("돌봄 일정", "Shift")
    return request, assignment


def visit_of(session: Session, request: CareRequest, provider: Provider) -> CareVisit:
    visit = session.exec(select(CareVisit).where(CareVisit.request_id == request.id)).first()
    if visit is None:
        visit = CareVisit(request_id=request.id, provider_id=provider.id)
        session.add(visit)
        session.flush()
    return visit


def actor_of(provider: Provider) -> str:
    return f"provider:{provider.code}"


def shift_view(session: Session, provider: Provider, request: CareRequest, assignment: Assignment, *,
               now: datetime) -> dict:
    """What the provider sees of a shift; the read is an access record (health details separately)."""
    log_access(session, actor=actor_of(provider), action="provider_read_shift", request=request, now=now)
    visit = session.exec(select(CareVisit).where(CareVisit.request_id == request.id)).first()
    logs = list(session.exec(select(ServiceLog).where(ServiceLog.request_id == request.id).order_by(col(ServiceLog.day))))
    health = []
    if request.health_consent:
        log_access(session, actor=actor_of(provider), action="provider_read_health", request=request, now=now)
        health = list(session.exec(select(HealthRecord).where(HealthRecord.request_id == request.id)))
    from hotline.requests.children import age_on

    start_day = local(request.start_at).date()
    return {
        "care": request, "assignment": assignment, "visit": visit, "logs": logs, "health": health,
        "health_notes": request.health_notes if request.health_consent else None,
        "children": [(c.first_name, age_on(c.birth_date, start_day)) for c in children_of(session, request)],
        "adjustments": list(session.exec(select(Adjustment).where(Adjustment.request_id == request.id)
                                         .order_by(col(Adjustment.id)))),
        "status": request.status,
    }


def check_in(session: Session, provider: Provider, request: CareRequest, assignment: Assignment, code: str, *,
             now: datetime, settings: Settings) -> CareVisit:
    """Check-in with the parent's handover code (spaces and dashes ignored), only from
    `checkin_early_minutes` before the start until the end of the placement; wrong codes are counted."""
    lock(session, CareRequest, request.id)  # parallel tries of the code are counted one after another
    visit = session.exec(select(CareVisit).where(CareVisit.request_id == request.id)).first()
    if visit is not None and visit.checked_in_at is not None:
        raise Conflict("이미 입실 처리했습니다.", "Already checked in.")
    if request.status not in (S.confirmed, S.in_care):
        raise Conflict("확정된 돌봄만 입실할 수 있습니다.", "Only confirmed care can be checked in.")
    opens = checkin_opens(assignment, settings)
    if now < opens:  # before the visit row: a try this early neither counts nor leaves a trace
        raise outside_shift(f"체크인(입실)은 {moment_text(opens, now)}부터 할 수 있습니다.",
                            f"Check-in opens at {moment_text(opens, now, 'en')}.")
    if now >= assignment.end_at:
        raise outside_shift(f"돌봄이 {moment_text(assignment.end_at, now)}에 끝나 체크인(입실)할 수 없습니다. "
                            "상담원에게 전화해 주세요.",
                            f"The care ended at {moment_text(assignment.end_at, now, 'en')}: check-in is closed. "
                            "Call the operator.")
    visit = visit or visit_of(session, request, provider)
    if visit.code_tries >= MAX_CODE_TRIES:
        raise Conflict("인계코드를 여러 번 틀려 입실을 막았습니다. 상담원에게 전화해 주세요.",
                       "Too many wrong handover codes: call the operator.")
    typed = normal_code(code)
    if not typed:
        raise invalid("code", "보호자에게 받은 인계코드를 입력해 주세요.", "Type the handover code from the parent.")
    if typed != assignment.handover_code:
        visit.code_tries += 1
        session.add(visit)
        session.flush()
        raise invalid("code", f"인계코드가 맞지 않습니다. ({MAX_CODE_TRIES - visit.code_tries}번 남음)",
                      "The handover code does not match.")
    return mark_arrived(session, request, visit, actor=actor_of(provider), how="인계코드 확인", now=now)


def write_log(session: Session, provider: Provider, request: CareRequest, *, start_time: str, end_time: str,
              activities: str, meals: str, incident: bool, incident_note: str, notes: str, health: str,
              now: datetime) -> ServiceLog:
    problems = []
    times = {}
    for name, value in (("start_time", start_time), ("end_time", end_time)):
        try:
            times[name] = datetime.strptime(value.strip(), "%H:%M").time()
        except ValueError:
            problems.append(FieldProblem(name, "시각을 09:00처럼 입력해 주세요.", "Type a time like 09:00."))
    if len(times) == 2 and request.status in (S.in_care, S.completed):
        problems += log_time_problems(session, request, times["start_time"], times["end_time"])
    if incident and not incident_note.strip():
        problems.append(FieldProblem("incident_note", "사고·특이사항 내용을 적어 주세요.", "Describe the incident."))
    if health.strip() and not request.health_consent:
        problems.append(FieldProblem("health", "보호자의 건강정보 동의가 없어 건강 정보를 기록할 수 없습니다.",
                                     "No health-information consent: health details cannot be recorded."))
    if request.status not in (S.in_care, S.completed):
        problems.append(FieldProblem("status", "입실 후에 일지를 쓸 수 있습니다.", "Check in before writing the log."))
    if problems:
        raise InvalidInput(*problems)
    day = local(now).date()
    log = session.exec(select(ServiceLog).where(ServiceLog.request_id == request.id, ServiceLog.day == day)).first()
    log = log or ServiceLog(request_id=request.id, provider_id=provider.id, day=day, start_time="", end_time="",
                            written_at=now)
    log.start_time, log.end_time = f"{times['start_time']:%H:%M}", f"{times['end_time']:%H:%M}"
    log.activities, log.meals, log.notes = activities.strip()[:500], meals.strip()[:200], notes.strip()[:500]
    log.incident, log.incident_note, log.written_at = incident, incident_note.strip()[:500], now
    session.add(log)
    session.flush()
    if health.strip():
        session.add(HealthRecord(request_id=request.id, service_log_id=log.id, note=health.strip()[:500], written_at=now))
    record(session, request, actor=actor_of(provider), at=now, reason="일일 서비스 제공일지 작성")
    if incident:
        open_case(session, request, source="incident", reason=f"일지 특이사항: {incident_note.strip()[:200]}", now=now)
    return log


def ask_adjustment(session: Session, provider: Provider, request: CareRequest, assignment: Assignment, *, kind: str,
                   minutes: int, reason: str, now: datetime, settings: Settings) -> Adjustment:
    if request.status not in (S.confirmed, S.in_care):
        raise Conflict("확정되었거나 돌봄 중인 일정만 조정할 수 있습니다.", "Only confirmed or ongoing care can be adjusted.")
    if kind not in KINDS_KO:
        raise invalid("kind", "조정 종류를 골라 주세요.", "Choose the kind of adjustment.")
    pending = session.exec(select(Adjustment).where(Adjustment.request_id == request.id,
                                                    Adjustment.status == AdjustmentStatus.pending)).first()
    if pending is not None:
        raise Conflict("처리를 기다리는 조정신청이 이미 있습니다.", "An adjustment is already waiting for the operator.")
    if kind == "end_early":
        new_end = max(now, assignment.start_at + timedelta(minutes=30))
    else:
        if not 15 <= minutes <= 12 * 60:
            raise invalid("minutes", "조정 시간은 15분 이상 12시간 이하로 입력해 주세요.", "Minutes must be 15 to 720.")
        new_end = assignment.end_at + timedelta(minutes=minutes if kind == "extend" else -minutes)
    if new_end <= assignment.start_at or (kind == "shorten" and new_end <= now):
        raise invalid("minutes", "조정한 종료 시각이 시작 시각이나 지금보다 빠릅니다.", "The new end is before the start or now.")
    if new_end - assignment.start_at > timedelta(hours=settings.max_window_hours):
        raise invalid("minutes", f"돌봄 시간은 최대 {settings.max_window_hours:g}시간까지입니다.",
                      f"Care may last at most {settings.max_window_hours:g} hours.")
    adjustment = Adjustment(request_id=request.id, provider_id=provider.id, kind=AdjustmentKind(kind), new_end_at=new_end,
                            reason=reason.strip()[:300], created_at=now)
    session.add(adjustment)
    request.needs_attention, request.attention_reason = True, f"서비스 조정신청({KINDS_KO[kind]}) 승인 대기"
    session.add(request)
    record(session, request, actor=actor_of(provider), at=now,
           reason=f"서비스 조정신청: {KINDS_KO[kind]} → 종료 {local(new_end):%H:%M}", detail={"adjustment": kind})
    session.flush()
    return adjustment


def pending_adjustments(session: Session) -> list[tuple[Adjustment, CareRequest, Provider]]:
    return list(session.exec(select(Adjustment, CareRequest, Provider)
                             .join(CareRequest, CareRequest.id == Adjustment.request_id)
                             .join(Provider, Provider.id == Adjustment.provider_id)
                             .where(Adjustment.status == AdjustmentStatus.pending).order_by(col(Adjustment.created_at))))


def decide_adjustment(session: Session, adjustment_id: int, *, approve: bool, actor: str, now: datetime) -> Adjustment:
    adjustment = session.get(Adjustment, adjustment_id)
    if adjustment is None:
        raise NotFound("조정신청", "Adjustment")
    adjustment = lock(session, Adjustment, adjustment_id)  # two operators cannot both decide it
    if adjustment.status != AdjustmentStatus.pending:
        raise Conflict("이미 처리한 조정신청입니다.", "The adjustment was already decided.")
    request = session.get(CareRequest, adjustment.request_id)
    assignment = active_assignment(session, request)
    if approve:
        if assignment is None or request.status not in (S.confirmed, S.in_care):
            raise Conflict("돌봄이 이미 끝나 승인할 수 없습니다. 목록의 '만료로 닫기'로 정리해 주세요.",
                           "The care has ended: close the adjustment as expired.")
        new_end = adjustment.new_end_at
        if new_end > assignment.end_at:
            _check_room(session, request, assignment, new_end)
        assignment.end_at = new_end
        request.end_at = new_end  # the care day job ends the care at the request's end
        session.add(assignment)
    adjustment.status = AdjustmentStatus.approved if approve else AdjustmentStatus.rejected
    adjustment.decided_at, adjustment.decided_by = now, actor
    session.add(adjustment)
    request.needs_attention, request.attention_reason = False, None
    session.add(request)
    verdict = "승인" if approve else "반려"
    record(session, request, actor=actor, at=now,
           reason=f"서비스 조정신청 {verdict}: {KINDS_KO[adjustment.kind]} → 종료 {local(adjustment.new_end_at):%H:%M}")
    tell_decision(session, request, adjustment, assignment, approved=approve, now=now)
    return adjustment


def _check_room(session: Session, request: CareRequest, assignment: Assignment, new_end: datetime) -> None:
    """An extension must keep every child eligible and fit the provider's capacity in the added time."""
    problems = [p for i, c in enumerate(children_of(session, request))
                if (p := check_child(i, c.first_name, c.birth_date, request.start_at, new_end))]
    if problems:
        raise InvalidInput(*problems)
    provider = session.get(Provider, assignment.provider_id)
    others = session.exec(select(Assignment).where(Assignment.provider_id == provider.id, Assignment.active == True,  # noqa: E712
                                                   Assignment.id != assignment.id, Assignment.start_at < new_end,
                                                   Assignment.end_at > assignment.end_at)).all()
    if sum(a.children for a in others) + assignment.children > provider.capacity:
        raise Conflict("연장 시간에 기관 정원이 부족합니다.", "The provider has no room for the extra time.")


def checkout_preview(session: Session, request: CareRequest, assignment: Assignment, *, now: datetime) -> dict:
    """What the check-out's confirmation step shows, or why there is no check-out now: only after check-in,
    never at or before the start. Before the booked end it is an early check-out and asks for a reason."""
    visit = session.exec(select(CareVisit).where(CareVisit.request_id == request.id)).first()
    if visit is None or visit.checked_in_at is None:
        raise Conflict("입실 처리 후 퇴실할 수 있습니다.", "Check in first.")
    if visit.checked_out_at is not None:
        raise Conflict("이미 퇴실 처리했습니다.", "Already checked out.")
    if now <= assignment.start_at:
        raise outside_shift(f"돌봄 시작({moment_text(assignment.start_at, now)}) 후에 퇴실할 수 있습니다. "
                            "돌봄을 하지 않게 되었다면 상담원에게 전화해 주세요.",
                            f"Check-out is possible after the start ({moment_text(assignment.start_at, now, 'en')}). "
                            "If the care is not happening, call the operator.")
    return {"visit": visit, "checked_in_at": visit.checked_in_at, "checked_out_at": now,
            "booked_end": assignment.end_at, "early": now < assignment.end_at,
            "minutes": int((now - visit.checked_in_at).total_seconds() // 60)}


def check_out(session: Session, provider: Provider, request: CareRequest, assignment: Assignment, *,
              now: datetime, confirmed: bool = False, reason: str = "") -> CareVisit:
    """Care ends now, once the provider has confirmed the times: before the booked end only with a reason,
    and then the placement ends at the real check-out (the request keeps its booked end, so the records show
    both), freeing the provider from now on. Care still in progress completes and the parent gets the survey;
    care the day job already completed at its end only gets its real check-out time."""
    lock(session, CareRequest, request.id)  # a double tap checks out once
    preview = checkout_preview(session, request, assignment, now=now)
    visit, early = preview["visit"], preview["early"]
    reason = " ".join(reason.split())[:300]
    problems = []
    if early and len(reason) < 2:
        problems.append(FieldProblem("reason", f"예약 종료({moment_text(assignment.end_at, now)})보다 일찍 퇴실합니다. "
                                     "사유를 적어 주세요.",
                                     f"This is before the booked end ({moment_text(assignment.end_at, now, 'en')}): "
                                     "give a reason."))
    if not confirmed:
        problems.append(FieldProblem("confirm", "퇴실 시각을 확인하고 '퇴실 확정'을 눌러 주세요.",
                                     "Check the times and confirm the check-out (confirm=yes)."))
    if problems:
        raise InvalidInput(*problems)
    visit.checked_out_at, visit.checkout_reason = now, reason if early else ""
    session.add(visit)
    times = f"{local(visit.checked_in_at):%H:%M}–{local(now):%H:%M}"
    what = f"기관 퇴실({times})"
    if early:
        what = f"기관 조기 퇴실({times}, 예약 종료 {local(assignment.end_at):%H:%M})"
        assignment.end_at = now  # the rest of the placement is free again; request.end_at stays as booked
        session.add(assignment)
    if request.status == S.in_care:
        transition(session, request, S.completed, actor=actor_of(provider), at=now, reason=f"{what}: 돌봄 종료")
        if request.survey_sent_at is None:
            guardian = session.get(Guardian, request.guardian_id)
            enqueue(session, to=guardian.phone, kind="survey", lang=guardian.language, now=now, request_id=request.id)
            request.survey_sent_at = now
            session.add(request)
    else:
        record(session, request, actor=actor_of(provider), at=now, reason=what)
    return visit


def file_result(session: Session, provider: Provider, request: CareRequest, *, result: str, note: str,
                now: datetime) -> CareVisit:
    if result not in RESULTS_KO:
        raise invalid("result", "서비스 결과를 골라 주세요.", "Choose the service result.")
    visit = visit_of(session, request, provider)
    if visit.checked_out_at is None:
        raise Conflict("퇴실 후 서비스 결과를 등록할 수 있습니다.", "Check out before filing the result.")
    minutes = care_minutes(visit)
    if result != "not_provided" and minutes < 1:
        raise invalid("result", f"입실부터 퇴실까지 {minutes}분이라 {quoted_with_particle(RESULTS_KO[result], '으로/로')} 등록할 수 없습니다. "
                      "돌봄을 하지 못했다면 '미제공'을 골라 주세요.",
                      f"Checked in to checked out is {minutes} minutes: the care cannot be filed as provided. "
                      "Choose 'not provided' if it did not happen.")
    visit.result, visit.result_note, visit.result_at = result, note.strip()[:500], now
    session.add(visit)
    record(session, request, actor=actor_of(provider), at=now, reason=f"서비스 결과 등록: {RESULTS_KO[result]}")
    return visit


def records_of(session: Session, request: CareRequest, *, actor: str, now: datetime) -> dict:
    """The operator's view of a request's records; reading them (and health details) is logged."""
    log_access(session, actor=actor, action="read_service_records", request=request, now=now)
    health = []
    if request.health_consent:
        log_access(session, actor=actor, action="read_health_records", request=request, now=now)
        health = list(session.exec(select(HealthRecord).where(HealthRecord.request_id == request.id)))
    return {
        "visit": session.exec(select(CareVisit).where(CareVisit.request_id == request.id)).first(),
        "logs": list(session.exec(select(ServiceLog).where(ServiceLog.request_id == request.id))),
        "health": health,
        "adjustments": list(session.exec(select(Adjustment).where(Adjustment.request_id == request.id))),
    }


def coming_days(provider: Provider, *, now: datetime, days: int = 14, lang: str = "ko") -> list[tuple[str, str, bool]]:
    """The next days with the provider's opening hours and whether each is marked closed, in `lang`."""
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    labels = "월화수목금토일"
    out = []
    for i in range(days):
        day = local(now).date() + timedelta(days=i)
        hours = provider.weekly_hours.get(names[day.weekday()], [])
        text = ", ".join(f"{a}–{b}" for a, b in hours) or ("not open" if lang == "en" else "운영 안 함")
        shown = f"{day:%a} {day.month}/{day.day} {text}" if lang == "en" else f"{day.month}/{day.day}({labels[day.weekday()]}) {text}"
        out.append((day.isoformat(), shown, day.isoformat() in provider.closures))
    return out


def set_closure(session: Session, provider: Provider, day_text: str, *, closed: bool, now: datetime) -> None:
    """A provider marks a coming day closed (or open again) for matching; a day with confirmed care stays open
    until the operator moves that care."""
    from datetime import date

    from hotline.providers.registry import update_provider
    from hotline.providers.schemas import ProviderUpdate

    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise invalid("day", "날짜가 올바르지 않습니다.", "Invalid day.") from None
    today = local(now).date()
    if not today <= day <= today + timedelta(days=30):
        raise invalid("day", "오늘부터 30일 안의 날짜만 바꿀 수 있습니다.", "Only the next 30 days can be changed.")
    lo = datetime.combine(day, time(0), SEOUL)
    if closed and session.exec(select(Assignment).where(Assignment.provider_id == provider.id, Assignment.active == True,  # noqa: E712
                                                        Assignment.start_at < lo + timedelta(days=1),
                                                        Assignment.end_at > lo)).first():
        raise Conflict("그날 확정된 돌봄이 있어 휴무로 바꿀 수 없습니다. 상담원에게 연락해 주세요.",
                       "There is confirmed care that day: call the operator.")
    closures = sorted((set(provider.closures) | {day.isoformat()}) if closed else (set(provider.closures) - {day.isoformat()}))
    update_provider(session, provider, ProviderUpdate(closures=closures), now=now)
