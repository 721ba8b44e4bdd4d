"""The SMS outbox: every message is a row written in the same transaction as the state change that caused
it, and a dispatcher sends pending rows.

Delivery guarantee. A row is marked `sending` (committed) before the SMS provider is called and `sent`
(committed, with the provider's sid) after; the dispatcher does both for a chunk of rows at a time (one
transaction to claim ten, one to record their results: ~1 ms a text instead of ~10 on PostgreSQL, whose
every commit waits for the disk). A process that dies in between leaves them `sending`; a 5xx or
a timeout leaves it `pending` with `attempt_started_at` set. Either way the next attempt first asks the
provider whether a message with exactly this body went to this number since that attempt began, and sends
only if none did. So a message is sent twice only if the provider accepted it yet does not list it — never
merely because we crashed or timed out after sending. A 429 was never processed and is retried at once
(with backoff); permanent errors stop and flag the request for an operator. Offers carry a validity period
and are not sent at all once expired."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from hotline.core.db import after_commit, kept_for_transaction, serialize_on
from hotline.models import CareRequest, EarlyStatus, Offer, OfferStatus, OptOut, OutboxMessage, OutboxStatus
from hotline.privacy.masking import mask, without_secrets
from hotline.sms.senders import PermanentSendError, SendResult, SmsSender, TransientSendError
from hotline.sms.templates import render

logger = logging.getLogger("hotline.outbox")

# Set by the scheduler: wakes the dispatcher once a transaction that wrote messages has committed.
KICK: Callable[[], None] | None = None
# In a process without the scheduler (another worker of `dolbom serve --workers N`) on PostgreSQL, the
# transaction itself notifies this channel; PostgreSQL delivers it only if the transaction commits, and the
# scheduler's worker listens (hotline.jobs.OutboxListener). No second connection, nothing sent on rollback.
CHANNEL = "dolbom_outbox"

MAX_BACKOFF = timedelta(minutes=5)
# Kinds a person who said STOP still gets: the confirmation of that STOP and of a later START.
ALWAYS_SENT = frozenset({"opt_out_ack", "opt_in_ack"})
# Texts without which a family or provider would not know where the care stands: if the recipient has
# opted out, an operator must phone instead.
ABOUT_THE_CARE = frozenset({"intake_ack", "confirmation", "offer_details", "unmatched_parent", "cancel_ack",
                            "cancel_provider", "reminder_parent", "reminder_provider"})
# provider statuses in the order a message moves through them; a callback never moves a row backwards
STATUS_RANK = {"queued": 1, "accepted": 1, "sending": 2, "sent": 3, "delivered": 4, "undelivered": 4,
               "failed": 4, "read": 5}


def enqueue(session: Session, *, to: str, kind: str, lang: str, now: datetime, request_id: int | None = None,
            offer_id: int | None = None, expires_at: datetime | None = None, **values: object) -> OutboxMessage:
    body = render(kind, lang, **values)
    opted_out = kind not in ALWAYS_SENT and to in opted_out_phones(session)
    message = OutboxMessage(to=to, body=body, kind=kind, language=lang, request_id=request_id, offer_id=offer_id,
                            status=OutboxStatus.suppressed if opted_out else OutboxStatus.pending,
                            next_attempt_at=now, expires_at=expires_at, created_at=now)
    session.add(message)
    if opted_out and request_id is not None and kind in ABOUT_THE_CARE:
        _flag(session, message, "보호자·기관이 문자 수신을 거부함: 전화로 안내 필요")
    if message.status == OutboxStatus.pending:
        if KICK is not None:
            after_commit(session, KICK)
        else:
            _notify_once(session)
    return message


def _notify_once(session: Session) -> None:
    """NOTIFY the scheduler's worker, once per transaction (PostgreSQL folds repeats, but each costs a trip)."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite workers share no channel; the dispatcher's 5-second interval finds the rows
    # per (sub)transaction: a NOTIFY inside a savepoint that is rolled back is discarded with it, while one
    # sent by an enclosing transaction stands (its rows commit only with it)
    session.connection()  # a transaction is open (get_transaction() is None between transactions)
    transaction = session.get_nested_transaction() or session.get_transaction()
    notified, enclosing = session.info.get("outbox_notified"), transaction
    while enclosing is not None:
        if enclosing is notified:
            return
        enclosing = enclosing.parent
    session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    session.info["outbox_notified"] = transaction


def opted_out_phones(session: Session) -> frozenset[str]:
    """The numbers that said STOP, read once per transaction: every text and every solve asks, and an
    intake sends several. Read again after the session writes an opt-out, rolls back, or its transaction ends."""
    return kept_for_transaction(session, "opted_out", None,
                                lambda: frozenset(session.exec(select(OptOut.phone)).all()),
                                stale_after_flush=_opt_outs_written)


