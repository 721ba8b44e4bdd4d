"""Domain errors. Each carries its HTTP status and a message in Korean and English; the API renders them
as RFC 9457 problem+json, so services never import anything from the web layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from hotline.core.korean import with_particle


@dataclass
class FieldProblem:
    field: str
    message_ko: str
    message_en: str
    choices: list[str] | None = None  # what the person may pick instead (a place name found in several cities)

    def as_dict(self) -> dict:
        out: dict = {"field": self.field, "message": self.message_ko, "message_en": self.message_en}
        if self.choices:
            out["choices"] = list(self.choices)
        return out


@dataclass
class DomainError(Exception):
    title_ko: str
    title_en: str
    detail_ko: str = ""
    detail_en: str = ""
    errors: list[FieldProblem] = field(default_factory=list)
    status: int = 400
    type: str = "about:blank"

    def __str__(self) -> str:
        return self.detail_en or self.title_en


class InvalidInput(DomainError):
    """One or more fields are wrong; nothing was stored."""

    def __init__(self, *problems: FieldProblem):
        first = problems[0]
        super().__init__(
            title_ko="입력값을 확인해 주세요",
            title_en="Invalid input",
            detail_ko=first.message_ko,
            detail_en=first.message_en,
            errors=list(problems),
            status=422,
            type="/problems/invalid-input",
        )


def invalid(field_name: str, message_ko: str, message_en: str) -> InvalidInput:
    return InvalidInput(FieldProblem(field_name, message_ko, message_en))


class NotFound(DomainError):
    def __init__(self, what_ko: str, what_en: str):
        super().__init__(
            title_ko="찾을 수 없습니다",
            title_en="Not found",
            detail_ko=f"{with_particle(what_ko, '을/를')} 찾을 수 없습니다.",
            detail_en=f"{what_en} not found.",
            status=404,
            type="/problems/not-found",
        )


class Forbidden(DomainError):
    def __init__(self, detail_ko: str = "이 정보에 접근할 권한이 없습니다.", detail_en: str = "You may not access this."):
        super().__init__("권한 없음", "Forbidden", detail_ko, detail_en, status=403, type="/problems/forbidden")


class Conflict(DomainError):
    def __init__(self, detail_ko: str, detail_en: str, type: str = "/problems/conflict"):
        super().__init__("처리할 수 없는 상태입니다", "Conflict", detail_ko, detail_en, status=409, type=type)
