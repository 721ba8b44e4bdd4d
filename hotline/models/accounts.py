"""Staff accounts and their sign-ins: users (operators, admins, provider staff), console sessions and the
sign-in throttle's attempts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from hotline.core.columns import ts


class Role(StrEnum):
    operator = "operator"
    admin = "admin"
    provider = "provider"


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    full_name: str = ""
    password_hash: str
    role: Role = Field(sa_type=String(16))
    provider_id: int | None = Field(default=None, foreign_key="provider.id")
    active: bool = True


class SignInAttempt(SQLModel, table=True):
    """A sign-in attempt not known to have succeeded. The throttle counts them per username and client
    address, and per address, here rather than in memory: every worker sees the same count and a restart
    does not reset it (see hotline.accounts.security.LoginThrottle)."""

    __tablename__ = "sign_in_attempt"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, index=True)
    client: str = Field(max_length=64, index=True)
    at: datetime = ts(index=True)


class ConsoleSession(SQLModel, table=True):
    """A signed-in console browser. The cookie holds a random token; only its SHA-256 is stored, so a
    database reader cannot sign in with it. Sign-out (or an admin) sets `revoked_at`: the same cookie is
    refused from then on, in every worker (hotline.console.sessions)."""

    __tablename__ = "console_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = ts()
    expires_at: datetime = ts()
    revoked_at: datetime | None = ts(default=None, nullable=True)
