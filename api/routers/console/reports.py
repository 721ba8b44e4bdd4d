"""The monthly figures page."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.deps import ClockDep, SessionDep
from api.pages import render
from hotline.core.clock import local
from hotline.centre_report.month import month_figures
from api.routers.console.common import Operator, router


@router.get("/stats", response_class=HTMLResponse)
def stats(request: Request, session: SessionDep, clock: ClockDep, user: Operator) -> HTMLResponse:
    today = local(clock.now()).date()
    months, year, month = [], today.year, today.month
    for _ in range(6):
        months.append(month_figures(session, year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return render(request, "console/stats.html", {"user": user, "months": months})
