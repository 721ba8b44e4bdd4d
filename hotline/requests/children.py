"""Who the service is for: children aged 12 and under (만 12세 이하) for the whole care window, already born
when it starts; ages on a day, and a request's children as read once per session."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, select

from hotline.core.clock import SEOUL, local
from hotline.core.errors import FieldProblem
from hotline.models import CareRequest, Child

MAX_AGE = 12  # 만 12세 이하


def birthday(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February: the birthday is reached on 1 March in common years
        return date(born.year + years, 3, 1)


def age_on(born: date, day: date) -> int:
    years = day.year - born.year
    return years - 1 if birthday(born, years) > day else years


def _ko_date(d: date) -> str:
    return f"{d.year}년 {d.month}월 {d.day}일"


def check_child(index: int, first_name: str, born: date, start: datetime, end: datetime) -> FieldProblem | None:
    """Eligible while under 13 at every moment of the window (만 12세 이하), and already born at its start."""
    field = f"children[{index}].birth_date"
    start_day = local(start).date()
    if born > start_day:
        return FieldProblem(field, f"{first_name} 어린이의 생년월일({born})이 돌봄 시작일보다 늦습니다.",
                            f"{first_name}'s birth date ({born}) is after the care start.")
    turns_13 = birthday(born, MAX_AGE + 1)
    turns_13_at = datetime.combine(turns_13, datetime.min.time(), SEOUL)
    if end > turns_13_at:
        return FieldProblem(
            field,
            f"죄송합니다. 언제나 돌봄은 만 12세 이하 아동만 이용할 수 있습니다. {first_name} 어린이는 "
            f"{_ko_date(turns_13)}에 만 13세가 되어 돌봄 기간 중 대상 연령을 넘습니다.",
            f"Sorry, the service is for children aged 12 and under. {first_name} turns 13 on {turns_13}, "
            "before the care window ends.",
        )
    return None


def children_of(session: Session, request: CareRequest) -> list[Child]:
    """The request's children, read once per session: they are written at intake and never added to, and an
    intake reads them for the solver, every offer text and the answer. Keyed by id and ref together: SQLite
    may hand a rolled-back request's id out again, never with the same ref."""
    memo = session.info.setdefault("children_of", {})
    key = (request.id, request.ref)
    if key not in memo:
        memo[key] = list(session.exec(select(Child).where(Child.request_id == request.id).order_by(Child.id)))
    return list(memo[key])


def child_ages(children: list[Child], at: datetime) -> list[int]:
    day = local(at).date()
    return [age_on(c.birth_date, day) for c in children]
