"""Twilio webhooks: inbound SMS and delivery-status callbacks, each validated with X-Twilio-Signature
against the configured public URL. Unsigned or mis-signed requests get 403 and change nothing. (In
development without Twilio, `dolbom sms` signs with the development secret: api.dev_sms.)"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from twilio.request_validator import RequestValidator

from api.deps import ClockDep, OfferCtx, SessionDep, SettingsDep
from api.dev_sms import inbound_token
from hotline.core.errors import Forbidden, invalid
from hotline.offers.inbound import handle_sms
from hotline.sms.outbox import apply_status
from hotline.core.phones import to_e164

router = APIRouter(prefix="/v1/webhooks/twilio", tags=["webhooks"])
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def signed_form(request: Request, settings: SettingsDep) -> dict[str, str]:
    form = {k: str(v) for k, v in (await request.form()).items()}
    signature = request.headers.get("X-Twilio-Signature", "")
    # Twilio signs the public URL it called, which behind a proxy differs from what we see
    url = settings.public_url.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    token = inbound_token(settings)
    if not (token and signature and RequestValidator(token).validate(url, form, signature)):
        raise Forbidden("서명이 없거나 올바르지 않은 요청입니다.", "Missing or invalid Twilio signature.")
    return form


SignedForm = Annotated[dict[str, str], Depends(signed_form)]
# a Twilio message sid: two letters (SM, MM) and 32 hex digits. Kept whole: cut to a column's width, two
# sids sharing a prefix were taken for one message and the second was dropped (issue 18, defect 9)
SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")


def message_sid(form: dict[str, str], *keys: str) -> str:
    sid = next((form[k] for k in keys if form.get(k)), "")
    if sid and not SID.fullmatch(sid):
        raise invalid("MessageSid", "Twilio 메시지 ID(MessageSid) 형식이 아닙니다.",
                      "MessageSid is not a Twilio message sid (two letters and 32 hex digits).")
    return sid


@router.post("/sms", response_class=Response,
             responses={200: {"description": "Empty TwiML: replies go through the outbox",
                              "content": {"application/xml": {"schema": {"type": "string"}}}}})
def inbound_sms(form: SignedForm, session: SessionDep, clock: ClockDep, ctx: OfferCtx) -> Response:
    sender = form.get("From", "")
    try:
        sender = to_e164(sender, "From")
    except Exception:  # noqa: BLE001  (short codes and alphanumeric senders: keep as given)
        pass
    handle_sms(session, sid=message_sid(form, "MessageSid", "SmsSid"), from_number=sender[:20],
               body=form.get("Body", ""), now=clock.now(), ctx=ctx)
    session.commit()
    # replies go through the outbox (recorded, retried, opt-outs honoured), not TwiML
    return Response(EMPTY_TWIML, media_type="application/xml")


@router.post("/status", status_code=204, response_class=Response)
def delivery_status(form: SignedForm, session: SessionDep, clock: ClockDep) -> Response:
    apply_status(session, message_sid(form, "MessageSid"), form.get("MessageStatus", ""), form.get("ErrorCode"),
                 now=clock.now())
    session.commit()
    return Response(status_code=204)
