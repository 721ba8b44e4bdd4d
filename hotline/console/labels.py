"""Korean words for everything the console shows: statuses, offer and SMS states, SMS kinds, reasons,
needs and who did what. Pages show these, never a stored code."""

from __future__ import annotations

import re

from hotline.requests.lifecycle import LABELS_KO

STATUS = {**{s.value: label for s, label in LABELS_KO.items()}, "unmatched": "미매칭"}
OFFER_STATUS = {"pending": "응답 대기", "accepted": "수락", "declined": "거절", "expired": "기한 만료",
                "withdrawn": "철회"}
SMS_STATUS = {"pending": "발송 대기", "sending": "발송 중", "sent": "발송됨", "delivered": "전달됨",
              "undelivered": "전달 실패", "failed": "발송 실패", "suppressed": "수신 거부"}
SMS_KIND = {"intake_ack": "접수 안내", "offer": "돌봄 제안", "offer_plain": "돌봄 제안", "which_offer": "제안 확인 질문",
            "offer_withdrawn": "제안 철회", "offer_details": "수락 기관에 상세 안내", "confirmation": "확정 안내",
            "already_filled": "마감 안내", "help": "도움말", "declined_ack": "거절 확인", "reminder_parent": "보호자 사전 알림",
            "reminder_provider": "기관 사전 알림", "survey": "만족도 조사", "survey_thanks": "조사 감사",
            "cancel_ack": "취소 안내", "cancel_provider": "기관 취소 안내", "unmatched_parent": "미매칭 안내",
            "escalation_operator": "당직 상담원 호출", "opt_out_ack": "수신 거부 확인", "opt_in_ack": "수신 재개 확인"}
REASON = {"illness": "보호자 질병", "family_event": "경조사", "business_trip": "출장", "other": "기타"}
NEED = {"infant": "영아", "special_needs": "특수 돌봄"}
LANGUAGE = {"ko": "한국어", "en": "영어"}
KIND = {"facility": "시설", "caregiver": "방문 돌봄"}
CHANNEL = {"sms": "문자", "link": "링크", "system": "자동"}
COUNT = {"in_radius": "반경 내", "reviewed": "가까운 순 검토", "feasible": "배정 가능", "nearer_used": "더 가까운 곳 사용 중",
         "closed": "운영시간 외", "busy": "다른 방문 중", "full": "정원 초과", "full_by_plan": "다른 요청에 배정",
         "not_selected": "선택 안 됨", "excluded": "거절·만료", "age": "연령 불가", "skill": "필요 역량 없음",
         "language": "언어 불가", "lead_time": "준비 시간 부족", "too_many_children": "아동 수 초과"}
ROLE = {"operator": "상담원", "admin": "관리자", "provider": "기관"}


def needs(values) -> str:
    return ", ".join(NEED.get(n, n) for n in values) or "없음"


def actor(text: str, provider_names: dict[str, str] | None = None, user_names: dict[str, str] | None = None) -> str:
    """`system` → 자동, `operator:op-park` → 상담원 박상담, `provider:pt-f01` → the provider's name."""
    if not text or text == "system":
        return "자동 처리"
    role, _, who = text.partition(":")
    if role == "provider":
        return (provider_names or {}).get(who, "기관")
    if role in ("operator", "admin"):
        name = (user_names or {}).get(who) or who
        return f"{ROLE[role]} {name}"
    if role == "guardian":
        return "보호자"
    if role == "online":
        return "보호자(온라인 신청)"
    return "자동 처리"


_CODE = re.compile(r"(?<![A-Za-z0-9-])[a-z]{2,3}-[a-z]\d{1,3}(?!\d)")  # "pt-f10에": no \b before Hangul


def codes_in(text: str | None) -> set[str]:
    """The provider codes `readable` would name in `text`."""
    return set(_CODE.findall(text or ""))


def readable(text: str, provider_names: dict[str, str]) -> str:
    """An event's reason as written by the offer loop, with provider codes replaced by their names."""
    return _CODE.sub(lambda m: provider_names.get(m.group(0), "기관"), text or "")


_PICKED = re.compile(r"^(\S+) 배정: ")


def solver_summary(explained: dict, placed_code: str | None, provider_names: dict[str, str]) -> str:
    """The solver's summary in the operator's words: its pick is "배정" only once that provider holds the
    placement; before an accept it is the first recommendation (nothing has been assigned yet)."""
    text = explained.get("summary_ko", "") or ""
    picked = explained.get("provider_id")
    if picked and not explained.get("fixed") and picked != placed_code:
        text = _PICKED.sub(r"추천 1순위 \1(수락 전): ", text)
    return readable(text, provider_names)

