"""A rehearsed call for a serving process that has just started: one made-up call taken, matched, offered
and presented as an intake would, in the caller's session, which the caller then rolls back.

A process's first call otherwise pays for everything done once — the database connection, SQL compiled
for each statement, the solver's and the templates' first use: ~30 ms more CPU than the next call on the
demo province, ~90 ms on the national world (docs/load-benchmark.md), and that lands on a parent's call
right after every start. Nothing of the rehearsal is kept: its rows go with the rollback, and its texts
and scheduler wake-ups are written only after a commit, which never comes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from hotline.core.clock import at_local, local
from hotline.models import Provider
from hotline.offers.loop import SYSTEM, OfferContext, take_call
from hotline.requests.schemas import CareRequestCreate
from hotline.requests.views import present_request

# Suwon city hall: inside the province, for a database with no provider yet
NO_PROVIDER_POINT = (37.2636, 127.0286)


def rehearse_call(session: Session, *, now: datetime, ctx: OfferContext) -> str:
    """Take a made-up call through the whole intake path; returns its status. Never commit this session."""
    day = local(now).date() + timedelta(days=1)
    born = day - timedelta(days=6 * 365)
    # at a provider's door, so that the rehearsal ranks and offers rather than escalates
    lat, lon = session.exec(select(Provider.lat, Provider.lon).where(col(Provider.active))
                            .order_by(col(Provider.id)).limit(1)).first() or NO_PROVIDER_POINT
    body = CareRequestCreate.model_validate({
        "guardian": {"name": "예행연습", "phone": "010-0000-0000"},
        "children": [{"first_name": "연습", "birth_date": born.isoformat()}],
        "reason": "illness",
        "start_at": at_local(day, "10:00").isoformat(), "end_at": at_local(day, "14:00").isoformat(),
        "location": {"address": "예행연습", "lat": lat, "lon": lon},
        "consent": {"guardian_consent": True},
    })
    created = take_call(session, body, actor=SYSTEM, now=now, ctx=ctx)
    public = present_request(session, created.request, places=ctx.places)
    public.model_dump_json()  # the answer's serialiser, as the route would
    return created.request.status
