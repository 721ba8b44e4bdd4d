"""What providers did with their past offers: each provider's odds of accepting, answering at all and how
fast (from its own history, shrunk towards the prior by `hotline.offers.policy.odds`), and the reply codes
it has recently seen (so a new offer's code is one it cannot confuse)."""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from hotline.core.config import OfferPolicy
from hotline.models import Offer, OfferStatus, Provider
from hotline.offers.policy import History, Odds, odds


def provider_odds(session: Session, provider_ids: list[int], *, now: datetime,
                  policy: OfferPolicy) -> dict[int, Odds]:
    """Each provider's odds from its own offer history (hotline.offers.policy.odds)."""
    ids = set(provider_ids)
    history: dict[int, dict] = {i: {"accepted": 0, "declined": 0, "silent": 0, "log_delays": []} for i in ids}
    if ids:
        since = now - timedelta(days=policy.history_days)
        rows = session.exec(select(Offer.provider_id, Offer.status, Offer.created_at, Offer.answered_at,
                                   Offer.answer_channel)
                            .where(col(Offer.provider_id).in_(ids), Offer.created_at >= since,
                                   Offer.status != OfferStatus.pending))
        for pid, status, created, answered, channel in rows:
            h = history[pid]
            if channel in ("sms", "link") and answered is not None:
                # a provider that accepted and then withdrew or did not turn up counts as a decline: what the
                # odds predict is a place the family can count on; a placement the operator moved stays an accept
                h["accepted" if status in (OfferStatus.accepted, OfferStatus.released) else "declined"] += 1
                h["log_delays"].append(math.log(max((answered - created).total_seconds() / 60, 0.1)))
            elif status == OfferStatus.expired:
                h["silent"] += 1
            # withdrawn before any answer: no evidence either way
    return {i: odds(History(h["accepted"], h["declined"], h["silent"], tuple(h["log_delays"])), policy)
            for i, h in history.items()}


def codes_seen(session: Session, provider_ids: list[int], now: datetime) -> dict[int, set[str]]:
    """The reply codes each provider has seen on an offer in two days (one read for a whole wave)."""
    seen: dict[int, set[str]] = {i: set() for i in provider_ids}
    for pid, code in session.exec(select(Offer.provider_id, Offer.reply_code)
                                  .where(col(Offer.provider_id).in_(provider_ids),
                                         Offer.created_at >= now - timedelta(days=2))):
        seen[pid].add(code)
    return seen


def reply_code(session: Session, provider: Provider, now: datetime, seen: set[str] | None = None) -> str:
    """The first code (A1, A2, … Z9; no I or O) the provider has not seen on an offer in two days."""
    used = codes_seen(session, [provider.id], now)[provider.id] if seen is None else seen
    for letter in CODE_LETTERS:
        for digit in "123456789":
            if (code := letter + digit) not in used:
                return code
    return secrets.choice(CODE_LETTERS) + secrets.choice("123456789")


CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