def _opt_outs_written(session: Session) -> bool:
    return any(isinstance(row, OptOut) for row in (*session.new, *session.dirty, *session.deleted))


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=5 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _flag(session: Session, message: OutboxMessage, reason: str) -> None:
    if message.request_id is None:
        return
    request = session.get(CareRequest, message.request_id)
    request.needs_attention = True
    request.attention_reason = reason[:200]
    session.add(request)


def _known_sids(session: Session, row: OutboxMessage) -> frozenset[str]:
    """Sids of our other messages to the same number: a look-up must not adopt one of them."""
    return frozenset(session.exec(select(OutboxMessage.sid).where(OutboxMessage.to == row.to,
                                                                  OutboxMessage.id != row.id,
                                                                  OutboxMessage.sid != None)).all())  # noqa: E711


def recover(engine: Engine) -> int:
    """At start-up (only one dispatcher runs): rows a crash left `sending` are due again; their
    `attempt_started_at` makes the next attempt reconcile before it resends."""
    with Session(engine) as session:
        count = session.exec(update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.sending)
                             .values(status=OutboxStatus.pending)).rowcount
        session.commit()
    return count


@dataclass
class _Attempt:
    """One claimed row on its way to the SMS provider, and what became of it."""
    row: OutboxMessage
    reconcile: bool  # an earlier attempt may have gone through: look it up before sending
    known: frozenset[str] = frozenset()
    result: SendResult | None = None
    transient: TransientSendError | None = None
    never_reached: bool = False  # this send provably did not reach the provider
    permanent: PermanentSendError | None = None
    unexpected: bool = False


def dispatch(engine: Engine, sender: SmsSender, *, now: datetime, status_callback: str | None = None,
             limit: int = 100, chunk: int = 10) -> int:
    """Send what is due, `chunk` rows at a time: one transaction claims them (`sending`, committed), the
    provider is called with no transaction open, one transaction records the results. Exactly one
    dispatcher may run at a time (the scheduler's job has max_instances=1). Returns how many were accepted."""
    # Being the only dispatcher, a row still `sending` now was left by an attempt whose result could not be
    # recorded (the database failed just then): it is due again, reconciled before any resend. Without
    # this it stayed `sending`, unsent and unlooked-at, until the next restart (issue 9, defect 7).
    if stranded := recover(engine):
        logger.warning("%d SMS left mid-send by a failed attempt will be reconciled before any resend", stranded)
    with Session(engine) as session:
        due = session.exec(select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.pending,
                                                          OutboxMessage.next_attempt_at <= now)
                           .order_by(col(OutboxMessage.id)).limit(limit)).all()
    sent = 0
    for first in range(0, len(due), chunk):
        ids = due[first:first + chunk]
        try:
            attempts = _claim(engine, ids, now)
        except Exception:  # noqa: BLE001  (still `pending`: the next run claims them)
            logger.exception("SMS %s–%s: could not be claimed; tried again at the next run", ids[0], ids[-1])
            continue
        for attempt in attempts:
            _send(sender, attempt, now=now, status_callback=status_callback)
        try:
            sent += _record(engine, attempts, now)
        except Exception:  # noqa: BLE001  (still `sending`: the next dispatch recovers and reconciles them)
            logger.exception("SMS %s–%s: results could not be recorded; the next run looks them up first",
                             ids[0], ids[-1])
    return sent


def _claim(engine: Engine, ids: list[int], now: datetime) -> list[_Attempt]:
    """Mark due rows `sending` and commit, so no other dispatcher (or restart) sends them blindly; rows
    whose offer closed or whose validity ran out meanwhile fail here, unsent."""
    with Session(engine, expire_on_commit=False) as session:
        rows = session.exec(select(OutboxMessage)
                            .where(col(OutboxMessage.id).in_(ids), OutboxMessage.status == OutboxStatus.pending,
                                   OutboxMessage.next_attempt_at <= now)
                            .order_by(col(OutboxMessage.id)).with_for_update()).all()
        offers = [r.offer_id for r in rows if r.kind == "offer" and r.offer_id is not None]
        closed = set(session.exec(select(Offer.id).where(col(Offer.id).in_(offers),
                                                         Offer.status != OfferStatus.pending)).all()) if offers else set()
        attempts = []
        for row in rows:
            row.attempts += 1
            if row.expires_at is not None and row.expires_at <= now:
                row.status, row.error = OutboxStatus.failed, "expired before it could be sent"
            elif row.kind == "offer" and row.offer_id in closed:
                row.status, row.error = OutboxStatus.failed, "offer closed before it could be sent"
            else:
                row.status = OutboxStatus.sending
                if row.attempt_started_at is None:
                    row.attempt_started_at = now
                    attempts.append(_Attempt(row, reconcile=False))
                else:
                    attempts.append(_Attempt(row, reconcile=True, known=_known_sids(session, row)))
            session.add(row)
        session.commit()
    return attempts


