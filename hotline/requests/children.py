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


def check_child(index: int, first_name: str, born: date, start: datetime, end: datetime,
                today: date | None = None) -> FieldProblem | None:
    """Eligible while under 13 at every moment of the window (만 12세 이하), and already born at its start.
    The refusal says which is true: already 13 (given today), 13 before the care starts, or 13 during it."""
    field = f"children[{index}].birth_date"
    start_day = local(start).date()
    if born > start_day:
        return FieldProblem(field, f"{first_name} 어린이의 생년월일({born})이 돌봄 시작일보다 늦습니다.",
                            f"{first_name}'s birth date ({born}) is after the care start.")
    turns_13 = birthday(born, MAX_AGE + 1)
    turns_13_at = datetime.combine(turns_13, datetime.min.time(), SEOUL)
    if end <= turns_13_at:
        return None
    sorry_ko, sorry_en = ("죄송합니다. 언제나 돌봄은 만 12세 이하 아동만 이용할 수 있습니다. ",
                          "Sorry, the service is for children aged 12 and under. ")
    if today is not None and turns_13 <= today:
        age = age_on(born, today)
        return FieldProblem(field, f"{sorry_ko}{first_name} 어린이는 이미 만 {age}세입니다"
                                   f"({_ko_date(turns_13)}에 만 13세가 되었습니다).",
                            f"{sorry_en}{first_name} is already {age} (turned 13 on {turns_13}).")
    if turns_13_at <= start and today is None:  # no "today": words true whether the birthday is past or not
        return FieldProblem(field, f"{sorry_ko}{first_name} 어린이는 {_ko_date(turns_13)}에 만 13세가 되어 "
                                   "돌봄 시작일에는 이미 대상 연령을 넘습니다.",
                            f"{sorry_en}{first_name} is 13 by the care start (13 on {turns_13}).")
    if turns_13_at <= start:
        when_ko = "돌봄 당일인" if turns_13 == start_day else "돌봄이 시작되기 전인"
        return FieldProblem(field, f"{sorry_ko}{first_name} 어린이는 {when_ko} {_ko_date(turns_13)}에 만 13세가 됩니다.",
                            f"{sorry_en}{first_name} turns 13 on {turns_13}, before the care starts.")
    return FieldProblem(field, f"{sorry_ko}{first_name} 어린이는 돌봄 중인 {_ko_date(turns_13)}에 만 13세가 되어 "
                               "그때부터 대상 연령을 넘습니다.",
                        f"{sorry_en}{first_name} turns 13 on {turns_13}, before the care window ends.")


def children_of(session: Session, request: CareRequest) -> list[Child]:
    """The request's children, read once per session: they are written at intake and never added to, and an
    intake reads them for the solver, every offer text and the answer. Keyed by id and ref together: SQLite
    may hand a rolled-back request's id out again, never with the same ref."""
    memo = session.info.setdefault("children_of", {})
    key = (request.id, request.ref)
    if key not in memo:
        memo[key] = list(session.exec(select(Child).where(Child.request_id == request.id).order_by(Child.id)))
    return list(memo[key])


def children_of_all(session: Session, requests: list[CareRequest]) -> dict[int, list[Child]]:
    """`children_of` for many requests in one read (a sweep's problem and its offers' texts)."""
    memo = session.info.setdefault("children_of", {})
    todo = {r.id: r for r in requests if (r.id, r.ref) not in memo}
    if todo:
        found: dict[int, list[Child]] = {i: [] for i in todo}
        for child in session.exec(select(Child).where(Child.request_id.in_(list(todo))).order_by(Child.id)):
            found[child.request_id].append(child)
        for i, kids in found.items():
            memo[(i, todo[i].ref)] = kids
    return {r.id: list(memo[(r.id, r.ref)]) for r in requests}


def child_ages(children: list[Child], at: datetime) -> list[int]:
    day = local(at).date()
    return [age_on(c.birth_date, day) for c in children]
