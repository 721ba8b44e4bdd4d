"""What an operator does to a request from the console: offer it to a provider chosen from the ranked
list, cancel it (a reason and a confirmation), reveal the parent's number for a call-back (an access
record), and write a note. Each is an event in the request's history naming who and why. The offer loop
does the work (hotline.offers); nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

import matching
from hotline.requests import intake
from hotline import offers
from hotline.privacy import access
from hotline.requests.children import children_of
from hotline.core.errors import Conflict, FieldProblem, InvalidInput, invalid
from hotline.core.korean import with_particle
from hotline.requests.lifecycle import CANCELLABLE, RequestStatus, record, transition
from hotline.offers.adapter import build_problem
from hotline.models import CareRequest, Offer, OfferStatus, Provider

S = RequestStatus
OFFERABLE = (S.matching, S.offered, S.unmatched)
REASON_MAX = 200


@dataclass(frozen=True)
class Choice:
    """A provider the operator may offer the request to, with why it ranks where it does."""

    provider: Provider
    distance_km: float
    travel_min: int
    spare: int
    paused: bool
    asked: bool  # has a pending offer for this request already

    @property
    def why(self) -> str:
        kind = "방문 돌봄" if self.provider.kind == "caregiver" else "시설"
        room = f"여유 {self.spare}명" if self.provider.kind != "caregiver" else "방문 가능"
        extra = " · 일시 중지 중(연속 미응답)" if self.paused else ""
        return f"{kind} · {self.distance_km:.1f} km · 이동 약 {self.travel_min}분 · {room}{extra}"


def _reason(text: str, field: str = "reason") -> str:
    text = (text or "").strip()
    if len(text) < 2:
        raise invalid(field, "사유를 입력해 주세요 (2자 이상).", "Give a reason (at least 2 characters).")
    if len(text) > REASON_MAX:
        raise invalid(field, f"사유는 {REASON_MAX}자 이내로 적어 주세요.", f"Keep the reason under {REASON_MAX} characters.")
    return text


def choices(session: Session, request: CareRequest, *, now: datetime, ctx: offers.OfferContext,
            k: int = 8) -> list[Choice]:
    """Feasible providers for this request now, best first (the solver's ranking; paused ones included and
    marked; pairs that declined or let an offer expire are left out by the problem itself)."""
    if request.status not in OFFERABLE or request.start_at <= now:
        return []
    problem = build_problem(session, [request], now=now, settings=ctx.settings, include_paused=True)
    ranked = matching.rank_providers(problem, str(request.id), k=k)
    rows = {p.code: p for p in session.exec(select(Provider).where(
        Provider.code.in_([c.provider_id for c in ranked])))}  # type: ignore[attr-defined]
    asked = set(session.exec(select(Offer.provider_id).where(Offer.request_id == request.id,
                                                             Offer.status == OfferStatus.pending)))
    return [Choice(rows[c.provider_id], c.distance_km, c.travel_min, c.spare,
                   bool(rows[c.provider_id].paused_until and rows[c.provider_id].paused_until > now),
                   rows[c.provider_id].id in asked)
            for c in ranked if c.provider_id in rows]


@dataclass(frozen=True)
class Suggestion:
    """A change the solver says would place the request, to apply for this request only."""

    key: str  # "widen:<code>", "shift:<minutes>", "shorten:<HH:MM>"
    label: str


def suggestions(session: Session, request: CareRequest) -> list[Suggestion]:
    """The latest explanation's suggestions that can be applied from the console (unmatched requests)."""
    from hotline.console.labels import _CODE
    from hotline.offers.adapter import last_explanation

    if request.status != S.unmatched:
        return []
    explained = last_explanation(session, request) or {}
    names = {code: name for code, name in session.exec(select(Provider.code, Provider.name))}
    out = []
    for code, ko in zip(explained.get("suggestions") or [], explained.get("suggestions_ko") or []):
        kind, _, value = code.partition(":")
        if kind == "widen_radius" and (m := _CODE.search(ko)) and m.group(0) in names:
            out.append(Suggestion(f"widen:{m.group(0)}", f"반경 밖 {names[m.group(0)]}({value.replace('km', ' km')})에 직접 제안"))
        elif kind == "shift_window" and value.endswith("min"):
            minutes = int(value[:-3])
            out.append(Suggestion(f"shift:{minutes}", f"시간을 {minutes:+d}분 옮겨 다시 매칭"))
        elif kind == "shorten_window" and value.startswith("end="):
            out.append(Suggestion(f"shorten:{value[4:]}", f"종료를 {with_particle(value[4:], '으로/로')} 당겨 다시 매칭"))
    return out