def _send(sender: SmsSender, attempt: _Attempt, *, now: datetime, status_callback: str | None) -> None:
    """Ask the provider, with no transaction open: on SQLite one would hold the database's write lock, and
    a slow look-up stalled every writer behind it (issue 9, defect 8)."""
    row, sending = attempt.row, False
    try:
        if attempt.reconcile and (found := sender.find_sent(row.to, row.body, row.attempt_started_at,
                                                            exclude=attempt.known)):
            attempt.result = found  # an earlier attempt went through after all: do not send again
            return
        sending = True
        validity = int((row.expires_at - now).total_seconds()) if row.expires_at else None
        attempt.result = sender.send(row.to, row.body, validity_period_s=validity, status_callback=status_callback)
    except TransientSendError as exc:
        attempt.transient, attempt.never_reached = exc, sending and not exc.maybe_sent
        logger.warning("SMS %s transient failure (attempt %d): %s", row.id, row.attempts, exc)
    except PermanentSendError as exc:
        attempt.permanent = exc
    except Exception:  # noqa: BLE001  (one bad row must not stop the batch)
        attempt.unexpected = True
        logger.exception("SMS %s: unexpected failure; retried later with a look-up first", row.id)


def _record(engine: Engine, attempts: list[_Attempt], now: datetime) -> int:
    """The results of one chunk, in one transaction. Returns how many the provider accepted."""
    if not attempts:
        return 0
    sent = 0
    with Session(engine) as session:
        sids = sorted(a.result.sid for a in attempts if a.result is not None)
        # against a status callback for one of these sids being recorded just now (apply_status)
        serialize_on(session, *(f"sms-status:{sid}" for sid in sids))
        early: dict[str, list[EarlyStatus]] = {}
        if sids:
            for status in session.exec(select(EarlyStatus).where(col(EarlyStatus.sid).in_(sids))
                                       .order_by(col(EarlyStatus.id))):
                early.setdefault(status.sid, []).append(status)
        for attempt in attempts:
            row = session.merge(attempt.row, load=False)
            if attempt.result is not None:
                row.status, row.sid, row.sent_at, row.error = OutboxStatus.sent, attempt.result.sid, now, None
                row.provider_status = attempt.result.status
                row.body = without_secrets(row.kind, row.body)  # handed over: nothing here needs the secret again
                for status in early.get(attempt.result.sid, []):
                    _apply(session, row, status.status, status.error_code)  # a callback that came before the sid
                    session.delete(status)
                sent += 1
            elif attempt.permanent is not None:
                exc = attempt.permanent
                # the provider's message quotes the number: keep the code and the masked number only
                row.status, row.error = OutboxStatus.failed, f"Twilio {exc.code or exc.status}: {mask(row.to)}"
                _flag(session, row, f"문자 발송 실패({row.kind}, 오류 {exc.code or exc.status})")
                logger.error("SMS %s failed permanently: %s", row.id, row.error)
            else:  # transient or unexpected: due again after the backoff
                row.status, row.next_attempt_at = OutboxStatus.pending, now + backoff(row.attempts)
                if attempt.transient is not None:
                    row.error = str(attempt.transient)[:300]
                if attempt.never_reached:
                    row.attempt_started_at = None  # nothing to reconcile
            session.add(row)
        session.commit()
    return sent


def apply_status(session: Session, sid: str, status: str, error_code: str | None = None, *,
                 now: datetime | None = None) -> bool:
    """A delivery-status callback. Callbacks arrive in any order: a status never moves backwards. One for
    a sid not recorded yet (Twilio called back before our send returned) is kept and applied when the
    dispatcher records the sid, instead of being dropped (issue 9, defect 15)."""
    if not sid:
        return False
    serialize_on(session, f"sms-status:{sid}")  # against the dispatcher recording this sid just now
    row = session.exec(select(OutboxMessage).where(OutboxMessage.sid == sid)).first()
    if row is None:
        if now is not None:
            session.exec(delete(EarlyStatus).where(col(EarlyStatus.received_at) < now - timedelta(days=2)))
            session.add(EarlyStatus(sid=sid, status=status[:20], error_code=(error_code or None) and error_code[:10],
                                    received_at=now))
        return False
    _apply(session, row, status, error_code)
    return True


def _apply(session: Session, row: OutboxMessage, status: str, error_code: str | None) -> None:
    if STATUS_RANK.get(status, 0) <= STATUS_RANK.get(row.provider_status or "", 0):
        return
    row.provider_status = status
    if status == "delivered":
        row.status = OutboxStatus.delivered
    elif status in ("undelivered", "failed"):
        row.status = OutboxStatus.undelivered
        row.error = f"delivery {status} {error_code or ''}".strip()
        _flag(session, row, f"문자 미전달({row.kind}) {error_code or ''}".strip())
    session.add(row)

