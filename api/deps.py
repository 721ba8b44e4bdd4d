"""FastAPI dependencies: settings, database session, clock, geocoder and the current user with its role."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from hotline.core.clock import Clock
from hotline.core.config import Settings
from hotline.core.patterns import date_pattern
from hotline.core.errors import Forbidden
from hotline.places.geo import Geocoder
from hotline.models import Role, User
from hotline.offers.loop import OfferContext
from hotline.accounts.security import Unauthorized, user_from_token


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_session(request: Request) -> Iterator[Session]:
    # expire_on_commit=False: routers commit, then still serialise what they created
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


def get_clock(request: Request) -> Clock:
    return request.app.state.clock


def get_geocoder(request: Request) -> Geocoder:
    return request.app.state.geocoder


def get_offer_context(request: Request) -> OfferContext:
    return request.app.state.offer_context


SettingsDep = Annotated[Settings, Depends(get_settings)]
OfferCtx = Annotated[OfferContext, Depends(get_offer_context)]
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]  # larger ids cannot exist: 404, not a database error
# query values the database (or a day's bounds in Seoul) cannot hold are refused up front: 422, not a 500
Offset = Annotated[int, Query(ge=0, le=2_147_483_647)]
# the schema says the same years (a format alone admits 0001-01-01, which is refused)
_DAYS = dict(alias="date", ge=date(2000, 1, 1), le=date(2100, 12, 31), json_schema_extra={"pattern": date_pattern()})
Day = Annotated[date, Query(**_DAYS)]
MaybeDay = Annotated[date | None, Query(**_DAYS)]
SessionDep = Annotated[Session, Depends(get_session)]
ClockDep = Annotated[Clock, Depends(get_clock)]
GeocoderDep = Annotated[Geocoder, Depends(get_geocoder)]

oauth2 = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


def get_current_user(session: SessionDep, settings: SettingsDep, clock: ClockDep,
                     token: Annotated[str | None, Depends(oauth2)]) -> User:
    if not token:
        raise Unauthorized()
    return user_from_token(session, token, secret=settings.secret_key, now=clock.now())


CurrentUser = Annotated[User, Depends(get_current_user)]


def require(*roles: Role):
    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden()
        return user

    return check


Staff = Annotated[User, Depends(require(Role.operator, Role.admin))]
Admin = Annotated[User, Depends(require(Role.admin))]


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (behind a proxy, run uvicorn with --proxy-headers)."""
    return request.client.host if request.client else "unknown"


def actor(user: User) -> str:
    return f"{user.role}:{user.username}"
