"""Inbound SMS: a provider answering an offer, a parent cancelling or answering the survey, anyone
saying STOP / START / HELP. Each Twilio MessageSid is handled once (Twilio retries failed webhooks)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hotline.offers.cancel import cancel_request
from hotline.requests.lifecycle import CANCELLABLE, RequestStatus
from hotline.models import CareRequest, Guardian, InboundMessage, Offer, OfferStatus, OptOut, Provider
from hotline.core.db import lock
from hotline.core.errors import DomainError
from hotline.core.clock import local
from hotline.offers.loop import OfferContext
from hotline.offers import fallthrough
from hotline.offers.answers import Outcome, answer, late_answerable
from hotline.sms.outbox import enqueue
from hotline.sms.replies import ReplyKind, parse_reply
from hotline.sms.templates import offer_choices


def handle_sms(session: Session, *, sid: str, from_number: str, body: str, now: datetime, ctx: OfferContext) -> str:
    """Returns what the message was taken as (kept on the inbound row, shown in the console)."""
    # no MessageSid, nothing to recognise a retry by: each such message is its own (it was de-duplicated
    # on the empty string, and every one after the first was dropped: issue 9, defect 11)
    sid = sid or f"nosid-{uuid.uuid4().hex}"
    try:
        with session.begin_nested():
            inbound = InboundMessage(sid=sid, from_number=from_number, body=body[:1600], received_at=now)
            session.add(inbound)
            session.flush()
    except IntegrityError:
        return "duplicate"
    inbound.handled_as = _handle(session, from_number, body, now=now, ctx=ctx)
    session.add(inbound)
    return inbound.handled_as


def _reply(session: Session, to: str, kind: str, lang: str, now: datetime, **values) -> None:
    enqueue(session, to=to, kind=kind, lang=lang, now=now, **values)


def _offer_answered(session: Session, provider: Provider, code: str | None, *, now: datetime, ctx: OfferContext,
                    skip: set[int] = frozenset()) -> tuple[Offer | None, list[tuple[Offer, CareRequest]]]:
    """Which offer a provider's 1/2 answers: the one its code names; without a code, the only open offer
    (or, with none open, the only one still answerable late). Several: None and the choices to ask about.
    Under the "rounds" policy a bare answer takes the open offer that expires first, as it always did."""
    if code is not None:
        if skip:
            return None, []
        named = session.exec(select(Offer).where(Offer.provider_id == provider.id, Offer.reply_code == code)
                             .order_by(col(Offer.id).desc())).first()
        return named, []
    open_now = session.exec(select(Offer).where(Offer.provider_id == provider.id, Offer.status == OfferStatus.pending,
                                                Offer.expires_at > now, col(Offer.id).not_in(skip))
                            .order_by(col(Offer.expires_at), col(Offer.id))).all()
    if ctx.settings.offer_policy.mode == "rounds":
        return (open_now[0] if open_now else None), []
    choices = list(open_now) or [o for o in late_answerable(session, provider, now=now, ctx=ctx) if o.id not in skip]
    if len(choices) == 1:
        return choices[0], []
    requests = {r.id: r for r in session.exec(select(CareRequest).where(
        col(CareRequest.id).in_([o.request_id for o in choices])))}
    return None, [(o, requests[o.request_id]) for o in choices]


def _handle(session: Session, phone: str, body: str, *, now: datetime, ctx: OfferContext) -> str:
    reply = parse_reply(body)
    provider = session.exec(select(Provider).where(Provider.phone == phone)).first()
    guardian = session.exec(select(Guardian).where(Guardian.phone == phone)).first()
    lang = (provider.language if provider else guardian.language if guardian else "ko")

    if reply.kind == ReplyKind.STOP:
        if session.get(OptOut, phone) is None:
            session.add(OptOut(phone=phone, at=now))
        _reply(session, phone, "opt_out_ack", lang, now)
        return "stop"
    if reply.kind == ReplyKind.START:
        if (row := session.get(OptOut, phone)) is not None:
            session.delete(row)
        _reply(session, phone, "opt_in_ack", lang, now)
        return "start"
    if provider is None and guardian is None:
        return "ignored"  # an unknown number gets no reply: we do not text strangers
    if reply.kind == ReplyKind.HELP:
        _reply(session, phone, "help", lang, now)
        return "help"

    if provider is not None and reply.kind in (ReplyKind.CANCEL, ReplyKind.ARRIVED):
        lock(session, Provider, provider.id)
        handled = (fallthrough.withdraw_by_sms if reply.kind == ReplyKind.CANCEL else fallthrough.arrived_by_sms)(
            session, provider, reply.code, now=now, ctx=ctx)
        if handled and handled != "arrived_refused":
            return handled
    if guardian is not None and reply.kind == ReplyKind.NOT_ARRIVED:
        placed = session.exec(select(CareRequest).where(CareRequest.guardian_id == guardian.id,
                                                        col(CareRequest.status).in_(list(fallthrough.PLACED)))
                              .order_by(col(CareRequest.start_at))).first()
        if placed is not None:
            try:
                fallthrough.report_not_arrived(session, placed, by="guardian:sms", now=now)
            except DomainError:
                pass  # not started yet: the help text below says how to reach the centre
            else:
                _reply(session, phone, "not_arrived_ack", lang, now, request_id=placed.id)
                return "not_arrived"
    if provider is not None and (kind := reply.offer_answer()) is not None:
        lock(session, Provider, provider.id)  # before choosing the offer: concurrent replies queue here
        tried: set[int] = set()
        while True:
            offer, candidates = _offer_answered(session, provider, reply.code, now=now, ctx=ctx, skip=tried)
            if offer is None and len(candidates) > 1:  # never a guess: ask which one
                choices = offer_choices([(o.reply_code, f"{local(r.start_at):%m/%d %H:%M}") for o, r in candidates])
                _reply(session, phone, "which_offer", lang, now, reply=candidates[0][0].reply_code, choices=choices)
                return "ambiguous"
            if offer is None:
                _reply(session, phone, "already_filled", lang, now)
                return "late_answer"
            outcome = answer(session, offer.id, accept=kind == ReplyKind.ACCEPT, channel="sms", now=now, ctx=ctx)
            # "rounds": a bare answer chose the first-expiring offer before taking the request's lock; if
            # another accept withdrew it meanwhile, the answer belongs to the provider's next open offer
            rounds = ctx.settings.offer_policy.mode == "rounds"
            if outcome == Outcome.closed and rounds and reply.code is None and len(tried) < 5:
                tried.add(offer.id)
                continue
            if outcome in (Outcome.filled, Outcome.closed):
                _reply(session, phone, "already_filled", lang, now, request_id=offer.request_id)
            return f"offer_{outcome.value}"

    if guardian is not None:
        requests = session.exec(select(CareRequest).where(CareRequest.guardian_id == guardian.id)
                                .order_by(col(CareRequest.id).desc())).all()
        if reply.kind == ReplyKind.CANCEL:
            active = next((r for r in requests if RequestStatus(r.status) in CANCELLABLE), None)
            if active is not None:
                cancel_request(session, active, actor="guardian:sms", now=now, reason="보호자 문자 취소")
                return "cancel"
        if reply.kind == ReplyKind.NUMBER:
            surveyed = next((r for r in requests if r.survey_sent_at and r.survey_score is None), None)
            if surveyed is not None:
                from hotline.aftercare.service import record_survey  # a low score opens a follow-up case

                record_survey(session, surveyed, reply.number, now=now)
                _reply(session, phone, "survey_thanks", lang, now, request_id=surveyed.id)
                return "survey"
    _reply(session, phone, "help", lang, now)
    return "help"