def apply_suggestion(session: Session, request: CareRequest, key: str, *, actor: str, reason: str, now: datetime,
                     ctx: offers.OfferContext) -> None:
    """For this request only: offer outside the provider's radius, or move/shorten the window (agreed with
    the parent on the phone) and match again."""
    from datetime import timedelta

    from hotline.core.clock import fmt_window, local

    why = _reason(reason)
    if key not in {s.key for s in suggestions(session, request)}:
        raise Conflict("이 제안은 지금 적용할 수 없습니다. 화면을 새로 고쳐 주세요.", "This suggestion no longer applies.")
    kind, _, value = key.partition(":")
    if kind == "widen":
        offer_to(session, request, value, actor=actor, reason=f"반경 밖 제안: {why}", now=now, ctx=ctx,
                 outside_radius=True)
        return
    start, end = request.start_at, request.end_at
    if kind == "shift":
        start, end = start + timedelta(minutes=int(value)), end + timedelta(minutes=int(value))
    else:
        hours, minutes = (int(x) for x in value.split(":"))
        end = local(start).replace(hour=0, minute=0, second=0) + timedelta(hours=hours, minutes=minutes)
        end = end if end > start else end + timedelta(days=1)
    problems = intake.check_window(start, end, now, ctx.settings)
    for i, child in enumerate(children_of(session, request)):
        if problem := intake.check_child(i, child.first_name, child.birth_date, start, end):
            problems.append(problem)
    if problems:
        raise InvalidInput(*problems)
    before = fmt_window(request.start_at, request.end_at)
    request.start_at, request.end_at = start, end
    session.add(request)
    record(session, request, actor=actor, at=now,
           reason=f"상담원이 돌봄 시간 변경: {before} → {fmt_window(start, end)} ({why})")
    offers.retry(session, request, actor=actor, now=now, ctx=ctx)


def offer_to(session: Session, request: CareRequest, provider_code: str, *, actor: str, reason: str,
             now: datetime, ctx: offers.OfferContext, outside_radius: bool = False, override_reason: str = "") -> Offer:
    """The operator's pick: one offer to this provider, whatever the automatic waves would have chosen. Any
    active provider may be picked; one that breaks a rule (radius, hours, ages, capacity, lead time, …)
    needs an override reason, and the rules it breaks are recorded with it."""
    why = _reason(reason)
    if request.status not in OFFERABLE:
        raise Conflict(f"'{intake.status_label(request.status)}' 상태의 요청은 제안할 수 없습니다.",
                       f"A request that is {request.status} cannot be offered.")
    if request.start_at <= now:
        raise Conflict("돌봄 시작 시각이 지났습니다. 일정을 고친 뒤 제안해 주세요.",
                       "Care should have begun; change the plan first.")
    picked = next((c for c in choices(session, request, now=now, ctx=ctx, k=50)
                   if c.provider.code == provider_code), None)
    broken: list[str] = []
    if picked is None:
        provider = session.exec(select(Provider).where(Provider.code == provider_code,
                                                       Provider.active == True)).first()  # noqa: E712
        if provider is None:
            raise invalid("provider", "제안할 기관을 골라 주세요.", "Pick a provider to offer to.")
        broken = rules_broken(session, request, provider, now=now, ctx=ctx)
        if outside_radius and broken == ["radius"]:  # the solver's own suggestion: the reason covers it
            override_reason = override_reason or why
        if not broken:
            broken = ["paused"]  # feasible but held back: paused after missed offers
        if "opted_out" in broken:
            raise invalid("provider", "이 기관은 문자 수신을 거부해 제안 문자를 보낼 수 없습니다. 전화로 연락해 주세요.",
                          "This provider opted out of texts; call it instead.")
        if len((override_reason or "").strip()) < 2:
            listed = " · ".join(RULES_KO.get(b, b) for b in broken)
            raise invalid("override_reason",
                          f"{with_particle(provider.name, '은/는')} 규칙에 맞지 않습니다: {listed}. 예외로 제안하려면 예외 사유를 적어 주세요.",
                          f"{provider.name} breaks: {', '.join(broken)}. Give an override reason to offer anyway.")
        from matching.distance import haversine_km

        km = float(haversine_km(request.lat, request.lon, provider.lat, provider.lon))
        picked = Choice(provider, km, 0, 0, bool(provider.paused_until and provider.paused_until > now), False)
    if picked.asked:
        raise Conflict("이 기관에는 이미 응답을 기다리는 제안이 있습니다.", "This provider already has a pending offer.")
    name = picked.provider.name
    if broken:
        override = _reason(override_reason, "override_reason")
        why = f"{why} / 규칙 예외({' · '.join(RULES_KO.get(b, b) for b in broken)}): {override}"
    if request.status == S.unmatched:
        transition(session, request, S.matching, actor=actor, at=now, reason=f"상담원 직접 제안 준비: {why}"[:300])
    request.offer_rounds += 1
    detail = {"provider": picked.provider.code, "by_operator": True, "why": why}
    if broken:
        detail |= {"override": broken, "override_reason": override_reason.strip()[:200]}
    if request.status == S.matching:
        transition(session, request, S.offered, actor=actor, at=now, reason=f"상담원이 {name}에 직접 제안: {why}"[:300],
                   detail=detail)
    else:
        record(session, request, actor=actor, at=now, reason=f"상담원이 {name}에 직접 제안: {why}"[:300], detail=detail)
    request.needs_attention, request.attention_reason = False, None
    session.add(request)
    pending = session.exec(select(Offer).where(Offer.request_id == request.id,
                                               Offer.status == OfferStatus.pending)).all()
    return offers.make_offer(session, request, picked.provider, rank=len(pending) + 1,
                             distance_km=picked.distance_km, now=now, ctx=ctx)


