"""An online application: checked by the very rules of the operator's form (the intake itself, run in a
savepoint that is rolled back), a one-time code by SMS, and on the right code the call path of a phone
call (hotline.offers.take_call). Abuse limits: codes per phone and per client address per hour, five tries
per code, ten minutes per code. Answers never depend on whether a phone already has a request.
"Send the code again" and "change the number" need the form as typed: it waits sealed a second time, under a
key from a random value only the parent's browser holds (a cookie), so that the database alone still
opens nothing. Nothing here commits — except that the router commits a wrong try before showing the error."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from hotline.aftercare.service import record_survey
from hotline.applications import ONLINE_ACTOR
from hotline.models.applications import VerificationCode
from hotline.core.db import lock, serialize_on
from hotline.core.errors import DomainError, invalid
from hotline.applications.form import window_of
from hotline.offers.cancel import cancel_request
from hotline.offers.fallthrough import report_not_arrived
from hotline.offers.plans import PlanChange, change_plan
from hotline.requests.intake import create_care_request
from hotline.requests.lifecycle import CANCELLABLE, RequestStatus, record
from hotline.models import CareRequest
from hotline.offers.loop import OfferContext, take_call
from hotline.sms.outbox import enqueue
from hotline.core.phones import to_e164
from hotline.requests.schemas import CareRequestCreate

CODE_MINUTES = 10
MAX_TRIES = 5
PER_PHONE_PER_HOUR = 3
PER_CLIENT_PER_HOUR = 10


class TooManyCodes(DomainError):
    def __init__(self, hotline: str) -> None:
        super().__init__("잠시 후 다시 시도해 주세요", "Too many requests",
                         f"인증번호 요청이 너무 많습니다. 1시간 뒤에 다시 시도하거나 상담 전화({hotline})로 신청해 주세요.",
                         f"Too many code requests. Try again in an hour or apply by phone on {hotline}.",
                         status=429, type="/problems/too-many-codes")


class CodeGone(DomainError):
    def __init__(self) -> None:
        super().__init__("인증번호를 쓸 수 없습니다", "Code no longer valid",
                         "인증번호가 만료되었거나 입력 횟수를 넘었습니다. 처음부터 다시 신청해 주세요.",
                         "The code expired or was tried too often. Please apply again.",
                         status=410, type="/problems/code-gone")


class WrongCode(DomainError):
    def __init__(self, left: int) -> None:
        super().__init__("입력값을 확인해 주세요", "Invalid input",
                         f"인증번호가 맞지 않습니다. {left}번 더 입력할 수 있습니다.",
                         f"The code does not match. {left} tries left.", status=422,
                         type="/problems/wrong-code")
        from hotline.core.errors import FieldProblem
        self.errors = [FieldProblem("code", self.detail_ko, self.detail_en)]


def _digest(secret: str, purpose: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _draft_key(secret: str, ticket_id: int, code: str) -> AESGCM:
    return AESGCM(hmac.new(secret.encode(), f"draft:{ticket_id}:{code}".encode(), hashlib.sha256).digest())


def _resume_key(secret: str, ticket_id: int, resume: str) -> AESGCM:
    return AESGCM(hmac.new(secret.encode(), f"resume:{ticket_id}:{resume}".encode(), hashlib.sha256).digest())


def _seal(key: AESGCM, ticket_id: int, draft: dict) -> str:
    nonce = secrets.token_bytes(12)
    return base64.b64encode(nonce + key.encrypt(nonce, json.dumps(draft).encode(), f"{ticket_id}".encode())).decode()


def _unseal(key: AESGCM, ticket_id: int, sealed: str) -> dict:
    raw = base64.b64decode(sealed)
    return json.loads(key.decrypt(raw[:12], raw[12:], f"{ticket_id}".encode()))


def seal(secret: str, ticket_id: int, code: str, draft: dict, *, form: dict | None = None,
         resume: str | None = None) -> str:
    """The draft encrypted under a key only the right code gives (issue 18, defect 11); with `resume`, the
    form as typed after it (`.`-separated), under a key only the parent's browser can give."""
    sealed = _seal(_draft_key(secret, ticket_id, code), ticket_id, draft)
    if form is not None and resume:
        sealed += "." + _seal(_resume_key(secret, ticket_id, resume), ticket_id, form)
    return sealed


def unseal(secret: str, ticket_id: int, code: str, sealed: str) -> dict:
    return _unseal(_draft_key(secret, ticket_id, code), ticket_id, sealed.split(".")[0])


def typed_form(session: Session, ticket_id: int, resume: str | None, *, now: datetime, secret: str) -> dict | None:
    """The form as the parent typed it, while its code is open, for the browser that holds `resume`."""
    ticket = session.get(VerificationCode, ticket_id)
    if not resume or ticket is None or ticket.used_at is not None or ticket.expires_at <= now \
            or ticket.attempts >= MAX_TRIES or not ticket.sealed_draft or "." not in ticket.sealed_draft:
        return None
    try:
        return _unseal(_resume_key(secret, ticket_id, resume), ticket_id, ticket.sealed_draft.split(".", 1)[1])
    except (InvalidTag, ValueError):
        return None


def retire(session: Session, ticket_id: int) -> None:
    """A code replaced by a new one ("send the code again") can no longer be used, and its draft is gone."""
    if session.get(VerificationCode, ticket_id) is not None:
        ticket = lock(session, VerificationCode, ticket_id)
        ticket.sealed_draft, ticket.attempts = None, MAX_TRIES
        session.add(ticket)


def forget_expired_drafts(session: Session, *, now: datetime) -> int:
    """Drafts whose code expired unconfirmed are deleted at once; the rows stay for the hourly limits."""
    return session.exec(update(VerificationCode).where(col(VerificationCode.sealed_draft).is_not(None),
                                                       col(VerificationCode.expires_at) <= now)
                        .values(sealed_draft=None)).rowcount


