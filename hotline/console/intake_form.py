"""The intake form as an operator fills it during a call: dates and times typed as digits ("1125",
"0900", "20190601"), any number of child rows, presets. Turns the form into the API's intake body, and
names fields in Korean when something is wrong."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from hotline.core.clock import SEOUL, local
from hotline.core.errors import FieldProblem, InvalidInput
from hotline.offers.plans import PlanChange
from hotline.core.korean import quoted_with_particle, with_particle

MAX_CHILD_ROWS = 10
FIELD_LABELS = {
    "guardian.name": "보호자 이름", "guardian.phone": "보호자 휴대전화", "guardian": "보호자",
    "children": "아동", "reason": "사유", "notes": "메모", "start_at": "시작 시각", "end_at": "종료 시각",
    "day": "돌봄 날짜", "location.place": "지역", "location.address": "주소", "location": "장소",
    "consent.guardian_consent": "개인정보 동의", "consent": "동의", "health_notes": "건강 정보",
    "needs": "필요 돌봄", "language": "돌봄 언어", "overlap": "중복 접수",
}
# API field → the form input it belongs to (errors are shown under it and linked by aria-describedby)
FIELD_INPUTS = {"guardian.name": "guardian_name", "guardian.phone": "guardian_phone", "start_at": "start_time",
                "end_at": "end_time", "day": "day", "location.place": "place", "location.address": "address",
                "location.lat": "place", "location": "place", "consent.guardian_consent": "consent",
                "health_notes": "health_notes", "overlap": "confirm_overlap", "notes": "notes", "reason": "reason"}
_CHILD = re.compile(r"children\[(\d+)\]\.(first_name|birth_date)")


def field_label(path: str) -> str:
    if m := _CHILD.match(path):
        return f"아동 {int(m.group(1)) + 1} " + ("이름" if m.group(2) == "first_name" else "생년월일")
    return FIELD_LABELS.get(path, FIELD_LABELS.get(path.split(".")[0].split("[")[0], "입력값"))


def field_input(path: str) -> str:
    if m := _CHILD.match(path):
        return f"child{m.group(1)}_" + ("name" if m.group(2) == "first_name" else "birth")
    return FIELD_INPUTS.get(path, "")


def parse_day(text: str, today: date) -> date | None:
    """"1125", "11/25", "11-25", "2026-11-25", "20261125", "오늘", "내일", "모레"."""
    text = text.strip()
    if text in ("오늘", "today"):
        return today
    if text in ("내일", "tomorrow"):
        return today + timedelta(days=1)
    if text == "모레":
        return today + timedelta(days=2)
    parts = [p for p in re.split(r"[^\d]+", text) if p]
    try:
        if len(parts) == 1 and len(parts[0]) == 8:
            p = parts[0]
            return date(int(p[:4]), int(p[4:6]), int(p[6:]))
        if len(parts) == 1 and len(parts[0]) in (3, 4):  # MDD / MMDD, this year or the next
            p = parts[0].zfill(4)
            month, day = int(p[:2]), int(p[2:])
        elif len(parts) == 2:
            month, day = int(parts[0]), int(parts[1])
        elif len(parts) == 3:
            year = int(parts[0]) + (2000 if len(parts[0]) == 2 else 0)
            return date(year, int(parts[1]), int(parts[2]))
        else:
            return None
        candidate = date(today.year, month, day)
        return candidate if candidate >= today - timedelta(days=1) else date(today.year + 1, month, day)
    except ValueError:
        return None


def parse_time(text: str) -> tuple[int, int] | None:
    """"9", "09", "900", "0900", "9:00", "18시", "18시 30분", "24:00" → (hours, minutes)."""
    digits = [p for p in re.split(r"[^\d]+", text.strip()) if p]
    if not digits:
        return None
    if len(digits) == 1:
        p = digits[0]
        if len(p) <= 2:
            h, m = int(p), 0
        elif len(p) in (3, 4):
            h, m = int(p[:-2]), int(p[-2:])
        else:
            return None
    elif len(digits) == 2:
        h, m = int(digits[0]), int(digits[1])
    else:
        return None
    if "오후" in text and h < 12:
        h += 12
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        return None
    return h, m


def parse_birth(text: str, today: date) -> date | None:
    """"20190601", "2019-06-01", "2019.6.1", "190601" (two-digit years are this century: children)."""
    parts = [p for p in re.split(r"[^\d]+", text.strip()) if p]
    try:
        if len(parts) == 1 and len(parts[0]) == 8:
            p = parts[0]
            return date(int(p[:4]), int(p[4:6]), int(p[6:]))
        if len(parts) == 1 and len(parts[0]) == 6:
            p = parts[0]
            return date(2000 + int(p[:2]), int(p[2:4]), int(p[4:]))
        if len(parts) == 3:
            year = int(parts[0]) + (2000 if len(parts[0]) == 2 else 0)
            return date(year, int(parts[1]), int(parts[2]))
    except ValueError:
        return None
    return None


def _at(day: date, hm: tuple[int, int]) -> datetime:
    h, m = hm
    return datetime.combine(day, time(0, 0), SEOUL) + timedelta(hours=h, minutes=m)


def window(form: dict[str, str], now: datetime) -> tuple[datetime | None, datetime | None, list[FieldProblem]]:
    """The care window typed as a day and two times; an end at or before the start runs past midnight."""
    problems = []
    today = local(now).date()
    day = parse_day(form.get("day", ""), today) if form.get("day", "").strip() else None
    if day is None:
        problems.append(FieldProblem("day", "날짜를 숫자로 입력해 주세요 (예: 1125 = 11월 25일, 또는 오늘·내일).",
                                     "Type the day as digits, e.g. 1125 for 25 November."))
    start_text, end_text = form.get("start_time", "").strip(), form.get("end_time", "").strip()
    here = local(now)
    if start_text in ("지금", "now"):  # from now, rounded up to five minutes
        minutes = -(-(here.hour * 60 + here.minute) // 5) * 5
        start = (minutes // 60, minutes % 60) if minutes < 24 * 60 else (24, 0)
    else:
        start = parse_time(start_text)
    plus = re.fullmatch(r"\+\s*(\d{1,2})(?:\s*시간)?", end_text)
    end = None if plus else parse_time(end_text)
    if plus and start is not None:
        total = start[0] * 60 + start[1] + int(plus.group(1)) * 60
        end = (total // 60, total % 60) if total < 24 * 60 else None
        if end is None:  # past midnight: the end is the next day's time
            end = ((total - 24 * 60) // 60, (total - 24 * 60) % 60)
    if start is None:
        problems.append(FieldProblem("start_at", "시작 시각을 숫자로 입력해 주세요 (예: 0900).", "Type the start time, e.g. 0900."))
    if end is None:
        problems.append(FieldProblem("end_at", "종료 시각을 숫자로 입력해 주세요 (예: 1800).", "Type the end time, e.g. 1800."))
    if problems:
        return None, None, problems
    start_at, end_at = _at(day, start), _at(day, end)
    if end_at <= start_at:
        end_at += timedelta(days=1)
    return start_at, end_at, []


def child_rows(form: dict[str, str]) -> list[int]:
    """Indexes of the child rows present in the form (rows can be added and removed in any order)."""
    found = set()
    for key in form:
        if m := re.fullmatch(r"child(\d{1,2})_(name|birth)", key):
            if int(m.group(1)) < MAX_CHILD_ROWS:
                found.add(int(m.group(1)))
    return sorted(found)


def body_from_form(form: dict[str, str], now: datetime) -> tuple[dict[str, Any], list[FieldProblem]]:
    """The intake body, and the problems found in what was typed (the API checks the rest)."""
    problems: list[FieldProblem] = []
    today = local(now).date()
    children = []
    for n, i in enumerate(r for r in child_rows(form)
                          if form.get(f"child{r}_name", "").strip() or form.get(f"child{r}_birth", "").strip()):
        name, typed = form.get(f"child{i}_name", "").strip(), form.get(f"child{i}_birth", "").strip()
        born = parse_birth(typed, today) if typed else None
        if typed and born is None:
            problems.append(FieldProblem(f"children[{n}].birth_date",
                                         f"생년월일 {quoted_with_particle(typed[:12], '을/를')} 알아볼 수 없습니다. 예: 20190601",
                                         "Type the birth date as digits, e.g. 20190601."))
        children.append({"first_name": name, "birth_date": born.isoformat() if born else None})
    start_at, end_at, window_problems = window(form, now)
    problems += window_problems
    body = {
        "guardian": {"name": form.get("guardian_name", "").strip(), "phone": form.get("guardian_phone", "").strip(),
                     "language": form.get("guardian_language", "ko")},
        "children": children,
        "reason": form.get("reason", ""),
        "notes": form.get("notes", ""),
        "start_at": start_at.isoformat() if start_at else None,
        "end_at": end_at.isoformat() if end_at else None,
        "location": {"address": form.get("address", "").strip(), "place": form.get("place", "").strip() or None},
        "needs": [n for n in ("infant", "special_needs") if form.get(f"need_{n}")],
        "language": form.get("language", "ko"),
        "consent": {"guardian_consent": bool(form.get("consent")), "health_consent": bool(form.get("health_consent"))},
        "health_notes": form.get("health_notes") or None,
    }
    return body, problems


def place_mismatch(place_city: str | None, address: str, known_cities: set[str]) -> str | None:
    """The address names a different city than the chosen place: the operator probably picked wrong."""
    if not place_city or not address:
        return None
    named = [c for c in known_cities if c and c in address]
    if named and place_city not in named:
        return f"주소에는 {with_particle(named[0], '이/가')} 있는데 지역은 {place_city}입니다. 지역을 확인해 주세요."
    return None


def plan_from_form(form: dict[str, str], now: datetime):
    """The console's edit form (the intake form's fields, prefilled) as a plan change for the offer loop."""
    start, end, problems = window(form, now)
    kids = []
    today = local(now).date()
    for i in child_rows(form):
        name, birth = form.get(f"child{i}_name", "").strip(), form.get(f"child{i}_birth", "").strip()
        if not name and not birth:
            continue  # an empty row the operator left
        born = parse_birth(birth, today)
        if not name:
            problems.append(FieldProblem(f"children[{len(kids)}].first_name", "아동 이름을 입력해 주세요.", "Give the child's name."))
        if born is None:
            problems.append(FieldProblem(f"children[{len(kids)}].birth_date",
                                         "생년월일을 숫자 8자리로 입력해 주세요 (예: 20190601).", "Type the birth date, e.g. 20190601."))
        kids.append((name, born))
    if problems:
        raise InvalidInput(*problems)
    return PlanChange(start=start, end=end, place=form.get("place", ""), address=form.get("address", ""),
                      children=tuple(kids), notes=form.get("notes"))


def form_of(request, children, *, places) -> dict[str, str]:
    """A request as the edit form shows it."""
    start, end = local(request.start_at), local(request.end_at)
    place = places.get(request.place_code) if request.place_code else None
    form = {"day": start.strftime("%Y-%m-%d"), "start_time": start.strftime("%H%M"), "end_time": end.strftime("%H%M"),
            "place": place.name_ko if place else (request.city_ko or ""), "address": request.address,
            "notes": request.notes}
    for i, child in enumerate(children):
        form[f"child{i}_name"], form[f"child{i}_birth"] = child.first_name, child.birth_date.strftime("%Y%m%d")
    return form
