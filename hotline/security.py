"""Accounts and tokens: argon2 password hashes (pwdlib) and signed, expiring JWTs carrying the role."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash
from sqlmodel import Session, select

from hotline.errors import DomainError
from hotline.models import Role, User

ALGORITHM = "HS256"
_hasher = PasswordHash.recommended()


class Unauthorized(DomainError):
    def __init__(self, detail_ko: str = "로그인이 필요합니다.", detail_en: str = "Authentication required."):
        super().__init__("인증 실패", "Unauthorized", detail_ko, detail_en, status=401, type="/problems/unauthorized")


def use_fast_hashing_for_tests() -> None:
    """Cheap argon2 parameters: the suite creates many accounts and does not test hash strength."""
    global _hasher, _DUMMY
    from pwdlib.hashers.argon2 import Argon2Hasher

    _hasher = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    _DUMMY = hash_password("not-a-real-password")


class TooManyAttempts(DomainError):
    def __init__(self, minutes: int):
        super().__init__("잠시 후 다시 시도해 주세요", "Too many attempts",
                         f"로그인 실패가 많아 {minutes}분 동안 이 계정의 로그인을 막았습니다.",
                         f"Too many failed sign-ins: this account is locked for {minutes} minutes.",
                         status=429, type="/problems/too-many-attempts")


class LoginThrottle:
    """Failed sign-ins per username, in memory: after `limit` failures within `window`, that username is
    refused for `window` (the demo usernames are public; passwords must not be guessable by brute force)."""

    def __init__(self, limit: int = 5, window: timedelta = timedelta(minutes=10)):
        self.limit, self.window = limit, window
        self._failures: dict[str, list[datetime]] = {}

    def check(self, username: str, now: datetime) -> None:
        recent = [t for t in self._failures.get(username, []) if now - t < self.window]
        self._failures[username] = recent
        if len(recent) >= self.limit:
            raise TooManyAttempts(int(self.window.total_seconds() // 60))

    def failed(self, username: str, now: datetime) -> None:
        self._failures.setdefault(username, []).append(now)

    def succeeded(self, username: str) -> None:
        self._failures.pop(username, None)


def sign_in(session: Session, username: str, password: str, *, throttle: LoginThrottle, now: datetime) -> User:
    throttle.check(username, now)
    try:
        user = authenticate(session, username, password)
    except Unauthorized:
        throttle.failed(username, now)
        raise
    throttle.succeeded(username)
    return user


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    # verify against a dummy hash for unknown users too, so timing does not reveal who exists
    ok = _hasher.verify(password, user.password_hash if user else _DUMMY)
    if not (user and ok and user.active):
        raise Unauthorized("아이디 또는 비밀번호가 맞지 않습니다.", "Wrong username or password.")
    return user


def create_token(user: User, *, secret: str, now: datetime, minutes: int) -> str:
    claims: dict[str, Any] = {"sub": user.username, "role": user.role, "pid": user.provider_id,
                              "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def user_from_token(session: Session, token: str, *, secret: str, now: datetime) -> User:
    # expiry is checked against the service clock (tests move it), not PyJWT's own
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"verify_exp": False, "verify_iat": False,
                                                                           "require": ["exp", "sub"]})
    except jwt.PyJWTError:
        claims = None
    if claims is None or claims["exp"] <= now.timestamp():
        raise Unauthorized("로그인이 만료되었거나 올바르지 않습니다.", "Invalid or expired token.")
    user = session.exec(select(User).where(User.username == claims.get("sub"))).first()
    if user is None or not user.active:
        raise Unauthorized()
    return user


def ensure_user(session: Session, username: str, password: str, role: Role, *, full_name: str = "",
                provider_id: int | None = None, password_hash: str | None = None) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        user = User(username=username, full_name=full_name, password_hash=password_hash or hash_password(password),
                    role=role, provider_id=provider_id)
        session.add(user)
        session.flush()
    return user


_DUMMY = hash_password("not-a-real-password")
