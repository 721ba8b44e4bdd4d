"""The providers directory with one day's load, and sending a provider the link to their workspace (the
page then says that the text was queued, or why it was not sent)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ClockDep, GeocoderDep, MaybeDay, RowId, SessionDep, SettingsDep, actor
from api.pages import render
from hotline.console import directory
from hotline.core.errors import DomainError, NotFound
from hotline.models import Provider
from hotline.privacy import access
from hotline.privacy.masking import mask
from hotline.core.clock import local
from hotline.core.phones import national
from hotline.records.workspace_links import send_workspace_link
from api.routers.console.common import Operator, router, wants_problem
from api.routers.console.board import Q, Short, _typed_day

Msg = Annotated[str | None, Query(max_length=200)]


@router.get("/providers", response_class=HTMLResponse)
def providers_page(request: Request, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep, user: Operator,
                   q: Q = "", day: MaybeDay = None, when: Short = "", done: Msg = None,
                   error: Msg = None) -> HTMLResponse:
    """The directory and one day's load: children placed per provider, paused or closed, contact."""
    now = clock.now()
    the_day = _typed_day(when, day, clock) or local(now).date()
    rows = directory.day_rows(session, geocoder, the_day, q=q, now=now)
    # the page shows every provider's phone (a caregiver's is a person's own): an access record, as for a guardian's
    access.log_access(session, actor=actor(user), action="console_read_providers", request=None, now=now)
    page = render(request, "console/providers.html", {"user": user, "rows": rows, "q": q, "day": the_day,
                                                     "national": national, "done": done, "error": error})
    session.commit()
    return page


@router.post("/providers/{provider_id}/workspace-link")
def send_link(provider_id: RowId, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep,
              user: Operator, q: Annotated[str, Form(max_length=40)] = "",
              when: Annotated[str, Form(max_length=20)] = "") -> Response:
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise NotFound("돌봄기관", "Provider")
    view = {"q": q, "when": when}
    try:
        send_workspace_link(session, provider, base=settings.public_url, secret=settings.secret_key, now=clock.now(),
                            days=settings.workspace_link_days)
        session.commit()
    except DomainError as exc:
        session.rollback()
        if wants_problem(request):
            raise
        view["error"] = f"{provider.name}: {exc.detail_ko or exc.title_ko}"
    else:
        view["done"] = (f"{provider.name}({mask(provider.phone)})에 업무 화면 링크 문자를 보냈습니다(발송 대기열). "
                        f"이전 링크는 이제 열리지 않습니다. 전달 상태는 문자 발송함에서 볼 수 있습니다.")
    query = urlencode({k: v for k, v in view.items() if v})
    return RedirectResponse(f"/console/providers?{query}#msg", status_code=303)
