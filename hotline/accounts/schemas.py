"""Sign-in schemas: the bearer token and the signed-in user."""

from __future__ import annotations

from pydantic import BaseModel

from hotline.core.schemas import PublicModel
from hotline.models import Role


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: Role


class UserPublic(PublicModel):
    username: str
    full_name: str
    role: Role
    provider_id: int | None
