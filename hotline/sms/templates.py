"""SMS wording in Korean and English and the segment budget of each kind (inbound replies are parsed by
`hotline.sms.replies`).

Every outgoing text is one ``kind`` with a Korean and an English wording (Korean is the default).
A kind may list a compact second wording: ``render`` returns the first one that fits the kind's
segment budget, so a worst case (a cross-midnight window, five children, a Hangul district inside an
English text) costs a terser message instead of an extra paid segment.

What a template may contain is fixed by its placeholders: offers to providers carry no names, no full
address and no health information, and no template has a place for health notes at all (PIPA treats
them as sensitive; they are shared by phone, never by SMS).
"""

from __future__ import annotations

import logging
import re
import string
from typing import Iterable, Sequence

from hotline.sms.segments import segments

logger = logging.getLogger("hotline.sms")

LANGS = ("ko", "en")
DEFAULT_LANG = "ko"

# Never placeholders: a value under one of these names is refused even if a template were to grow a
# matching field by mistake.
SENSITIVE_FIELDS = frozenset({"health_notes", "health", "allergies", "medical", "medication", "diagnosis"})

TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "intake_ack": {
        "ko": (
            "[언제나돌봄] 긴급돌봄 요청이 접수되었습니다. 가까운 돌봄기관을 찾고 있으며, "
            "연계되면 바로 문자로 알려드립니다.\n진행 상황: {status_url}",
        ),
        "en": (
            "[Dolbom] We received your urgent care request and are looking for a nearby provider. "
            "We will text you as soon as care is arranged. Status: {status_url}",
        ),
    },
    "offer": {
        "ko": (
            "[돌봄요청 {reply}] {window} {district} 아동 {children} {needs}\n"
            "수락 '1 {reply}', 거절 '2 {reply}' 회신({expires}까지) {offer_url}",
            "[돌봄 {reply}] {window} {district} {children} {needs}\n{expires}까지 1{reply} 수락 2{reply} 거절 {offer_url}",
        ),
        "en": (
            "[Dolbom {reply}] Care request {window}, {district}: {children}, {needs}. "
            "Reply '1 {reply}' to accept or '2 {reply}' to decline by {expires}, or open {offer_url}",
            "Care {reply} {window} {district}: {children} {needs}. '1 {reply}'=yes '2 {reply}'=no by {expires} {offer_url}",
            # Only when a long Hangul district forces UCS-2 into an English text: the link goes,
            # answering by reply still works.
            "Care {reply} {window} {district}: {children} {needs}. Reply 1{reply}=yes 2{reply}=no by {expires}",
        ),
    },
    # the "rounds" policy's offer, without a reply code (a bare 1/2 answers it)
    "offer_plain": {
        "ko": (
            "[돌봄요청] {window} {district} 아동 {children} {needs}\n"
            "수락 1, 거절 2 회신({expires}까지) {offer_url}",
            "[돌봄요청] {window} {district} {children} {needs}\n{expires}까지 1수락 2거절 {offer_url}",
        ),
        "en": (
            "[Dolbom] Care request {window}, {district}: {children}, {needs}. "
            "Reply 1 to accept or 2 to decline by {expires}, or open {offer_url}",
            "Care {window} {district}: {children} {needs}. 1=yes 2=no by {expires} {offer_url}",
            "Care {window} {district}: {children} {needs}. Reply 1=yes 2=no by {expires}",
        ),
    },
    "which_offer": {
        "ko": ("[언제나돌봄] 답하실 요청이 여러 건입니다. 코드를 붙여 다시 회신해 주세요(예: '1 {reply}').\n{choices}",),
        "en": ("[Dolbom] You have several open requests. Reply again with the code, e.g. '1 {reply}'.\n{choices}",),
    },
    "offer_withdrawn": {
        "ko": ("[언제나돌봄] {window} 돌봄 요청이 마감되어 제안을 철회합니다. 감사합니다.",),
        "en": ("[Dolbom] The care request for {window} has been filled or withdrawn. Thank you.",),
    },
    "offer_details": {
        "ko": (
            "[언제나돌봄] 수락이 확정되었습니다.\n일시: {window}\n아동: {children}\n"
            "보호자: {guardian} {guardian_phone}\n주소: {address}\n"
            "인계코드: {code} (아동 인수·인계 때 확인해 주세요)",
        ),
        "en": (
            "[Dolbom] Confirmed.\nTime: {window}\nChildren: {children}\n"
            "Guardian: {guardian} {guardian_phone}\nAddress: {address}\n"
            "Check handover code {code} at drop-off and pick-up.",
            "[Dolbom] Confirmed {window}\n{children}\n{guardian} {guardian_phone}\n{address}\n"
            "Handover code {code}",
        ),
    },
    "confirmation": {
        "ko": (
            "[언제나돌봄] 돌봄이 연계되었습니다.\n{provider} {provider_phone}\n장소: {address}\n"
            "일시: {window}\n인계코드: {code} (맡기실 때와 데려가실 때 확인합니다)\n"
            "취소하시려면 '취소'라고 회신해 주세요.",
        ),
        "en": (
            "[Dolbom] Care is arranged.\n{provider} {provider_phone}\nPlace: {address}\n"
            "Time: {window}\nHandover code {code} is checked at drop-off and pick-up.\n"
            "To cancel, reply CANCEL.",
            "[Dolbom] Care arranged: {provider} {provider_phone}, {address}, {window}. "
            "Code {code} at drop-off/pick-up. Reply CANCEL to cancel.",
        ),
    },
    "already_filled": {
        "ko": ("[언제나돌봄] 이미 다른 곳과 연계된 요청입니다. 응답해 주셔서 감사합니다.",),
        "en": ("[Dolbom] This request has already been filled. Thank you for responding.",),
    },
    "help": {
        "ko": ("[언제나돌봄] 수락은 1, 거절은 2, 문자 수신거부는 '수신거부'(STOP)로 회신해 주세요.",),
        "en": ("[Dolbom] Reply 1 or YES to accept, 2 or NO to decline, STOP to stop these texts.",),
    },
    "declined_ack": {
        "ko": ("[언제나돌봄] 거절로 처리했습니다. 알려 주셔서 감사합니다.",),
        "en": ("[Dolbom] Declined. Thank you for letting us know.",),
    },
    "reminder_parent": {
        "ko": ("[언제나돌봄] 1시간 뒤 {start}에 돌봄이 시작됩니다.\n장소: {address} ({provider})\n인계코드 {code}",),
        "en": (
            "[Dolbom] Care starts in one hour, at {start}.\nPlace: {address} ({provider})\n"
            "Handover code: {code}",
            "[Dolbom] Care at {start} (in 1 hour): {address} ({provider}). Code {code}",
        ),
    },
    "reminder_provider": {
        "ko": ("[언제나돌봄] 1시간 뒤 {start}에 돌봄이 시작됩니다.\n장소: {address}\n인계코드: {code}",),
        "en": (
            "[Dolbom] Care starts in one hour, at {start}.\nPlace: {address}\n"
            "Please check handover code {code}.",
        ),
    },
    "survey": {
        "ko": ("[언제나돌봄] 오늘 돌봄은 어떠셨나요? 만족도를 1(매우 불만)~5(매우 만족) 숫자로 회신해 주세요.",),
        "en": (
            "[Dolbom] How satisfied were you with today's care? "
            "Reply with a number from 1 (very unhappy) to 5 (very happy).",
        ),
    },
    "survey_thanks": {
        "ko": ("[언제나돌봄] 소중한 의견 감사합니다.",),
        "en": ("[Dolbom] Thank you for your feedback.",),
    },
    "cancel_ack": {
        "ko": ("[언제나돌봄] {window} 돌봄이 취소되었습니다. 필요하시면 다시 연락 주세요.",),
        "en": ("[Dolbom] Your care for {window} is cancelled. Contact us any time if you need care again.",),
    },
    "cancel_provider": {
        "ko": ("[언제나돌봄] {window} 돌봄이 보호자 사정으로 취소되었습니다. 협조에 감사드립니다.",),
        "en": ("[Dolbom] The care on {window} was cancelled by the family. Thank you for your help.",),
    },
    "unmatched_parent": {
        "ko": ("[언제나돌봄] 아직 돌봄기관을 찾지 못했습니다. 상담원이 곧 전화드리겠습니다.",),
        "en": ("[Dolbom] We have not found care yet. An operator will call you shortly.",),
    },
    "escalation_operator": {
        "ko": ("[언제나돌봄] 미연계 요청 {ref}: {reason}. 확인 부탁드립니다.",),
        "en": ("[Dolbom] Unmatched request {ref}: {reason}. Please follow up.",),
    },
    # when care falls through after a confirmation (hotline.offers.fallthrough)
    "fallthrough_parent": {
        "ko": ("[언제나돌봄] {window} 돌봄을 맡기로 한 기관의 사정으로 다른 기관을 바로 찾고 있습니다. "
               "확정되면 곧 문자로 알려드립니다.",),
        "en": ("[Dolbom] The provider for {window} can no longer come. We are finding another one now and "
               "will text you as soon as it is confirmed.",),
    },
    "withdraw_ack": {
        "ko": ("[언제나돌봄] {window} 돌봄 취소({reply})를 접수했습니다. 알려 주셔서 감사합니다.",),
        "en": ("[Dolbom] Your withdrawal from the care on {window} ({reply}) is noted. Thank you for telling us.",),
    },
    "which_placement": {
        "ko": ("[언제나돌봄] 맡은 돌봄을 취소하려면 코드와 함께 보내 주세요. 예: '취소 {reply}'. 확정된 돌봄: {choices}",),
        "en": ("[Dolbom] To withdraw from care, reply with its code, e.g. 'CANCEL {reply}'. Your care: {choices}",),
    },
    "no_show_provider": {
        "ko": ("[언제나돌봄] {start} 돌봄 체크인이 아직 없습니다. 도착하셨다면 '도착 {reply}'로 회신하거나 업무 화면에서 "
               "체크인해 주세요. 못 가시면 '취소 {reply}'.",
               "[언제나돌봄] {start} 돌봄 체크인 없음. 도착: '도착 {reply}' 회신, 불가: '취소 {reply}'.",),
        "en": ("[Dolbom] No check-in yet for care at {start}. If you are there, reply 'ARRIVED {reply}' or check in "
               "on your workspace; if you cannot come, reply 'CANCEL {reply}'.",),
    },
    "arrived_ack": {
        "ko": ("[언제나돌봄] {start} 돌봄 체크인이 기록되었습니다.",),
        "en": ("[Dolbom] Check-in for care at {start} recorded.",),
    },
    "placement_released": {
        "ko": ("[언제나돌봄] {window} 돌봄은 센터 조정으로 다른 기관이 맡게 되었습니다. 협조에 감사드립니다.",),
        "en": ("[Dolbom] The care on {window} has been moved to another provider by the centre. Thank you.",),
    },
    "fallthrough_operator": {
        "ko": ("[언제나돌봄] 확정 돌봄 이탈 {ref}: {reason}. {start} 시작, 재배치 중입니다.",),
        "en": ("[Dolbom] Placement fell through {ref}: {reason}. Care starts {start}; re-placing now.",),
    },
    "not_arrived_ack": {
        "ko": ("[언제나돌봄] 알려 주셔서 감사합니다. 기관에 바로 확인하고, 필요하면 다른 기관을 찾아 드립니다.",),
        "en": ("[Dolbom] Thank you for telling us. We are checking with the provider and will find another if needed.",),
    },
    "plan_changed": {
        "ko": ("[언제나돌봄] 돌봄 일정이 바뀌었습니다: {window}, 아동 {children}명. 확인 부탁드립니다.",),
        "en": ("[Dolbom] The care plan changed: {window}, {children} child(ren). Please take note.",),
    },
    "opt_out_ack": {
        "ko": ("[언제나돌봄] 수신거부되었습니다. 다시 받으시려면 '수신재개'(START)로 회신해 주세요.",),
        "en": ("[Dolbom] You are unsubscribed and will get no more texts. Reply START to resume.",),
    },
    "opt_in_ack": {
        "ko": ("[언제나돌봄] 문자 수신이 다시 시작되었습니다. 그만 받으시려면 '수신거부'로 회신해 주세요.",),
        "en": ("[Dolbom] You will get our texts again. Reply STOP to unsubscribe.",),
    },
    # online applications (hotline.applications) and the provider's workspace (hotline.records)
    "apply_code": {
        "ko": ("[언제나돌봄] 온라인 신청 인증번호 {otp} (10분 안에 입력). 신청하지 않았다면 무시하세요.",),
        "en": ("[Dolbom] Your online application code is {otp} (valid 10 min). Ignore if you did not apply.",),
    },
    "workspace_link": {
        "ko": ("[언제나돌봄] 기관 업무 화면(일정·입퇴실·일지): {workspace_url}",),
        "en": ("[Dolbom] Your provider workspace (shifts, check-in, logs): {workspace_url}",),
    },
    # the operator's decision on a provider's adjustment request (hotline.records.decide_adjustment): the
    # provider and the parent hear the window that now holds, never the provider's typed reason
    "adjustment_provider_approved": {
        "ko": ("[언제나돌봄] {ref} 서비스 조정신청이 승인되었습니다. 바뀐 돌봄 일시: {window}",
               "[언제나돌봄] {ref} 조정신청 승인. 바뀐 일시: {window}"),
        "en": ("[Dolbom] Your change request for {ref} is approved. Care is now {window}.",),
    },
    "adjustment_provider_refused": {
        "ko": ("[언제나돌봄] {ref} 서비스 조정신청이 반려되었습니다. 돌봄 일시는 그대로 {window}입니다. "
               "궁금한 점은 상담원에게 전화해 주세요.",
               "[언제나돌봄] {ref} 조정신청 반려. 일시 그대로: {window}"),
        "en": ("[Dolbom] Your change request for {ref} was not approved. Care stays {window}. "
               "Call the operator with any questions.",),
    },
    "adjustment_parent_approved": {
        "ko": ("[언제나돌봄] 돌봄기관의 돌봄 시간 조정이 승인되었습니다. 바뀐 돌봄 일시: {window}",),
        "en": ("[Dolbom] The provider's change to your care time is approved. Care is now {window}.",),
    },
    "adjustment_parent_refused": {
        "ko": ("[언제나돌봄] 돌봄기관의 돌봄 시간 조정 요청은 승인되지 않았습니다. 돌봄 일시는 그대로 {window}입니다.",
               "[언제나돌봄] 돌봄 시간 조정은 승인되지 않았습니다. 일시는 그대로 {window}입니다."),
        "en": ("[Dolbom] The provider's request to change your care time was not approved. Care stays {window}.",),
    },
}

