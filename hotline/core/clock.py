"""Time: one injectable clock for the domain, and conversions between UTC storage and Seoul local time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")
UTC = timezone.utc


class Clock:
    """Wall clock. Tests use FrozenClock and move it explicitly instead of sleeping."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    def __init__(self, at: datetime):
        self.at = as_utc(at)

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at = self.at + timedelta(**delta)
        return self.at

    def set(self, at: datetime) -> None:
        self.at = as_utc(at)


def as_utc(value: datetime) -> datetime:
    """A naive datetime from a person is Seoul local time; storage is always UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=SEOUL)
    return value.astimezone(UTC)


def local(value: datetime) -> datetime:
    return as_utc(value).astimezone(SEOUL)


def at_local(day: date, hhmm: str) -> datetime:
    """`HH:MM` on a Seoul date; "24:00" is the next midnight (opening hours and windows use it)."""
    if hhmm == "24:00":
        return datetime.combine(day + timedelta(days=1), time(0), SEOUL)
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), SEOUL)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), SEOUL)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def epoch_minutes(value: datetime) -> int:
    # an aware datetime's timestamp is absolute: no conversion (the solver's problem makes thousands)
    return int((value if value.tzinfo is not None else as_utc(value)).timestamp() // 60)


def from_epoch_minutes(minutes: int) -> datetime:
    return datetime.fromtimestamp(minutes * 60, UTC)


WEEKDAYS_KO = "월화수목금토일"


def fmt_window(start: datetime, end: datetime, lang: str = "ko") -> str:
    """`11/24(화) 09:00–18:00` in Korean, `Tue 11/24 09:00–18:00` in English (Seoul time)."""
    s, e = local(start), local(end)
    end_txt = e.strftime("%H:%M") if e.date() == s.date() else e.strftime("%m/%d %H:%M")
    if e.date() == s.date() + timedelta(days=1) and e.time() == time(0):
        end_txt = "24:00"
    if lang == "en":
        return f"{s.strftime('%a %m/%d %H:%M')}–{end_txt}"
    return f"{s.month}/{s.day}({WEEKDAYS_KO[s.weekday()]}) {s.strftime('%H:%M')}–{end_txt}"
