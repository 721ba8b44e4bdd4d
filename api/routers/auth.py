"""Sign-in: OAuth2 password flow issuing a signed bearer token."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import ClockDep, CurrentUser, SessionDep, SettingsDep, client_address
from hotline.accounts.schemas import Token, UserPublic
from hotline.accounts.security import create_token, sign_in

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/token", response_model=Token)
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, session: SessionDep,
          settings: SettingsDep, clock: ClockDep) -> Token:
    user = sign_in(session, form.username, form.password, client=client_address(request),
                   throttle=request.app.state.login_throttle, now=clock.now())
    token = create_token(user, secret=settings.secret_key, now=clock.now(), minutes=settings.token_minutes)
    return Token(access_token=token, role=user.role)


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
