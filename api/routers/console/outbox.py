"""The SMS outbox as operators see it (numbers masked; every view an access record). In development only,
a reply box: a reply "from" the phone a text went to, handed to the same inbound handler as the Twilio
webhook (the development stand-in for a phone; `dolbom sms` is the one from the terminal)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ClockDep, OfferCtx, SessionDep, SettingsDep, actor
from api.dev_sms import HANDLED_KO
from api.pages import render
from hotline.core.errors import NotFound
from hotline.models import OutboxMessage
from hotline.offers.inbound import handle_sms
from hotline.privacy import access
from hotline.console import outbox_list
from api.routers.console.common import Operator, router


@router.get("/outbox", response_class=HTMLResponse)
def outbox_page(request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep, user: Operator,
                replied: Annotated[str | None, Query(max_length=30)] = None) -> HTMLResponse:
    """Recent texts with the request each belongs to. Bodies can carry names and numbers (a confirmation
    does): numbers are masked in them too, and every view is an access record."""
    messages = outbox_list.recent(session)
    access.log_access(session, actor=actor(user), action="console_read_outbox", request=None, now=clock.now())
    page = render(request, "console/outbox.html", {"user": user, "messages": messages,
                                                   "dev": settings.is_development,
                                                   "replied": HANDLED_KO.get(replied or "", "처리했습니다")
                                                   if replied else None})
    session.commit()
    return page


@router.post("/outbox/reply")
def reply(message: Annotated[int, Form(ge=1, le=2_147_483_647)], body: Annotated[str, Form(min_length=1, max_length=160)],
          session: SessionDep, clock: ClockDep, settings: SettingsDep, ctx: OfferCtx, user: Operator) -> Response:
    """Development only: `body` as if the recipient of text `message` had answered it by SMS."""
    if not settings.is_development:
        raise NotFound("답장 상자", "Reply box")
    sent = session.get(OutboxMessage, message)
    if sent is None:
        raise NotFound("문자", "Text")
    handled = handle_sms(session, sid="SM" + secrets.token_hex(16), from_number=sent.to, body=body,
                         now=clock.now(), ctx=ctx)
    session.commit()
    return RedirectResponse(f"/console/outbox?replied={handled}", status_code=303)