def check_like_the_operator_form(session: Session, body: CareRequestCreate, *, now: datetime,
                                 ctx: OfferContext) -> None:
    """The intake's own validation (consent, age, window, place), run and rolled back: one rule, one place."""
    savepoint = session.begin_nested()
    try:
        create_care_request(session, body, actor=ONLINE_ACTOR, now=now, settings=ctx.settings, geocoder=ctx.places)
    finally:
        savepoint.rollback()


def send_code(session: Session, body: CareRequestCreate, *, client: str, now: datetime, ctx: OfferContext,
              secret: str, form: dict | None = None, resume: str | None = None) -> VerificationCode:
    check_like_the_operator_form(session, body, now=now, ctx=ctx)
    phone = to_e164(body.guardian.phone, "guardian.phone")
    phone_hash = _digest(secret, "phone", phone)
    # parallel requests (several workers) count one after another: a burst cannot slip past the limits
    serialize_on(session, f"apply-phone:{phone_hash}")
    serialize_on(session, f"apply-client:{client[:64]}")
    since = now - timedelta(hours=1)
    recent = select(func.count()).select_from(VerificationCode).where(col(VerificationCode.created_at) >= since)
    if session.exec(recent.where(VerificationCode.phone_hash == phone_hash)).one() >= PER_PHONE_PER_HOUR or \
            session.exec(recent.where(VerificationCode.client == client[:64])).one() >= PER_CLIENT_PER_HOUR:
        raise TooManyCodes(ctx.settings.hotline_number)
    code = f"{secrets.randbelow(10**6):06d}"
    ticket = VerificationCode(phone_hash=phone_hash, client=client[:64], code_hash="",
                              created_at=now, expires_at=now + timedelta(minutes=CODE_MINUTES))
    session.add(ticket)
    session.flush()
    ticket.code_hash = _digest(secret, f"code:{ticket.id}", code)
    ticket.sealed_draft = seal(secret, ticket.id, code, body.model_dump(mode="json"), form=form, resume=resume)
    enqueue(session, to=phone, kind="apply_code", lang=body.guardian.language, now=now,
            expires_at=ticket.expires_at, otp=code)
    return ticket


def confirm_code(session: Session, ticket_id: int, code: str, *, now: datetime, ctx: OfferContext,
                 secret: str) -> CareRequest:
    """The right code turns the draft into a request in the offer loop; a wrong one counts a try (the
    caller commits it even though this raises)."""
    ticket = session.get(VerificationCode, ticket_id)
    if ticket is not None:
        ticket = lock(session, VerificationCode, ticket_id)  # parallel guesses count one after another
    if ticket is None or ticket.used_at is not None or ticket.expires_at <= now or ticket.attempts >= MAX_TRIES \
            or ticket.sealed_draft is None:
        raise CodeGone()
    ticket.attempts += 1
    session.add(ticket)
    typed = "".join(ch for ch in code if ch.isdigit())[:6]
    if not hmac.compare_digest(_digest(secret, f"code:{ticket.id}", typed), ticket.code_hash):
        session.flush()
        if ticket.attempts >= MAX_TRIES:
            raise CodeGone()
        raise WrongCode(MAX_TRIES - ticket.attempts)
    body = CareRequestCreate.model_validate(unseal(secret, ticket.id, typed, ticket.sealed_draft))
    created = take_call(session, body, actor=ONLINE_ACTOR, now=now, ctx=ctx, idempotency_key=f"online-{ticket.id}")
    ticket.used_at, ticket.request_id, ticket.sealed_draft = now, created.request.id, None  # now the request
    session.add(ticket)
    return created.request


def cancel(session: Session, request: CareRequest, *, now: datetime) -> None:
    if RequestStatus(request.status) not in CANCELLABLE:
        raise invalid("status", "이미 돌봄이 시작되었거나 끝난 요청은 취소할 수 없습니다. 상담 전화로 문의해 주세요.",
                      "This request can no longer be cancelled online; please call the hotline.")
    cancel_request(session, request, actor="guardian:online", now=now, reason="보호자 온라인 취소")


def ask_call_back(session: Session, request: CareRequest, *, now: datetime) -> None:
    """The operator sees the request flagged on the board; asking twice flags it once."""
    reason = "보호자 전화 요청(온라인)"
    if request.needs_attention and request.attention_reason == reason:
        return
    request.needs_attention, request.attention_reason = True, reason
    session.add(request)
    record(session, request, actor="guardian:online", at=now, reason=reason)


def answer_survey(session: Session, request: CareRequest, score: int, *, now: datetime) -> None:
    if request.status != RequestStatus.completed or request.survey_score is not None:
        raise invalid("score", "지금은 만족도 조사에 답할 수 없습니다.", "The survey is not open for this request.")
    record_survey(session, request, score, now=now)
    record(session, request, actor="guardian:online", at=now, reason=f"만족도 응답 {score}점")


def report_absent(session: Session, request: CareRequest, *, now: datetime) -> None:
    """"선생님이 안 오셨어요" on the parent's page: the provider is texted and the operator can re-place at once."""
    report_not_arrived(session, request, by="guardian:online", now=now)


def change_window(session: Session, request: CareRequest, form: dict, *, now: datetime, ctx: OfferContext) -> str:
    """The parent moves the time of care (same rules as the application); see hotline.offers.plans."""
    start_at, end_at = window_of(form, max_hours=ctx.settings.max_window_hours)
    return change_plan(session, request, PlanChange(start=start_at, end=end_at), actor="guardian:online",
                       reason="보호자 온라인 변경", now=now, ctx=ctx)