BUDGETS: dict[str, int] = {
    "intake_ack": 2,
    "offer": 2,
    "offer_plain": 2,
    "which_offer": 2,
    "offer_withdrawn": 1,
    "offer_details": 3,
    "confirmation": 3,
    "already_filled": 1,
    "help": 1,
    "declined_ack": 1,
    "reminder_parent": 2,
    "reminder_provider": 2,
    "survey": 1,
    "survey_thanks": 1,
    "cancel_ack": 1,
    "cancel_provider": 1,
    "unmatched_parent": 1,
    "escalation_operator": 2,
    "fallthrough_parent": 2,
    "withdraw_ack": 1,
    "which_placement": 2,
    "no_show_provider": 2,
    "arrived_ack": 1,
    "placement_released": 2,
    "fallthrough_operator": 2,
    "plan_changed": 2,
    "not_arrived_ack": 1,
    "opt_out_ack": 1,
    "opt_in_ack": 1,
    "apply_code": 1,
    "workspace_link": 2,
    "adjustment_provider_approved": 1,
    "adjustment_provider_refused": 1,
    "adjustment_parent_approved": 1,
    "adjustment_parent_refused": 1,
}

NEEDS_LABELS: dict[str, dict[str, str]] = {
    "infant": {"ko": "영아", "en": "infant"},
    "special_needs": {"ko": "특수", "en": "special needs"},
}

