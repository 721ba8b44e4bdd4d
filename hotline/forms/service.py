"""Writing and reading the official's forms. Nothing here commits."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from hotline.core.errors import FieldProblem, InvalidInput
from hotline.core.korean import with_particle
from hotline.models.forms import ReferralForm, SiteVisit
from hotline.privacy.access import log_access
from hotline.requests.lifecycle import record
from hotline.models import CareRequest

SERVICE_KINDS = {"facility": "시설형(다함께돌봄센터·지역아동센터)", "visiting": "방문형 긴급돌봄"}
CHECKS = [
    ("child_safe", "아동의 안전과 건강 상태를 확인함"),
    ("place_safe", "돌봄 장소의 안전(위험물·소방·출입)을 확인함"),
    ("handover", "인계코드로 보호자-기관 인계를 확인함"),
    ("log_kept", "일일 서비스 제공일지가 작성되어 있음"),
    ("guardian_met", "보호자 면담(또는 통화)을 함"),
    ("privacy_kept", "개인정보(서류·기록)가 안전하게 보관됨"),
]


def save_referral(session: Session, request: CareRequest, *, form: dict[str, str], actor: str,
                  now: datetime) -> ReferralForm:
    problems = []
    for name, label_ko, label_en in (("official_name", "담당 공무원 이름", "official's name"),
                                     ("official_org", "소속 기관", "office")):
        if not (form.get(name) or "").strip():
            problems.append(FieldProblem(name, f"{with_particle(label_ko, '을/를')} 입력해 주세요.", f"Give the {label_en}."))
    if form.get("service_kind") not in SERVICE_KINDS:
        problems.append(FieldProblem("service_kind", "서비스 유형을 골라 주세요.", "Choose the kind of service."))
    if form.get("consent_confirmed") != "yes":  # a referral hands a child's data on: never without the guardian
        problems.append(FieldProblem("consent_confirmed", "보호자 동의를 확인하고 '보호자 동의를 확인함'에 표시해 주세요.",
                                     "Confirm the guardian's consent (tick consent_confirmed)."))
    if problems:
        raise InvalidInput(*problems)
    referral = session.exec(select(ReferralForm).where(ReferralForm.request_id == request.id)).first()
    referral = referral or ReferralForm(request_id=request.id, official_name="", official_org="", service_kind="",
                                        written_by=actor, written_at=now)
    referral.official_name = form["official_name"].strip()[:40]
    referral.official_org = form["official_org"].strip()[:80]
    referral.official_phone = (form.get("official_phone") or "").strip()[:20]
    referral.service_kind = form["service_kind"]
    referral.needs_summary = (form.get("needs_summary") or "").strip()[:500]
    referral.consent_confirmed = form.get("consent_confirmed") == "yes"
    referral.written_by, referral.written_at = actor, now
    session.add(referral)
    record(session, request, actor=actor, at=now, reason="서비스 제공의뢰서 작성")
    return referral


def add_site_visit(session: Session, request: CareRequest, *, form: dict[str, str], actor: str,
                   now: datetime) -> SiteVisit:
    if not (form.get("visitor") or "").strip():
        raise InvalidInput(FieldProblem("visitor", "확인자 이름을 입력해 주세요.", "Give the visitor's name."))
    visit = SiteVisit(request_id=request.id, visited_at=now, visitor=form["visitor"].strip()[:40],
                      checks={key: form.get(key) == "yes" for key, _ in CHECKS},
                      findings=(form.get("findings") or "").strip()[:1000], written_by=actor, written_at=now)
    session.add(visit)
    record(session, request, actor=actor, at=now, reason="현장확인 체크리스트 작성")
    return visit


def forms_of(session: Session, request: CareRequest, *, actor: str, now: datetime) -> dict:
    log_access(session, actor=actor, action="read_official_forms", request=request, now=now)
    return {
        "referral": session.exec(select(ReferralForm).where(ReferralForm.request_id == request.id)).first(),
        "visits": list(session.exec(select(SiteVisit).where(SiteVisit.request_id == request.id)
                                    .order_by(col(SiteVisit.id)))),
    }
