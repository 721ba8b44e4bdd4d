"""SMS wording in Korean and English, the segment budget of each kind, and parsing of inbound replies.

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
import unicodedata
from dataclasses import dataclass
from enum import Enum
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
    "opt_out_ack": 1,
    "opt_in_ack": 1,
    "apply_code": 1,
    "workspace_link": 2,
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


class ReplyKind(str, Enum):
    ACCEPT = "accept"
    DECLINE = "decline"
    CANCEL = "cancel"
    STOP = "stop"
    START = "start"
    HELP = "help"
    NUMBER = "number"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Reply:
    """An inbound SMS body, classified without context.

    ``1``–``5`` come back as NUMBER because they mean accept/decline to a provider holding an open
    offer and a score to a parent answering the survey; only the caller knows which.
    English ``CANCEL`` comes back as CANCEL, not STOP: the caller treats it as cancelling care when a
    guardian has an active request. (On US/Canadian long codes Twilio itself also treats CANCEL as an
    opt-out keyword, which is why Korean texts ask for ``취소``.)
    """

    kind: ReplyKind
    number: int | None = None
    code: str | None = None  # the offer's reply code when the answer names one ("1 A7")

    def offer_answer(self) -> ReplyKind | None:
        """ACCEPT or DECLINE when read as an answer to an offer, else None."""
        if self.kind in (ReplyKind.ACCEPT, ReplyKind.DECLINE):
            return self.kind
        if self.kind is ReplyKind.NUMBER and self.number in (1, 2):
            return ReplyKind.ACCEPT if self.number == 1 else ReplyKind.DECLINE
        return None


_KEYWORDS: dict[str, ReplyKind] = {
    **dict.fromkeys(["수락", "yes", "y", "예", "네", "ok"], ReplyKind.ACCEPT),
    **dict.fromkeys(["거절", "no", "n", "아니오", "아니요", "아니"], ReplyKind.DECLINE),
    **dict.fromkeys(["취소", "cancel"], ReplyKind.CANCEL),
    **dict.fromkeys(
        ["stop", "stopall", "unsubscribe", "end", "quit", "optout", "revoke", "수신거부"], ReplyKind.STOP
    ),
    **dict.fromkeys(["start", "unstop", "수신재개"], ReplyKind.START),
    **dict.fromkeys(["help", "info", "도움말", "도움"], ReplyKind.HELP),
}


# "1 A7", "A7 1", "수락 a7", "1a7": an answer and the offer's code (a letter and a digit)
_CODED = re.compile(r"^(?:(?P<a1>[^a-z0-9]+|[0-9]|yes|no|y|n|ok)(?P<c1>[a-z][1-9])|(?P<c2>[a-z][1-9])(?P<a2>[^a-z0-9]+|[0-9]|yes|no|y|n|ok))$")


def parse_reply(text: str) -> Reply:
    # NFKC folds fullwidth digits and letters ("１", "ＹＥＳ") into ASCII; spaces and trailing
    # punctuation ("1.", "수락!", "y e s") are noise on a phone keyboard.
    word = unicodedata.normalize("NFKC", text or "").casefold()
    word = re.sub(r"[\s.!?~,'\"]+", "", word)
    coded = _CODED.match(word)
    if coded:
        answer, code = coded.group("a1") or coded.group("a2"), coded.group("c1") or coded.group("c2")
        inner = parse_reply(answer)
        if inner.offer_answer() is not None:
            return Reply(inner.kind, inner.number, code.upper())
    if word in _KEYWORDS:
        return Reply(_KEYWORDS[word])
    if word.isascii() and word.isdigit() and 1 <= int(word) <= 5:
        return Reply(ReplyKind.NUMBER, int(word))
    return Reply(ReplyKind.UNKNOWN)
