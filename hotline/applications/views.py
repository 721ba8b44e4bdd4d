"""What the parent's one status page shows — for an online application and for a phone call alike (the SMS
link leads there too): where the request is, in the parent's words; what happens next and when; the
provider once confirmed (a visiting caregiver comes to the family's home: the page says so, and never shows
the caregiver's own address); and which actions are open. Texts are (Korean, English) pairs: the page
speaks the guardian's language."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from hotline.core.clock import WEEKDAYS_KO, fmt_window, local
from hotline.models import CareRequest, Guardian, Offer, OfferStatus, Provider
from hotline.models.providers import ProviderKind
from hotline.offers.loop import OfferContext, policy_for
from hotline.offers.plans import CHANGEABLE
from hotline.requests.children import children_of
from hotline.requests.intake import active_assignment
from hotline.requests.lifecycle import CANCELLABLE, RequestStatus

S = RequestStatus
STEP = {S.received: "searching", S.matching: "searching", S.offered: "offered", S.unmatched: "unmatched",
        S.confirmed: "confirmed", S.in_care: "in_care", S.completed: "completed", S.cancelled: "cancelled"}
# the parent's words for where the request is (the console's "제안 중" is the operator's)
LABELS = {"searching": ("기관 찾는 중", "Looking for a provider"),
          "offered": ("기관 답 기다리는 중", "Waiting for a provider's answer"),
          "unmatched": ("상담원 연결 중", "An operator will call you"),
          "confirmed": ("돌봄 확정", "Care arranged"), "in_care": ("돌봄 중", "In care"),
          "completed": ("돌봄 끝", "Care ended"), "cancelled": ("취소됨", "Cancelled")}
PROGRESS = [("searching", "기관 찾기", "Finding"), ("confirmed", "확정", "Arranged"), ("in_care", "돌봄", "Care"),
            ("completed", "끝", "Done")]
_ORDER = {"searching": 0, "offered": 0, "unmatched": 0, "confirmed": 1, "in_care": 2, "completed": 3}
# how often the open page asks again (seconds): while a provider is sought, often; later, now and then
POLL = {"searching": 10, "offered": 10, "unmatched": 15, "confirmed": 30, "in_care": 30}
CALL_BACK = "보호자 전화 요청(온라인)"


def _when(at: datetime) -> tuple[str, str]:
    t = local(at)
    return f"{t.month}월 {t.day}일({WEEKDAYS_KO[t.weekday()]}) {t:%H:%M}", f"{t:%a %m/%d %H:%M}"


def _pending_offers(session: Session, request: CareRequest, now: datetime) -> int:
    return session.exec(select(func.count()).select_from(Offer).where(
        Offer.request_id == request.id, Offer.status == OfferStatus.pending, Offer.expires_at > now)).one()


def _searching(session: Session, request: CareRequest, step: str, now: datetime, ctx: OfferContext) -> tuple:
    if request.fell_through_at is not None:
        headline = ("맡기로 한 기관이 돌봄을 할 수 없게 되어, 다른 기관을 바로 찾고 있습니다.",
                    "The provider can no longer take the care: we are finding another one now.")
    elif step == "offered":
        n = _pending_offers(session, request, now) or 1
        headline = (f"가까운 돌봄기관 {n}곳에 돌봄을 부탁드렸고, 수락을 기다리고 있습니다.",
                    f"We have asked {n} provider{'s' if n > 1 else ''} near you and are waiting for an answer.")
    else:
        headline = ("가까운 돌봄기관을 찾고 있습니다.", "We are looking for a provider near you.")
    minutes = policy_for(request, ctx).target_minutes
    due = (request.fell_through_at or request.created_at) + timedelta(minutes=minutes)
    if now < due:
        when = local(due).strftime("%H:%M")
        timing = (f"보통 {minutes:g}분 안에 정해집니다. {when}까지 정해지지 않으면 상담원도 함께 확인합니다.",
                  f"This usually takes {minutes:g} minutes. If nobody is found by {when}, an operator steps in too.")
    else:
        timing = ("예상보다 오래 걸리고 있어 상담원에게도 알렸습니다. 계속 찾고 있습니다.",
                  "This is taking longer than usual: an operator has been told, and we keep looking.")
    return headline, [("기관이 정해지면 바로 문자로 알려드리고, 이 화면에도 나타납니다.",
                       "As soon as a provider is found we text you, and this page shows it."), timing]


def _placed(request: CareRequest, step: str, provider: Provider | None) -> tuple:
    home = provider is not None and provider.kind == ProviderKind.caregiver
    name = provider.name if provider else ""
    start_ko, start_en = _when(request.start_at)
    end = local(request.end_at).strftime("%H:%M")
    code = ("맡기실 때와 데려가실 때 선생님께 인계코드를 알려 주세요.", "Tell the carer the handover code at drop-off and pick-up.")
    if step == "in_care":
        headline = ("돌봄 중입니다.", "Your child is in care.")
        after = ("돌봄이 끝나면 만족도를 묻는 문자를 보내드립니다.", "After care we text you a short survey.")
        if home:
            return headline, [(f"{end}에 돌봄이 끝납니다. 그때까지 댁으로 돌아와 주세요.",
                               f"Care ends at {end}; please be home by then."), after]
        return headline, [(f"{end}에 돌봄이 끝납니다. 그때까지 {name}에서 아이를 데려가 주세요.",
                           f"Care ends at {end}: pick your child up at {name} by then."), code, after]
    remind = ("돌봄 1시간 전에 문자로 한 번 더 알려드립니다.", "We text you a reminder an hour before.")
    if home:
        return ((f"돌봄이 정해졌습니다. {name} 선생님이 댁으로 찾아갑니다.",
                 f"Care is arranged: {name} will come to your home."),
                [(f"{start_ko}에 {name} 선생님이 신청하신 주소(댁)로 찾아갑니다. 돌봄은 댁에서 이루어집니다.",
                  f"{name} comes to the address you gave at {start_en}: the care happens at your home."), code, remind])
    address = provider.address if provider else ""
    return ((f"돌봄이 정해졌습니다: {name}.", f"Care is arranged: {name}."),
            [(f"{start_ko}까지 아이와 함께 {name}에 가 주세요. 주소: {address}",
              f"Bring your child to {name} by {start_en}. Address: {address}"), code, remind])


def _story(session: Session, request: CareRequest, step: str, provider: Provider | None, now: datetime,
           ctx: OfferContext, survey_open: bool) -> tuple:
    """The headline and the next steps, each a (Korean, English) pair."""
    hotline = ctx.settings.hotline_number
    if step in ("searching", "offered"):
        return _searching(session, request, step, now, ctx)
    if step in ("confirmed", "in_care"):
        return _placed(request, step, provider)
    if step == "unmatched":
        return (("아직 돌봄기관을 찾지 못했습니다.", "We have not found a provider yet."),
                [(f"상담원이 곧 전화드려 함께 방법을 찾습니다. 급하시면 상담 전화({hotline})로 먼저 전화해 주세요.",
                  f"An operator will call you shortly. If it is urgent, call {hotline}.")])
    if step == "completed":
        return (("돌봄이 끝났습니다. 이용해 주셔서 감사합니다.", "Care has ended. Thank you."),
                [("아래에서 만족도를 알려 주세요. 문자로 답하셔도 됩니다.", "Please rate the care below, or reply to our text.")]
                if survey_open else [])
    return (("신청이 취소되었습니다.", "This request was cancelled."),
            [(f"다시 필요하시면 새로 신청하거나 상담 전화({hotline})로 연락해 주세요.",
              f"If you need care again, apply again or call {hotline}.")])


def status_view(session: Session, request: CareRequest, *, now: datetime, ctx: OfferContext) -> dict:
    status = RequestStatus(request.status)
    step = STEP[status]
    guardian = session.get(Guardian, request.guardian_id)
    lang = guardian.language if guardian else "ko"
    provider = code = None
    if status in (S.confirmed, S.in_care):
        assignment = active_assignment(session, request)
        if assignment is not None:
            provider, code = session.get(Provider, assignment.provider_id), assignment.handover_code
    survey_open = status == S.completed and request.survey_score is None
    headline, next_steps = _story(session, request, step, provider, now, ctx, survey_open)
    reached = _ORDER.get(step, -1)
    return {
        "lang": lang, "ref": request.ref, "status": status.value, "step": step, "label": LABELS[step],
        "headline": headline, "next_steps": next_steps, "hotline": ctx.settings.hotline_number,
        "progress": [(key, ko, en, _ORDER[key] <= reached, _ORDER[key] == reached) for key, ko, en in PROGRESS],
        "window": fmt_window(request.start_at, request.end_at, lang),
        "children": [c.first_name for c in children_of(session, request)],
        "provider": provider, "handover_code": code,
        "home_visit": provider is not None and provider.kind == ProviderKind.caregiver,
        "can_cancel": status in CANCELLABLE,
        "call_back_asked": request.needs_attention and request.attention_reason == CALL_BACK,
        "survey_open": survey_open, "survey_score": request.survey_score,
        # "선생님이 안 오셨어요": from a quarter hour before the start, while care is placed and not yet reported
        "can_report_absent": status in (S.confirmed, S.in_care)
        and request.start_at - timedelta(minutes=15) <= now < request.end_at and request.no_show_at is None,
        "absent_reported": request.no_show_at is not None,
        "can_change": status in CHANGEABLE and request.start_at > now,
        "change": {"day": local(request.start_at).strftime("%Y-%m-%d"), "start_time": f"{local(request.start_at):%H:%M}",
                   "end_time": f"{local(request.end_at):%H:%M}"},
        "poll": POLL.get(step, 0),
    }