# Typographic punctuation that would turn an otherwise GSM-7 English text into UCS-2 (70 instead of
# 160 characters a segment); the same folding Twilio's Smart Encoding does, done here so that
# segments() counts what is really sent.
_GSM_FOLD = str.maketrans({
    "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "·": "/", "\u00a0": " ",
})


def fields(kind: str) -> frozenset[str]:
    """The placeholders of ``kind`` (the same in every language and wording)."""
    names = {
        name
        for wordings in TEMPLATES[kind].values()
        for text in wordings
        for _, name, _, _ in string.Formatter().parse(text)
        if name
    }
    return frozenset(names)


def render(kind: str, lang: str | None = None, **values: object) -> str:
    """The text of ``kind`` in ``lang`` ("ko" unless "en"), within ``BUDGETS[kind]`` when any wording fits."""
    if kind not in TEMPLATES:
        raise KeyError(f"unknown SMS template {kind!r}")
    sensitive = SENSITIVE_FIELDS & values.keys()
    if sensitive:
        raise TypeError(f"SMS templates never carry {sorted(sensitive)}")
    expected = fields(kind)
    unexpected, missing = values.keys() - expected, expected - values.keys()
    if unexpected or missing:
        raise TypeError(f"{kind}: unexpected {sorted(unexpected)}, missing {sorted(missing)}")

    lang = lang if lang in LANGS else DEFAULT_LANG
    clean = {name: " ".join(str(value).split()) for name, value in values.items()}
    budget = BUDGETS[kind]
    text = ""
    for wording in TEMPLATES[kind][lang]:
        text = _tidy(wording.format(**clean))
        if lang == "en":
            text = text.translate(_GSM_FOLD)
        if segments(text).segments <= budget:
            return text
    logger.warning("SMS %s/%s is over its budget of %d segments: %s", kind, lang, budget, segments(text))
    return text


