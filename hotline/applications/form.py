"""The public application form → the intake body. Dates and times are typed (2026-11-25 or 20261125,
09:00 or 0900): no native pickers, whose wording follows the browser's language. What the form itself can
tell (a field left empty, a day or time that cannot be read, the end before the start, a number that cannot
take a text, a missing consent) is said here in the parent's words, field by field and all at once; the
intake's own rules (age, how far ahead, the place) follow on a readable form. Each problem names the input
it belongs to (`input_id`), so the page marks that input and links to it."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from hotline.core.clock import SEOUL
from hotline.core.errors import FieldProblem, InvalidInput
from hotline.core.phones import to_e164

CHILD_ROWS = 3
# the inputs in page order: the error summary lists them so, and focus goes to the first one marked
INPUTS = ["guardian_name", "guardian_phone",
          *[f"child{i}_{part}" for i in range(CHILD_ROWS) for part in ("name", "birth")],
          "reason", "day", "start_time", "end_time", "place", "address", "notes", "consent", "health_consent",
          "health_notes", "code", "change-day", "change-start", "change-end", "score1"]
INPUT_LABELS = {"guardian_name": "보호자 이름", "guardian_phone": "휴대전화", "reason": "사유", "day": "날짜",
                "start_time": "시작 시각", "end_time": "종료 시각", "place": "시·군 / 동", "address": "돌봄 받을 주소",
                "notes": "전할 말", "consent": "개인정보 수집·이용 동의", "health_consent": "건강정보 처리 동의",
                "health_notes": "건강 정보", "code": "인증번호", "change-day": "날짜", "change-start": "시작 시각",
                "change-end": "종료 시각", "score1": "만족도",
                **{f"child{i}_name": f"아동 {i + 1} 이름" for i in range(CHILD_ROWS)},
                **{f"child{i}_birth": f"아동 {i + 1} 생년월일" for i in range(CHILD_ROWS)}}
# the intake's field paths → this form's inputs
_PATH_INPUTS = {"guardian.name": "guardian_name", "guardian.phone": "guardian_phone", "guardian": "guardian_name",
                "children": "child0_name", "reason": "reason", "notes": "notes", "day": "day",
                "start_at": "start_time", "end_at": "end_time", "location.place": "place", "location.lat": "place",
                "location.lon": "place", "location.address": "address", "location": "address",
                "consent.guardian_consent": "consent", "consent.health_consent": "health_consent",
                "consent": "consent", "health_notes": "health_notes", "code": "code", "score": "score"}
# the status page's "change the time" form
CHANGE_INPUTS = {"day": "change-day", "start_at": "change-start", "end_at": "change-end"}
_REQUIRED = [("guardian_name", "guardian.name", "보호자 이름을 입력해 주세요.", "Enter the guardian's name."),
             ("guardian_phone", "guardian.phone", "휴대전화 번호를 입력해 주세요.", "Enter a mobile number."),
             ("place", "location.place", "돌봄 받을 곳의 시·군과 동을 입력해 주세요.", "Enter the city and district."),
             ("address", "location.address", "돌봄 받을 주소를 입력해 주세요.", "Enter the address.")]


def filled_rows(form: dict[str, Any]) -> list[int]:
    """The child rows the parent filled in, in order: the intake's children[k] is row filled_rows[k]."""
    return [i for i in range(CHILD_ROWS)
            if (form.get(f"child{i}_name") or "").strip() or (form.get(f"child{i}_birth") or "").strip()]


def input_id(path: str, form: dict[str, Any], inputs: dict[str, str] | None = None) -> str | None:
    """The input a problem's field path belongs to on this form (None: the problem is the whole form's)."""
    if inputs is not None:
        return inputs.get(path)
    if m := re.match(r"children\[(\d+)\]\.(first_name|birth_date)", path):
        rows, k = filled_rows(form), int(m.group(1))
        return f"child{rows[k] if k < len(rows) else k}_" + ("name" if m.group(2) == "first_name" else "birth")
    return _PATH_INPUTS.get(path) or _PATH_INPUTS.get(path.split(".")[0].split("[")[0])


def _day(text: str, first_year: int = 1990) -> date | None:
    digits = re.sub(r"\D", "", text or "")
    try:
        day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])) if len(digits) == 8 else None
    except ValueError:
        return None
    return day if day and first_year <= day.year <= 2100 else None


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


def _typed(form: dict[str, Any], key: str, path: str, what_ko: str, what_en: str, hint_ko: str, hint_en: str,
           read, problems: list[FieldProblem]):
    raw = (form.get(key) or "").strip()
    if not raw:
        problems.append(FieldProblem(path, f"{what_ko} 입력해 주세요.", f"Enter the {what_en}."))
        return None
    value = read(raw)
    if value is None:
        problems.append(FieldProblem(path, f"{what_ko} {hint_ko}", f"Type the {what_en} {hint_en}"))
    return value


