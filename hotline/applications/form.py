"""The public application form → the intake body. Dates and times are typed (2026-11-25 or 20261125,
09:00 or 0900): no native pickers, whose wording follows the browser's language."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from hotline.core.clock import SEOUL
from hotline.core.errors import FieldProblem, InvalidInput

CHILD_ROWS = 3
LABELS = {"guardian.name": "보호자 이름", "guardian.phone": "휴대전화", "day": "돌봄 날짜", "start_at": "시작 시각",
          "end_at": "종료 시각", "location.address": "주소", "location.place": "지역", "location.lat": "지역",
          "consent.guardian_consent": "개인정보 수집·이용 동의", "health_notes": "건강 정보", "reason": "사유",
          "code": "인증번호", "children": "아동"}


def label(path: str) -> str:
    if m := re.match(r"children\[(\d+)\]\.(first_name|birth_date)", path):
        return f"아동 {int(m.group(1)) + 1} " + ("이름" if m.group(2) == "first_name" else "생년월일")
    return LABELS.get(path, LABELS.get(path.split(".")[0], "입력값"))


def _day(text: str) -> date | None:
    digits = re.sub(r"\D", "", text or "")
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])) if len(digits) == 8 else None
    except ValueError:
        return None


def _time(text: str) -> time | None:
    digits = re.sub(r"\D", "", text or "")
    if len(digits) == 3:
        digits = "0" + digits
    if len(digits) != 4:
        return None
    h, m = int(digits[:2]), int(digits[2:])
    if h == 24 and m == 0:
        return time(0)
    return time(h, m) if h < 24 and m < 60 else None


def _window_problems(form: dict[str, Any]) -> tuple[tuple | None, list[FieldProblem]]:
    """The day and the two times as typed: (day, start, end) or the problems naming what cannot be read."""
    problems = []
    day = _day(form.get("day", ""))
    start, end = _time(form.get("start_time", "")), _time(form.get("end_time", ""))
    if day is None:
        problems.append(FieldProblem("day", "돌봄 날짜를 2026-11-25처럼 입력해 주세요.", "Type the day as 2026-11-25."))
    if start is None:
        problems.append(FieldProblem("start_at", "시작 시각을 09:00처럼 입력해 주세요.", "Type the start as 09:00."))
    if end is None:
        problems.append(FieldProblem("end_at", "종료 시각을 18:00처럼 입력해 주세요.", "Type the end as 18:00."))
    return (None if problems else (day, start, end)), problems


def _moments(day, start, end) -> tuple[datetime, datetime]:
    start_at = datetime.combine(day, start, SEOUL)
    end_at = datetime.combine(day, end, SEOUL)
    if end_at <= start_at:  # past midnight: the care ends the next day
        end_at += timedelta(days=1)
    return start_at, end_at


def window_of(form: dict[str, Any]) -> tuple[datetime, datetime]:
    """The care window typed on the parent's pages (application and status page), or InvalidInput."""
    typed, problems = _window_problems(form)
    if problems:
        raise InvalidInput(*problems)
    return _moments(*typed)


def to_body(form: dict[str, Any]) -> dict[str, Any]:
    """The intake body, or InvalidInput naming the typed fields that cannot be read."""
    typed, problems = _window_problems(form)
    children = []
    for i in range(CHILD_ROWS):
        name, born = (form.get(f"child{i}_name") or "").strip(), (form.get(f"child{i}_birth") or "").strip()
        if not name and not born:
            continue
        birth = _day(born)
        if birth is None:
            problems.append(FieldProblem(f"children[{len(children)}].birth_date", "생년월일을 2019-06-01처럼 입력해 주세요.",
                                         "Type the birth date as 2019-06-01."))
        children.append({"first_name": name, "birth_date": birth.isoformat() if birth else None})
    if not children:
        problems.append(FieldProblem("children", "돌봄이 필요한 아동을 한 명 이상 입력해 주세요.", "Add at least one child."))
    if problems:
        raise InvalidInput(*problems)
    start_at, end_at = _moments(*typed)
    health = (form.get("health_notes") or "").strip() or None
    return {
        "guardian": {"name": (form.get("guardian_name") or "").strip(), "phone": (form.get("guardian_phone") or "").strip(),
                     "language": "ko"},
        "children": children,
        "reason": form.get("reason") or "other",
        "notes": (form.get("notes") or "").strip(),
        "start_at": start_at.isoformat(), "end_at": end_at.isoformat(),
        "location": {"address": (form.get("address") or "").strip(), "place": (form.get("place") or "").strip() or None},
        "needs": [], "language": "ko",
        "consent": {"guardian_consent": form.get("consent") == "yes", "health_consent": form.get("health_consent") == "yes"},
        "health_notes": health,
    }
