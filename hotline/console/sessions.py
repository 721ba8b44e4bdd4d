"""Console sign-in sessions, kept in the database: the cookie is a random token, the row its SHA-256.
Signing out revokes the row, so a copied or cached cookie stops working at once in every worker."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, select

from hotline.models import ConsoleSession, User


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: User, *, now: datetime, minutes: int) -> str:
    """A new session for `user`; returns the cookie value (never stored as such)."""
    token = secrets.token_urlsafe(32)
    session.add(ConsoleSession(token_hash=_digest(token), user_id=user.id, created_at=now,
                               expires_at=now + timedelta(minutes=minutes)))
    return token


def _row(session: Session, token: str) -> ConsoleSession | None:
    if not token or len(token) > 100:
        return None
    return session.exec(select(ConsoleSession).where(ConsoleSession.token_hash == _digest(token))).first()


def signed_in(session: Session, token: str, *, now: datetime) -> tuple[User, datetime] | None:
    """The signed-in user and when the sign-in ends (the page warns before it does), or None when the token
    is unknown, revoked, expired or the account inactive."""
    row = _row(session, token)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    return (user, row.expires_at) if user is not None and user.active else None


def user_for(session: Session, token: str, *, now: datetime) -> User | None:
    found = signed_in(session, token, now=now)
    return found[0] if found else None


def ran_out(session: Session, token: str, *, now: datetime) -> bool:
    """The token was a real sign-in whose time is up (not a sign-out): the sign-in page says so, and the
    browser keeps what was being typed for after the new sign-in."""
    row = _row(session, token)
    return row is not None and row.revoked_at is None and row.expires_at <= now


def revoke(session: Session, token: str, *, now: datetime) -> bool:
    row = _row(session, token)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    session.add(row)
    return True