def _window(form: dict[str, Any], max_hours: float, problems: list[FieldProblem]) -> tuple[datetime, datetime] | None:
    """The day and the two times as typed, as two moments; a window that cannot be read adds its problems."""
    found: list[FieldProblem] = []
    day = _typed(form, "day", "day", "돌봄 날짜를", "day", "연-월-일 순서의 숫자로 입력해 주세요. 숫자 8자리만 써도 됩니다.",
                 "as year-month-day digits.", lambda raw: _day(raw, 2000), found)
    clock_ko, clock_en = "24시간제 시:분으로 입력해 주세요. 예: 오후 6시는 18:00입니다.", "as 24-hour hours:minutes, e.g. 18:00 for 6 pm."
    start = _typed(form, "start_time", "start_at", "시작 시각을", "start", clock_ko, clock_en, _time, found)
    end = _typed(form, "end_time", "end_at", "종료 시각을", "end", clock_ko, clock_en, _time, found)
    problems += found
    if found:
        return None
    start_at, end_at = datetime.combine(day, start, SEOUL), datetime.combine(day, end, SEOUL)
    if end == time(0):  # 24:00 (or 00:00) ends the care at midnight
        end_at += timedelta(days=1)
    elif end == start:
        problems.append(FieldProblem("end_at", "종료 시각이 시작 시각과 같습니다. 종료 시각을 확인해 주세요.",
                                     "The end is the same as the start: check the end time."))
        return None
    elif end < start:  # past midnight: the care ends the next day, if such a night fits the longest care
        end_at += timedelta(days=1)
        if end_at - start_at > timedelta(hours=max_hours):
            problems.append(FieldProblem(
                "end_at", f"종료 시각({end:%H:%M})이 시작 시각({start:%H:%M})보다 빠릅니다. 종료 시각을 확인해 주세요. "
                          f"밤을 넘겨 다음 날까지 맡기시려면 최대 {max_hours:g}시간까지 신청할 수 있습니다.",
                f"The end ({end:%H:%M}) is before the start ({start:%H:%M}): check the end time. Care past "
                f"midnight can last at most {max_hours:g} hours."))
            return None
    return start_at, end_at


def window_of(form: dict[str, Any], *, max_hours: float) -> tuple[datetime, datetime]:
    """The care window typed on the parent's pages (application and status page), or InvalidInput."""
    problems: list[FieldProblem] = []
    window = _window(form, max_hours, problems)
    if problems:
        raise InvalidInput(*problems)
    return window


def _phone(raw: str, problems: list[FieldProblem]) -> None:
    try:
        to_e164(raw, "guardian.phone", mobile=False)
    except InvalidInput:
        problems.append(FieldProblem("guardian.phone", "휴대전화 번호를 확인해 주세요. 010으로 시작하는 번호를 숫자로 입력해 주세요.",
                                     "Check the mobile number: digits, starting with 010."))
        return
    try:
        to_e164(raw, "guardian.phone")
    except InvalidInput:
        problems.append(FieldProblem("guardian.phone", "문자를 받을 수 있는 휴대전화 번호를 입력해 주세요. 인증번호를 문자로 보냅니다.",
                                     "Give a mobile number that can receive texts: the code is sent by text."))


def _children(form: dict[str, Any], problems: list[FieldProblem]) -> list[dict]:
    children = []
    for k, i in enumerate(filled_rows(form)):
        name, born = (form.get(f"child{i}_name") or "").strip(), (form.get(f"child{i}_birth") or "").strip()
        if not name:
            problems.append(FieldProblem(f"children[{k}].first_name", "아동 이름을 입력해 주세요.", "Enter the child's name."))
        birth = _typed(form, f"child{i}_birth", f"children[{k}].birth_date", "생년월일을", "birth date",
                       "연-월-일 순서의 숫자로 입력해 주세요. 숫자 8자리만 써도 됩니다.", "as year-month-day digits.",
                       _day, problems)
        children.append({"first_name": name, "birth_date": birth.isoformat() if birth else None})
    if not children:
        problems.append(FieldProblem("children", "돌봄이 필요한 아동의 이름과 생년월일을 입력해 주세요.",
                                     "Add at least one child."))
    return children


def to_body(form: dict[str, Any], *, max_hours: float) -> dict[str, Any]:
    """The intake body, or InvalidInput naming every input the form itself can tell is wrong."""
    problems: list[FieldProblem] = []
    for key, path, ko, en in _REQUIRED:
        if not (form.get(key) or "").strip():
            problems.append(FieldProblem(path, ko, en))
    if (phone := (form.get("guardian_phone") or "").strip()):
        _phone(phone, problems)
    children = _children(form, problems)
    window = _window(form, max_hours, problems)
    health = (form.get("health_notes") or "").strip() or None
    if form.get("consent") != "yes":
        problems.append(FieldProblem("consent.guardian_consent", "개인정보 수집·이용 동의에 체크해 주세요. 동의하셔야 신청할 수 있습니다.",
                                     "The consent to collect and use personal data is required."))
    if health and form.get("health_consent") != "yes":
        problems.append(FieldProblem("health_notes", "건강 정보를 적으시려면 건강정보 처리 동의에 체크해 주세요. "
                                                     "동의하지 않으시면 건강 정보 칸을 비워 주세요.",
                                     "Health notes need the separate health-information consent."))
    if problems:
        raise InvalidInput(*problems)
    start_at, end_at = window
    return {
        "guardian": {"name": (form.get("guardian_name") or "").strip(), "phone": phone, "language": "ko"},
        "children": children,
        "reason": form.get("reason") or "other",
        "notes": (form.get("notes") or "").strip(),
        "start_at": start_at.isoformat(), "end_at": end_at.isoformat(),
        "location": {"address": (form.get("address") or "").strip(), "place": (form.get("place") or "").strip() or None},
        "needs": [], "language": "ko",
        "consent": {"guardian_consent": True, "health_consent": form.get("health_consent") == "yes"},
        "health_notes": health,
    }
