"""The providers directory with one day's load."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.deps import ClockDep, GeocoderDep, MaybeDay, SessionDep
from api.pages import render
from hotline.console import directory
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
    return render(request, "console/providers.html", {"user": user, "rows": rows, "q": q, "day": the_day,
                                                     "national": national})
