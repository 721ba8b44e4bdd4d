"""The centre report in the console: one city (or the province) and one month, with charts, and the same
figures as CSV and XLSX for the official to hand in."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import ClockDep, GeocoderDep, SessionDep
from api.pages import render
from api.routers.console.common import Operator, same_origin
from hotline.centre_report import charts, export
from hotline.centre_report.figures import PROVINCE, month_report, rows
from hotline.core.clock import local
from hotline.core.errors import invalid

router = APIRouter(prefix="/console/centre-report", tags=["console"], include_in_schema=False,
                   dependencies=[Depends(same_origin)])
Month = Annotated[str, Query(max_length=7)]
City = Annotated[str, Query(max_length=20)]


def _month(text: str, clock) -> tuple[int, int]:
    if not text:
        today = local(clock.now()).date()
        return today.year, today.month
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        raise invalid("month", "월은 2026-11처럼 입력해 주세요.", "Give the month as 2026-11.")
    return int(m.group(1)), int(m.group(2))


def _report(session, geocoder, clock, month: str, city: str):
    year, mon = _month(month, clock)
    report = month_report(session, geocoder, year, mon)
    fig = report.get(city or PROVINCE) or report[PROVINCE]
    return f"{year}-{mon:02d}", report, fig


@router.get("", response_class=HTMLResponse)
def page(request: Request, session: SessionDep, geocoder: GeocoderDep, clock: ClockDep, user: Operator,
         month: Month = "", city: City = "") -> HTMLResponse:
    label, report, fig = _report(session, geocoder, clock, month, city)
    rollup = [report[c] for c in report if c != PROVINCE] + [report[PROVINCE]]
    query = f"month={label}&city={quote(fig.city)}"
    return render(request, "console/centre_report.html", {
        "user": user, "now": clock.now(), "fig": fig, "rows": rows(fig), "month": label, "cities": list(report),
        "rollup": [(f, rows(f)) for f in rollup], "query": query,
        "chart_daily": charts.daily_calls(fig), "chart_waits": charts.wait_histogram(fig)})


def _filename(fig, ext: str) -> str:
    return quote(f"센터보고서_{fig.month}_{fig.city}.{ext}")


@router.get(".csv")
def as_csv(session: SessionDep, geocoder: GeocoderDep, clock: ClockDep, user: Operator, month: Month = "",
           city: City = "") -> Response:
    _, report, fig = _report(session, geocoder, clock, month, city)
    return Response(export.to_csv(fig, report), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_filename(fig, 'csv')}"})


@router.get(".xlsx")
def as_xlsx(session: SessionDep, geocoder: GeocoderDep, clock: ClockDep, user: Operator, month: Month = "",
            city: City = "") -> Response:
    _, report, fig = _report(session, geocoder, clock, month, city)
    return Response(export.to_xlsx(fig, report),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_filename(fig, 'xlsx')}"})
