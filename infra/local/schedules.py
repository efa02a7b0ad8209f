"""EventBridge schedule expressions, `rate(...)` and `cron(...)`, and when each fires next.

The local runner fires a schedule rule's function at the times EventBridge would, so it
needs the same reading of the expression AWS has ("Schedule expressions for rules" in the
EventBridge User Guide): the same fields, wildcards and limits, in UTC, and an error for
what AWS would refuse. `next_after` steps field by field (year, month, day, hour, minute)
rather than minute by minute, so a schedule that fires once a year, or never again, costs
a few hundred steps at most.
"""

from __future__ import annotations

import calendar
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

__all__ = [
    "CronSchedule",
    "RateSchedule",
    "Schedule",
    "ScheduleError",
    "parse_schedule",
]


class ScheduleError(ValueError):
    """An expression EventBridge would refuse; the message is one line naming what is wrong."""


class Schedule(ABC):
    """A parsed schedule expression: knows its next firing after any moment."""

    expression: str

    @abstractmethod
    def next_after(self, moment: datetime) -> datetime | None:
        """The first firing strictly after `moment` (aware, UTC out); None if there is none."""


def parse_schedule(expression: str) -> Schedule:
    """`rate(5 minutes)` or `cron(0 6 * * ? *)` -> a Schedule; ScheduleError where AWS says no."""
    if expression.startswith("rate(") and expression.endswith(")"):
        return _parse_rate(expression)
    if expression.startswith("cron(") and expression.endswith(")"):
        return _parse_cron(expression)
    raise ScheduleError(
        f"{expression!r} is not a schedule expression: write rate(value unit) or "
        "cron(minutes hours day-of-month month day-of-week year)"
    )


# --- rate ---------------------------------------------------------------------------------

_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class RateSchedule(Schedule):
    """`rate(n unit)`: every `interval`, counted from when the rule was created."""

    expression: str
    interval: timedelta

    def next_after(self, moment: datetime) -> datetime | None:
        """`moment + interval`: EventBridge starts a rate when the rule is created.

        The caller passes the creation time (or the last firing); a rate has no fixed
        phase, so where the clock starts is the local runner's decision, not this module's.
        """
        return _utc(moment) + self.interval


def _parse_rate(expression: str) -> RateSchedule:
    parts = expression[len("rate(") : -1].split()
    if len(parts) != 2:
        raise ScheduleError(f"{expression}: a rate has two parts, a value and a unit")
    value, unit = parts
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise ScheduleError(f"{expression}: the value must be a whole number of at least 1")
    count = int(value)
    singular = unit.removesuffix("s")
    if singular not in _UNITS:
        raise ScheduleError(
            f"{expression}: the unit must be minute(s), hour(s) or day(s), not {unit!r}"
        )
    if count == 1 and unit != singular:
        raise ScheduleError(f"{expression}: a value of 1 takes the singular unit {singular!r}")
    if count > 1 and unit == singular:
        raise ScheduleError(
            f"{expression}: a value over 1 takes the plural unit {singular + 's'!r}"
        )
    return RateSchedule(expression, count * _UNITS[singular])


# --- cron: fields -------------------------------------------------------------------------

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # AWS counts 1=SUN .. 7=SAT
_SATURDAY = 7


@dataclass(frozen=True)
class _Field:
    """One of the six cron fields: its name, its range, its names and whether `/` is allowed."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    steps: bool = True

    def describe(self) -> str:
        numbers = f"a number {self.low}-{self.high}"
        return f"{numbers} or a name {self.names[0]}-{self.names[-1]}" if self.names else numbers


_MINUTES = _Field("minutes", 0, 59)
_HOURS = _Field("hours", 0, 23)
_DAY_OF_MONTH = _Field("day-of-month", 1, 31)
_MONTH = _Field("month", 1, 12, _MONTHS)
_DAY_OF_WEEK = _Field("day-of-week", 1, 7, _WEEKDAYS, steps=False)  # the guide lists no `/`
_YEAR = _Field("year", 1970, 2199)

_ITEM = re.compile(r"(\*|[A-Z0-9]+(?:-[A-Z0-9]+)?)(?:/([0-9]+))?")
_NEAREST_WEEKDAY = re.compile(r"([0-9]+)W")
_LAST_OF_WEEKDAY = re.compile(r"([A-Z0-9]+)L")
_NTH_WEEKDAY = re.compile(r"([A-Z0-9]+)#([0-9]+)")


class _FieldError(Exception):
    """A field's value is wrong; `_parse_cron` adds the expression and raises ScheduleError."""

    def __init__(self, field: _Field, reason: str) -> None:
        super().__init__(f"{field.name}: {reason}")


