"""What an offer wave reads and where it writes: `loop.offer_wave` works through `Waves`, one request's
(`LoneWave`) or many requests' at once (`WaveBatch`).

A lone wave (a call, an answer, a wave come due) reads only its own request's open offers and its own
providers' rows, odds and reply codes, when it needs them, and writes its offers' texts and events after
one flush of its offers.

A batch makes the first waves of many requests (the sweep, and the requests that waited for others'
offers): what each wave reads — the request's open offers, the providers' rows, odds and recent reply
codes, the children — is read once for all of them, and the offers' texts and events are written after one
flush, so that a sweep of hundreds of requests costs a few statements a request instead of twenty (issue
23). It offers and sends what lone waves would, request by request: the reads a wave would make are the
same whichever request comes first (new offers are pending and made `now`, which no odds count), except
the reply codes a provider has seen, which are kept up to date here as codes are handed out."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

import matching
from hotline.core.config import OfferPolicy
from hotline.core.db import lock_all
from hotline.models import CareRequest, Offer, OfferStatus, Provider
from hotline.offers.adapter import never_offered
from hotline.offers.history import Outlook, codes_seen, provider_odds
from hotline.offers.policy import ranking_depth
from hotline.requests.children import children_of_all


class Waves(Protocol):
    """What a wave reads, and where its offers' texts and events wait (`later`) for their offers' flush."""

    later: list[Callable[[], None]]

    def pending_offers(self, session: Session, request: CareRequest) -> list[tuple[Offer, Provider]]: ...

    def rank(self, problem: matching.Problem, request_id: int, *, k: int,
             plan: matching.Plan | None) -> list[matching.Candidate]: ...

    def provider_rows(self, session: Session, codes: list[str]) -> dict[str, Provider]: ...

    def odds(self, session: Session, ids: list[int], policy: OfferPolicy) -> Outlook: ...

    def codes(self, session: Session, ids: list[int]) -> dict[int, set[str]]: ...

    def holding_flush(self, session: Session) -> AbstractContextManager: ...

    def wave_made(self, session: Session) -> None: ...


@dataclass
class LoneWave:
    """One request's wave, reading for itself as it goes (no offers to look for in the intake's first)."""

    now: datetime
    later: list[Callable[[], None]] = field(default_factory=list)

    def pending_offers(self, session: Session, request: CareRequest) -> list[tuple[Offer, Provider]]:
        if never_offered(session, request):
            return []
        return list(session.exec(select(Offer, Provider).join(Provider, Provider.id == Offer.provider_id)
                                 .where(Offer.request_id == request.id, Offer.status == OfferStatus.pending)))

    def rank(self, problem: matching.Problem, request_id: int, *, k: int,
             plan: matching.Plan | None) -> list[matching.Candidate]:
        return matching.rank_providers(problem, str(request_id), k=k, plan=plan)

    def provider_rows(self, session: Session, codes: list[str]) -> dict[str, Provider]:
        return {p.code: p for p in session.exec(select(Provider).where(col(Provider.code).in_(codes)))}

    def odds(self, session: Session, ids: list[int], policy: OfferPolicy) -> Outlook:
        return provider_odds(session, ids, now=self.now, policy=policy)

    def codes(self, session: Session, ids: list[int]) -> dict[int, set[str]]:
        return codes_seen(session, ids, self.now)

    def holding_flush(self, session: Session) -> AbstractContextManager:
        return nullcontext()  # the wave's offers are made after its event: nothing unflushed to hold back

    def wave_made(self, session: Session) -> None:
        _flush_then_write(session, self.later)


@dataclass
class WaveBatch:
    now: datetime
    open_offers: dict[int, list[tuple[Offer, Provider]]]  # pending offers by request id
    found: dict[int, list[matching.Candidate]] = field(default_factory=dict)  # the solver's ranking, read ahead
    rows: dict[str, Provider] = field(default_factory=dict)
    outlooks: dict[str, Outlook] = field(default_factory=dict)
    seen: dict[int, set[str]] = field(default_factory=dict)
    later: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def read(cls, session: Session, requests: list[CareRequest], *, now: datetime, problem: matching.Problem,
             plan: matching.Plan, policies: dict[int, OfferPolicy]) -> WaveBatch:
        """Each request's open offers, the children, and — for the requests with a wave to make (`policies`:
        theirs) — the solver's ranking, then the rows of every provider those rankings name."""
        ids = [r.id for r in requests]
        lock_all(session, CareRequest, ids)  # one statement, not a row lock in each wave's transition
        open_offers: dict[int, list[tuple[Offer, Provider]]] = {}
        for offer, provider in session.exec(select(Offer, Provider).join(Provider, Provider.id == Offer.provider_id)
                                            .where(col(Offer.request_id).in_(ids),
                                                   Offer.status == OfferStatus.pending).order_by(col(Offer.id))):
            open_offers.setdefault(offer.request_id, []).append((offer, provider))
        children_of_all(session, requests)  # every offer's text names the children's ages
        batch = cls(now, open_offers)
        depth = {str(request_id): ranking_depth(policy, {p.code for _, p in open_offers.get(request_id, [])})
                 for request_id, policy in policies.items()}
        # the tables and loads once for all: the same rankings as request by request (matching.rank_many)
        batch.found = {int(rid): found for rid, found in matching.rank_many(problem, depth, plan=plan).items()}
        batch.provider_rows(session, {c.provider_id for found in batch.found.values() for c in found})
        return batch

    def pending_offers(self, session: Session, request: CareRequest) -> list[tuple[Offer, Provider]]:
        return self.open_offers.get(request.id, [])

    def rank(self, problem: matching.Problem, request_id: int, *, k: int,
             plan: matching.Plan | None) -> list[matching.Candidate]:
        """The ranking read ahead (taken once), else the request's own."""
        found = self.found.pop(request_id, None)
        return found if found is not None else matching.rank_providers(problem, str(request_id), k=k, plan=plan)

    def provider_rows(self, session: Session, codes: set[str] | list[str]) -> dict[str, Provider]:
        missing = [c for c in codes if c not in self.rows]
        if missing:  # a wave reads none of the JSON columns: not parsed for thousands of rows (loaded if asked)
            self.rows.update({p.code: p for p in session.exec(
                select(Provider).where(col(Provider.code).in_(missing))
                .options(*(defer(c) for c in (Provider.skills, Provider.languages, Provider.weekly_hours,
                                              Provider.closures))))})
        return {c: self.rows[c] for c in codes if c in self.rows}

    def _ids(self) -> set[int]:
        return {p.id for p in self.rows.values()} | {p.id for offers in self.open_offers.values() for _, p in offers}

    def odds(self, session: Session, ids: list[int], policy: OfferPolicy) -> Outlook:
        """`provider_odds` for every provider of the batch, once per policy (a city may have its own)."""
        key = policy.model_dump_json()
        kept = self.outlooks.get(key)
        if kept is None:
            kept = self.outlooks[key] = provider_odds(session, sorted(self._ids() | set(ids)), now=self.now,
                                                      policy=policy)
        missing = [i for i in ids if i not in kept.base]
        if missing:
            more = provider_odds(session, missing, now=self.now, policy=policy)
            kept = self.outlooks[key] = Outlook({**kept.base, **more.base}, kept.effect)
        return kept

    def codes(self, session: Session, ids: list[int]) -> dict[int, set[str]]:
        """The reply codes each provider has seen (its sets grow as this batch hands codes out)."""
        missing = [i for i in (ids if self.seen else self._ids() | set(ids)) if i not in self.seen]
        if missing:
            self.seen.update(codes_seen(session, missing, self.now))
        return {i: self.seen[i] for i in ids}

    def holding_flush(self, session: Session) -> AbstractContextManager:
        """The batch writes at its end: the lock's re-read of the row flushes nothing (and would discard a
        change not yet written)."""
        return session.no_autoflush

    def wave_made(self, session: Session) -> None:
        pass  # the batch's offers wait for `finish`

    def finish(self, session: Session) -> None:
        """One flush for the batch's offers (their ids), then their texts and events."""
        _flush_then_write(session, self.later)


def _flush_then_write(session: Session, later: list[Callable[[], None]]) -> None:
    session.flush()
    for write in later:
        write()
    later.clear()
