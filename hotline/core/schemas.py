"""What every API schema shares: strict input (unknown fields refused, no NUL characters), public output in
Seoul time, and a page of results. Each capability keeps its own Create/Public/Update schemas beside its
service (`hotline.requests.schemas`, `hotline.providers.schemas`, `hotline.accounts.schemas`); table models
stay in `hotline.models`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_serializer, field_validator
from pydantic_core import PydanticCustomError

from hotline.core.clock import local


def _holds_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(arg) for arg in get_args(annotation))


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any, info: ValidationInfo) -> Any:
        # PostgreSQL cannot store a NUL character in text, and nobody types one (issue 9, defect 5);
        # a nested model checks its own fields, so the error names the innermost one
        if not _holds_model(cls.model_fields[info.field_name].annotation) and _has_nul(value):
            raise PydanticCustomError("nul_character", "must not contain a NUL (\\x00) character")
        return value


class PublicModel(BaseModel):
    """Datetimes leave the API in Seoul time (+09:00): people read them."""

    model_config = ConfigDict(from_attributes=True)

    @field_serializer("*", when_used="json")
    def _seoul(self, value: Any) -> Any:
        return local(value).isoformat() if isinstance(value, datetime) else value


Name = Annotated[str, Field(min_length=1, max_length=60)]
T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
