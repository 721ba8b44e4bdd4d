"""The providers directory with one day's load."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.deps import ClockDep, GeocoderDep, MaybeDay, SessionDep, actor
from api.pages import render
from hotline.console import directory
from hotline.privacy import access
from hotline.core.clock import local
from hotline.core.phones import national
from api.routers.console.common import Operator, router
from api.routers.console.board import Q, Short, _typed_day


@router.get("/providers", response_class=HTMLResponse)
def providers_page(request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, user: Operator,
                   q: Q = "", day: MaybeDay = None, when: Short = "") -> HTMLResponse:
    """The directory and one day's load: children placed per provider, paused or closed, contact."""
    now = clock.now()
    the_day = _typed_day(when, day, clock) or local(now).date()
    rows = directory.day_rows(session, geocoder, the_day, q=q, now=now)
    # the page shows every provider's phone (a caregiver's is a person's own): an access record, as for a guardian's
    access.log_access(session, actor=actor(user), action="console_read_providers", request=None, now=now)
    page = render(request, "console/providers.html", {"user": user, "rows": rows, "q": q, "day": the_day,
                                                     "national": national})
    session.commit()
    return page
