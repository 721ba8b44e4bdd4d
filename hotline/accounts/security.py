"""Accounts and tokens: argon2 password hashes (pwdlib) and signed, expiring JWTs carrying the role."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from hotline.core.errors import DomainError
from hotline.models import Role, SignInAttempt, User

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
                         f"로그인 실패가 많아 {minutes}분 동안 이곳에서의 로그인을 막았습니다.",
                         f"Too many failed sign-ins from here: try again in {minutes} minutes.",
                         status=429, type="/problems/too-many-attempts")


class LoginThrottle:
    """Sign-in attempts, counted in the database (shared by all workers, kept over a restart). From one
    client address, `per_account` unsuccessful attempts at one username within `window`, or `per_client`
    at any usernames, refuse that address for the rest of the window. An account is never locked for
    everyone: a guesser elsewhere cannot keep the operator out (issue 9, defect 6)."""

    def __init__(self, per_account: int = 5, per_client: int = 20, window: timedelta = timedelta(minutes=10)):
        self.per_account, self.per_client, self.window = per_account, per_client, window

    def attempt(self, session: Session, username: str, client: str, now: datetime) -> None:
        """Record the attempt and commit it before the password is looked at, so that concurrent guesses in
        several workers each count (a check-then-record would let a burst through)."""
        since = now - self.window
        session.exec(delete(SignInAttempt).where(col(SignInAttempt.at) < since))
        session.add(SignInAttempt(username=username[:64], client=client[:64], at=now))
        session.commit()
        mine = select(func.count()).select_from(SignInAttempt).where(SignInAttempt.client == client[:64],
                                                                     col(SignInAttempt.at) >= since)
        if session.exec(mine.where(SignInAttempt.username == username[:64])).one() > self.per_account or \
                session.exec(mine).one() > self.per_client:
            raise TooManyAttempts(int(self.window.total_seconds() // 60))

    def succeeded(self, session: Session, username: str, client: str) -> None:
        session.exec(delete(SignInAttempt).where(SignInAttempt.username == username[:64],
                                                 SignInAttempt.client == client[:64]))


def sign_in(session: Session, username: str, password: str, *, client: str, throttle: LoginThrottle,
            now: datetime) -> User:
    """Commits: the record of a failed attempt must outlive the failed request."""
    throttle.attempt(session, username, client, now)
    try:
        user = authenticate(session, username, password)
    except Unauthorized:
        session.commit()
        raise
    throttle.succeeded(session, username, client)
    session.commit()
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