def children_text(ages: Sequence[int], lang: str | None = None) -> str:
    """Count and ages only, for offers: ``2명(5·9세)`` / ``2 kids (5,9y)``."""
    listed = [str(age) for age in ages]
    if lang == "en":
        noun = "child" if len(listed) == 1 else "kids"
        return f"{len(listed)} {noun} ({','.join(listed)}y)"
    return f"{len(listed)}명({'·'.join(listed)}세)"


def offer_choices(offers: Sequence[tuple[str, str]]) -> str:
    """`A7 11/24 09:00, B2 11/25 13:00`: reply codes with the start of care (at most three)."""
    return ", ".join(f"{code} {start}" for code, start in offers[:3])


def named_children_text(children: Sequence[tuple[str, int]], lang: str | None = None) -> str:
    """First names with ages, only for texts sent after a placement is confirmed."""
    if lang == "en":
        return ", ".join(f"{name} ({age}y)" for name, age in children)
    return ", ".join(f"{name}({age}세)" for name, age in children)


def needs_text(needs: Iterable[str], lang: str | None = None) -> str:
    """Short labels for the need codes (``hotline.models.Need`` values); anything else is refused so
    free text, which could carry health details, never reaches an SMS."""
    lang = lang if lang in LANGS else DEFAULT_LANG
    labels = []
    for need in needs:
        if need not in NEEDS_LABELS:
            raise ValueError(f"unknown need code {need!r}")
        labels.append(NEEDS_LABELS[need][lang])
    return "·".join(labels) if lang == "ko" else "+".join(labels)


def _tidy(text: str) -> str:
    """Remove the gaps an empty value leaves (``{needs}`` is often empty)."""
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r" +([,.:)])", r"\1", text)
    text = re.sub(r",([.:\n])", r"\1", text)
    text = re.sub(r"\( *\)", "", text)
    return text.strip()