def _value(field: _Field, token: str) -> int:
    if token.isascii() and token.isdigit():
        number = int(token)
        if not field.low <= number <= field.high:
            raise _FieldError(field, f"{token} is out of range {field.low}-{field.high}")
        return number
    if token in field.names:
        return field.names.index(token) + field.low
    raise _FieldError(field, f"{token!r} is not {field.describe()}")


def _values(field: _Field, text: str) -> frozenset[int]:
    """`*`, `5`, `1-5`, `MON-FRI`, `*/15`, `5/10`, `1-30/2` and lists of them, as a set."""
    chosen: set[int] = set()
    for item in text.split(","):
        match = _ITEM.fullmatch(item)
        if not match:
            raise _FieldError(field, f"{item!r} is not {field.describe()}, a range or a step")
        base, step_text = match.groups()
        if step_text is not None and not field.steps:
            raise _FieldError(field, f"{item}: a step (/) is not allowed in {field.name}")
        if base == "*":
            first, last = field.low, field.high
        elif "-" in base:
            start, end = base.split("-")
            first, last = _value(field, start), _value(field, end)
            if first > last:
                raise _FieldError(field, f"range {base} runs backwards")
        else:
            first = _value(field, base)
            last = field.high if step_text is not None else first
        step = 1 if step_text is None else int(step_text)
        if step < 1:
            raise _FieldError(field, f"{item}: the step must be at least 1")
        chosen.update(range(first, last + 1, step))
    return frozenset(chosen)


# --- cron: which days of a month ----------------------------------------------------------


def _aws_weekday(day: date) -> int:
    """1=SUN .. 7=SAT, as AWS counts (Python's weekday() is 0=MON .. 6=SUN)."""
    return (day.weekday() + 1) % 7 + 1


class _Days(ABC):
    """The day-of-month or day-of-week field: which days of a given month it picks."""

    @abstractmethod
    def days(self, year: int, month: int) -> list[int]:
        """The matching days of `month` in `year`, ascending."""


@dataclass(frozen=True)
class _DaysOfMonth(_Days):
    """Day-of-month values (`1,15`, `1-7`, `*`, `1/5`); days the month lacks never fire."""

    values: frozenset[int]

    def days(self, year: int, month: int) -> list[int]:
        last = calendar.monthrange(year, month)[1]
        return sorted(day for day in self.values if day <= last)


@dataclass(frozen=True)
class _LastDayOfMonth(_Days):
    """`L` in day-of-month: the 28th, 29th, 30th or 31st."""

    def days(self, year: int, month: int) -> list[int]:
        return [calendar.monthrange(year, month)[1]]


@dataclass(frozen=True)
class _NearestWeekday(_Days):
    """`15W`: the weekday nearest the 15th, never crossing into another month; `LW` uses day 0.

    A Saturday moves back to Friday and a Sunday on to Monday, except that the 1st on a
    Saturday moves on to Monday the 3rd and a last day on a Sunday back to Friday. A day
    the month lacks (`31W` in April) does not fire that month.
    """

    day: int  # 0 means the month's last day (`LW`)

    def days(self, year: int, month: int) -> list[int]:
        last = calendar.monthrange(year, month)[1]
        target = self.day or last
        if target > last:
            return []
        weekday = _aws_weekday(date(year, month, target))
        if weekday == _SATURDAY:
            target = target - 1 if target > 1 else target + 2
        elif weekday == 1:  # Sunday
            target = target + 1 if target < last else target - 2
        return [target]


@dataclass(frozen=True)
class _Weekdays(_Days):
    """Day-of-week values (`MON-FRI`, `2,4`, `*`, and `L` alone: Saturday)."""

    values: frozenset[int]

    def days(self, year: int, month: int) -> list[int]:
        last = calendar.monthrange(year, month)[1]
        return [d for d in range(1, last + 1) if _aws_weekday(date(year, month, d)) in self.values]


@dataclass(frozen=True)
class _LastWeekday(_Days):
    """`6L`: the last Friday of the month."""

    weekday: int

    def days(self, year: int, month: int) -> list[int]:
        last = calendar.monthrange(year, month)[1]
        back = (_aws_weekday(date(year, month, last)) - self.weekday) % 7
        return [last - back]


@dataclass(frozen=True)
class _NthWeekday(_Days):
    """`6#3`: the third Friday of the month; a month without a fifth one skips `#5`."""

    weekday: int
    nth: int

    def days(self, year: int, month: int) -> list[int]:
        first = 1 + (self.weekday - _aws_weekday(date(year, month, 1))) % 7
        day = first + 7 * (self.nth - 1)
        return [day] if day <= calendar.monthrange(year, month)[1] else []