RULES_KO = {**matching.RULES_KO, "paused": "연속 미응답으로 일시 중지", "opted_out": "문자 수신 거부"}


def rules_broken(session: Session, request: CareRequest, provider: Provider, *, now: datetime,
                 ctx: offers.OfferContext) -> list[str]:
    """Every rule `provider` breaks for `request` now (codes of `RULES_KO`)."""
    # everyone: the operator may pick a provider whose radius does not reach the call
    problem = build_problem(session, [request], now=now, settings=ctx.settings, include_paused=True, everyone=True)
    if provider.code not in {p.id for p in problem.providers}:
        return ["opted_out"]
    return matching.broken_rules(problem, str(request.id), provider.code)


def all_providers(session: Session) -> list[Provider]:
    """Every active provider, for the operator's pick outside the ranked list."""
    return list(session.exec(select(Provider).where(Provider.active == True).order_by(Provider.name)))  # noqa: E712


def cancel(session: Session, request: CareRequest, *, actor: str, reason: str, confirmed: bool,
           now: datetime) -> None:
    """Cancel on the operator's word: a reason, and a ticked confirmation (texts go to the parent and to
    any provider holding an offer or the placement)."""
    problems: list[FieldProblem] = []
    try:
        why = _reason(reason)
    except InvalidInput as exc:
        problems += exc.errors
    if not confirmed:
        problems.append(FieldProblem("confirm", "취소 확인란에 표시해 주세요. 보호자와 기관에 취소 문자가 갑니다.",
                                     "Tick the confirmation: the parent and the provider will be texted."))
    if problems:
        raise InvalidInput(*problems)
    if RequestStatus(request.status) not in CANCELLABLE:
        raise Conflict(f"'{intake.status_label(request.status)}' 상태의 요청은 취소할 수 없습니다.",
                       f"A request that is {request.status} cannot be cancelled.")
    offers.cancel_request(session, request, actor=actor, now=now, reason=f"상담원 취소: {why}")


def reveal_phone(session: Session, request: CareRequest, *, actor: str, reason: str, now: datetime) -> str:
    """The parent's full number for a call-back: an access record and an event with the reason."""
    why = _reason(reason)
    number = access.reveal_guardian_phone(session, request, actor=actor, now=now)
    record(session, request, actor=actor, at=now, reason=f"보호자 번호 열람(회신 전화): {why}")
    return number


def add_note(session: Session, request: CareRequest, *, actor: str, text: str, now: datetime) -> None:
    text = (text or "").strip()
    if not text:
        raise invalid("note", "메모 내용을 입력해 주세요.", "Write the note.")
    if len(text) > 280:
        raise invalid("note", "메모는 280자 이내로 적어 주세요.", "Keep the note under 280 characters.")
    record(session, request, actor=actor, at=now, reason=f"상담 메모: {text}", detail={"note": True})
