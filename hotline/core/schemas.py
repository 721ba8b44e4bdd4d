"""What every API schema shares: strict input (unknown fields refused, no NUL characters), public output in
Seoul time, and a page of results. Each capability keeps its own Create/Public/Update schemas beside its
service (`hotline.requests.schemas`, `hotline.providers.schemas`, `hotline.accounts.schemas`); table models
stay in `hotline.models`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_serializer, field_validator
from pydantic_core import PydanticCustomError

from hotline.core.clock import local
from hotline.core.text import has_control, has_visible_letter, nfc, stacked_marks


def _holds_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(arg) for arg in get_args(annotation))


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def _normalised(value: Any) -> Any:
    """NFC for every string, however deep (keys too): counted, stored and searched as it is shown."""
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, dict):
        return {_normalised(k): _normalised(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_normalised(v) for v in value)
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _plain_text(cls, value: Any, info: ValidationInfo) -> Any:
        # a nested model checks its own fields, so the error names the innermost one
        if _holds_model(cls.model_fields[info.field_name].annotation):
            return value
        for text in _strings(value):
            # PostgreSQL cannot store a NUL character in text, and nobody types one (issue 9, defect 5)
            if "\x00" in text:
                raise PydanticCustomError("nul_character", "must not contain a NUL (\\x00) character")
            if has_control(text):
                raise PydanticCustomError("control_character", "must not contain control, direction-override or normalisation-lengthened characters")
        return _normalised(value)


def _visible(value: str) -> str:
    if not has_visible_letter(value):
        raise PydanticCustomError("invisible_name", "needs at least one visible letter")
    if stacked_marks(value):
        raise PydanticCustomError("stacked_marks", "has too many combining marks on one letter")
    return value


# a person's or a provider's name: stripped, NFC (by Strict), counted after normalising, and visible
Name = Annotated[str, Field(min_length=1, max_length=60), AfterValidator(_visible)]
ChildName = Annotated[str, Field(min_length=1, max_length=30), AfterValidator(_visible)]
ProviderName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_visible)]


class PublicModel(BaseModel):
    """Datetimes leave the API in Seoul time (+09:00): people read them."""

    model_config = ConfigDict(from_attributes=True)

    @field_serializer("*", when_used="json")
    def _seoul(self, value: Any) -> Any:
        return local(value).isoformat() if isinstance(value, datetime) else value


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
