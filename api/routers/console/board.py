"""The live board (filters, the groups it refreshes, its version for polling) and the map. The board puts
what needs the operator now first and open; on a busy board the rest fold away (and each group has a page of
its own), so the urgent rows fit the first screen. Adjustment requests and follow-up cases sit beside the
requests with their counts; a search also finds finished requests."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from sqlmodel import select

from api.deps import ClockDep, GeocoderDep, MaybeDay, SessionDep, SettingsDep
from api.pages import render
from hotline.core.clock import local
from hotline.console import intake_form, labels, read, search
from hotline.models import Provider
from api.routers.console.common import Operator, router


def _filters(q: str, status: str, city: str, day: date | None, need: str) -> read.Filters:
    return read.Filters(q=q.strip()[:40], status=status if status in labels.STATUS else "",
                        city=city.strip()[:20], day=day, need=need if need in labels.NEED else "")


def _typed_day(typed: str, day: date | None, clock) -> date | None:
    """A day typed as on the intake form ("1125", "내일"), or the ISO `date` parameter."""
    if typed.strip():
        return intake_form.parse_day(typed, local(clock.now()).date()) or day
    return day


Q = Annotated[str, Query(max_length=40)]
Short = Annotated[str, Query(max_length=20)]


BUSY = 25  # more active requests than this: the groups that can wait fold away, the urgent ones are cut at
URGENT_ROWS = 15  # … this many rows each (the rest one click away), so they fit the first screen
FOLDED_ROWS = 40  # a folded group shows this many when opened; its page (?group=) shows all


def _board_context(session, clock, geocoder, filters: read.Filters, group: str = "",
                   retention_days: int = 90) -> dict[str, Any]:
    now = clock.now()
    groups = read.board(session, now=now, places=geocoder, filters=filters)
    total = sum(len(g.rows) for g in groups)
    past = search.past(session, filters, places=geocoder)
    if past:
        groups.append(read.Group("past", "지난 요청 (완료·취소)", f"완료·취소된 요청 중 찾은 것, 최근 {search.LIMIT}건까지",
                                 rows=past))
    busy = total > BUSY and not filters.any
    return {"groups": groups, "now": now, "filters": filters, "version": read.board_version(session),
            "total": total, "found_past": len(past), "searched_past": search.wants_past(filters),
            "busy": busy, "group": group if group in {g.key for g in groups} else "",
            "urgent_rows": URGENT_ROWS, "folded_rows": FOLDED_ROWS, "retention_days": retention_days,
            **_work(session, now)}


def _work(session, now) -> dict[str, Any]:
    """Adjustment requests and follow-up cases: on the board beside the requests, with their counts."""
    from hotline.aftercare import service as aftercare
    from hotline.records import adjustments

    waiting = adjustments.waiting(session)
    cases = aftercare.open_cases(session)
    return {"adjustments": waiting, "stale_adjustments": len(adjustments.stale(session)), "followups": cases,
            "overdue": sum(1 for c, _ in cases if c.due_at < now), "kinds": adjustments.KINDS_KO,
            "sources": aftercare.SOURCES_KO}


@router.get("", response_class=HTMLResponse)
def board(request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, settings: SettingsDep,
          user: Operator, q: Q = "", status: Short = "", city: Short = "", need: Short = "", day: MaybeDay = None,
          when: Short = "", group: Short = "") -> HTMLResponse:
    context = _board_context(session, clock, geocoder, _filters(q, status, city, _typed_day(when, day, clock), need),
                             group, settings.retention_days)
    cities = sorted({p.city_ko for p in geocoder.places})
    # in SQL: reading every provider to find the few paused took seconds with 30,000 of them (issue 23)
    paused = list(session.exec(select(Provider).where(Provider.active == True,  # noqa: E712
                                                      Provider.paused_until > clock.now())))
    return render(request, "console/board.html", {
        "user": user, **context, "cities": cities, "statuses": labels.STATUS, "needs": labels.NEED,
        "paused": paused, "query": request.url.query, "today": local(clock.now()).date()})


@router.get("/board/groups", response_class=HTMLResponse)
def board_groups(request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep,
                 settings: SettingsDep, user: Operator, q: Q = "", status: Short = "", city: Short = "",
                 need: Short = "", day: MaybeDay = None, when: Short = "", group: Short = "") -> HTMLResponse:
    """The board's groups alone: what the page fetches when the version changes."""
    context = _board_context(session, clock, geocoder, _filters(q, status, city, _typed_day(when, day, clock), need),
                             group, settings.retention_days)
    return render(request, "console/_groups.html", {"user": user, **context})


@router.get("/board/version", response_class=PlainTextResponse)
def board_version(session: SessionDep, user: Operator) -> str:
    """Polled every two seconds by each open board: any worker answers from the same database."""
    return read.board_version(session)


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, user: Operator) -> HTMLResponse:
    """Active requests and providers on a Gyeonggi map drawn from the place table (no tiles)."""
    from hotline.console.geo_map import draw

    return render(request, "console/map.html", {"user": user, **draw(session, geocoder, now=clock.now())})