def _day_of_month(text: str) -> _Days:
    if text == "L":
        return _LastDayOfMonth()
    if text == "LW":
        return _NearestWeekday(0)
    if match := _NEAREST_WEEKDAY.fullmatch(text):
        return _NearestWeekday(_value(_DAY_OF_MONTH, match[1]))
    for item in text.split(","):
        if item in ("L", "LW") or _NEAREST_WEEKDAY.fullmatch(item):
            raise _FieldError(_DAY_OF_MONTH, f"{text}: {item} must be the whole field")
    return _DaysOfMonth(_values(_DAY_OF_MONTH, text))


def _day_of_week(text: str) -> _Days:
    if text == "L":
        return _Weekdays(frozenset({_SATURDAY}))
    if match := _NTH_WEEKDAY.fullmatch(text):
        nth = int(match[2])
        if not 1 <= nth <= 5:
            raise _FieldError(_DAY_OF_WEEK, f"{text}: the number after # must be 1-5")
        return _NthWeekday(_value(_DAY_OF_WEEK, match[1]), nth)
    if match := _LAST_OF_WEEKDAY.fullmatch(text):
        return _LastWeekday(_value(_DAY_OF_WEEK, match[1]))
    for item in text.split(","):
        if "#" in item or item == "L" or _LAST_OF_WEEKDAY.fullmatch(item):
            raise _FieldError(_DAY_OF_WEEK, f"{text}: {item} must be the whole field")
    return _Weekdays(_values(_DAY_OF_WEEK, text))


# --- cron: the schedule -------------------------------------------------------------------


@dataclass(frozen=True)
class CronSchedule(Schedule):
    """`cron(minutes hours day-of-month month day-of-week year)`, in UTC."""

    expression: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: _Days
    months: tuple[int, ...]
    years: tuple[int, ...]

    def next_after(self, moment: datetime) -> datetime | None:
        """The first whole minute after `moment` that every field allows; None past the years."""
        start = _utc(moment).replace(second=0, microsecond=0) + timedelta(minutes=1)
        for year in _from(self.years, start.year, True):
            on_year = year == start.year
            for month in _from(self.months, start.month, on_year):
                on_month = on_year and month == start.month
                for day in _from(self.days.days(year, month), start.day, on_month):
                    on_day = on_month and day == start.day
                    for hour in _from(self.hours, start.hour, on_day):
                        on_hour = on_day and hour == start.hour
                        for minute in _from(self.minutes, start.minute, on_hour):
                            return datetime(year, month, day, hour, minute, tzinfo=UTC)
        return None


def _from(values: Iterable[int], floor: int, bounded: bool) -> Iterator[int]:
    """The ascending `values`; only those from `floor` on while `bounded`.

    `bounded` holds while the search is still inside the start's year (month, day, hour):
    there the earlier values are in the past; in a later year every value is open.
    """
    return (value for value in values if not bounded or value >= floor)


def _parse_cron(expression: str) -> CronSchedule:
    fields = expression[len("cron(") : -1].split()
    if len(fields) != 6:
        raise ScheduleError(
            f"{expression}: a cron has 6 fields (minutes hours day-of-month month "
            f"day-of-week year), not {len(fields)}"
        )
    minutes, hours, day_of_month, month, day_of_week, year = (f.upper() for f in fields)
    if day_of_month == "?" and day_of_week == "?":
        raise ScheduleError(f"{expression}: only one of day-of-month and day-of-week can be ?")
    if day_of_month != "?" and day_of_week != "?":
        raise ScheduleError(f"{expression}: one of day-of-month and day-of-week must be ?")
    try:
        return CronSchedule(
            expression,
            minutes=_plain(_MINUTES, minutes),
            hours=_plain(_HOURS, hours),
            days=_day_of_month(day_of_month) if day_of_week == "?" else _day_of_week(day_of_week),
            months=_plain(_MONTH, month),
            years=_plain(_YEAR, year),
        )
    except _FieldError as error:
        raise ScheduleError(f"{expression}: {error}") from None


def _plain(field: _Field, text: str) -> tuple[int, ...]:
    """A field with no `?`, `L`, `W` or `#`: its values, ascending."""
    if "?" in text.split(","):
        raise _FieldError(field, "? is only allowed in day-of-month or day-of-week")
    return tuple(sorted(_values(field, text)))


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone; pass an aware UTC datetime")
    return moment.astimezone(UTC)
