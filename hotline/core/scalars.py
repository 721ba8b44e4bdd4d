"""JSON scalars taken as JSON writes them and as the OpenAPI document says: `true`/`false` for a yes-or-no,
numbers for numbers, strings for dates and times. Pydantic's lax mode read `"active": 0` as false,
`"min_age": "0"` as 0 and `"closures": [0]` as 1 January 1970 — requests the document calls invalid
(issue 18, defect 10: Schemathesis's schema-violating requests were accepted). A whole float (`12.0`) stays a
whole number: JSON Schema's `integer` admits it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError


def _refuse(kind: str, message: str, *refused: type):
    def check(value: Any) -> Any:
        if isinstance(value, refused):
            raise PydanticCustomError(kind, message)
        return value

    return BeforeValidator(check)


YesNo = Annotated[bool, Field(strict=True)]
WholeNumber = Annotated[int, _refuse("int_type", "Input should be a valid integer", str, bytes, bool)]
Number = Annotated[float, Field(strict=True)]  # strict still takes an int, as JSON's number does
DateString = Annotated[date, _refuse("date_type", "Input should be a valid date written YYYY-MM-DD", int, float, bool)]
DateTimeString = Annotated[datetime, _refuse("datetime_type", "Input should be a valid date-time written as RFC 3339",
                                             int, float, bool)]
