"""A provider's workspace link: signed for the provider's link version, so that sending a new one (from the
console's providers page) revokes every older link. Nothing here commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from hotline.core.errors import Conflict
from hotline.core.links import sign, verify
from hotline.models import Provider
from hotline.models.sms import OutboxMessage
from hotline.sms.outbox import enqueue, opted_out_phones


def link_purpose(provider: Provider) -> str:
    """What a workspace link is signed for: the provider's current link version (version 0 links, signed
    before any was sent from the console, keep the plain purpose)."""
    version = provider.workspace_link_version
    return "provider" if not version else f"provider:{version}"


def workspace_link(base: str, secret: str, provider: Provider, now: datetime, days: int) -> str:
    return f"{base.rstrip('/')}/p/{sign(secret, link_purpose(provider), provider.id, now + timedelta(days=days))}"


def provider_for_link(session: Session, secret: str, token: str, now: datetime) -> Provider | None:
    """The active provider a workspace link opens, if it is genuine, unexpired and the newest one sent."""
    ident, _, _ = token.partition(".")
    provider = session.get(Provider, int(ident)) if ident.isascii() and ident.isdigit() and len(ident) < 10 else None
    if provider is None or not provider.active:
        return None
    return provider if verify(secret, link_purpose(provider), token, now) == provider.id else None


def send_workspace_link(session: Session, provider: Provider, *, base: str, secret: str, now: datetime,
                        days: int) -> OutboxMessage:
    """A new link by SMS, queued (the outbox row); every link sent before it stops working (a lost phone, a
    staff change). Refused, with the old link left working, when the text could not go out."""
    if not provider.active:
        raise Conflict("활동하지 않는 기관에는 업무 링크를 보낼 수 없습니다.", "The provider is not active.")
    if provider.phone in opted_out_phones(session):
        raise Conflict("이 기관은 문자 수신을 거부(STOP)해 링크 문자를 보낼 수 없습니다. 전화로 안내해 주세요.",
                       "The provider opted out of texts: call instead.")
    provider.workspace_link_version += 1
    session.add(provider)
    return enqueue(session, to=provider.phone, kind="workspace_link", lang=provider.language, now=now,
                   workspace_url=workspace_link(base, secret, provider, now, days))
