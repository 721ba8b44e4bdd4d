"""Inbound SMS replies, classified without context: an answer to an offer (with its code, "1 A7"), a
withdrawal or an arrival ("취소 A7", "도착 A7"), a parent's "선생님이 안 오셨어요", STOP/START/HELP, or a
number (a survey score). The caller (`hotline.offers.inbound`) knows who sent it and decides."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum


class ReplyKind(str, Enum):
    ACCEPT = "accept"
    DECLINE = "decline"
    CANCEL = "cancel"
    STOP = "stop"
    START = "start"
    HELP = "help"
    NUMBER = "number"
    ARRIVED = "arrived"  # a provider checking in by SMS ("도착 A7")
    NOT_ARRIVED = "not_arrived"  # a parent saying the provider has not come ("선생님이 안 오셨어요")
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
    **dict.fromkeys(["도착", "도착함", "도착했습니다", "도착했어요", "arrived", "arrive", "here"], ReplyKind.ARRIVED),
    **dict.fromkeys(["미도착", "안왔어요", "안와요", "안오셨어요", "선생님이안오셨어요", "선생님안오셨어요",
                     "아무도안왔어요", "notarrived", "noshow", "nobodycame"], ReplyKind.NOT_ARRIVED),
}


# "1 A7", "A7 1", "수락 a7", "1a7", "취소 A7", "도착 A7": an answer and the offer's code (a letter and a digit)
_ANSWER = r"[^a-z0-9]+|[0-9]|yes|no|y|n|ok|cancel|arrived|arrive|here"
_CODED = re.compile(rf"^(?:(?P<a1>{_ANSWER})(?P<c1>[a-z][1-9])|(?P<c2>[a-z][1-9])(?P<a2>{_ANSWER}))$")


def parse_reply(text: str) -> Reply:
    # NFKC folds fullwidth digits and letters ("１", "ＹＥＳ") into ASCII; spaces and trailing
    # punctuation ("1.", "수락!", "y e s") are noise on a phone keyboard.
    word = unicodedata.normalize("NFKC", text or "").casefold()
    word = re.sub(r"[\s.!?~,'\"]+", "", word)
    coded = _CODED.match(word)
    if coded:
        answer, code = coded.group("a1") or coded.group("a2"), coded.group("c1") or coded.group("c2")
        inner = parse_reply(answer)
        if inner.offer_answer() is not None or inner.kind in (ReplyKind.CANCEL, ReplyKind.ARRIVED):
            return Reply(inner.kind, inner.number, code.upper())
    if word in _KEYWORDS:
        return Reply(_KEYWORDS[word])
    if word.isascii() and word.isdigit() and 1 <= int(word) <= 5:
        return Reply(ReplyKind.NUMBER, int(word))
    return Reply(ReplyKind.UNKNOWN)
