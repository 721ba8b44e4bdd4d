"""The SMS outbox as operators see it (numbers masked; every view an access record)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.deps import ClockDep, SessionDep, actor
from api.pages import render
from hotline.privacy import access
from hotline.console import outbox_list
from api.routers.console.common import Operator, router


@router.get("/outbox", response_class=HTMLResponse)
def outbox_page(request: Request, session: SessionDep, clock: ClockDep, user: Operator) -> HTMLResponse:
    """Recent texts with the request each belongs to. Bodies can carry names and numbers (a confirmation
    does): numbers are masked in them too, and every view is an access record."""
    messages = outbox_list.recent(session)
    access.log_access(session, actor=actor(user), action="console_read_outbox", request=None, now=clock.now())
    page = render(request, "console/outbox.html", {"user": user, "messages": messages})
    session.commit()
    return page
