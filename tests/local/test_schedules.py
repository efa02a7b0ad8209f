"""EventBridge schedule expressions as the local runner reads them: parsing, errors, next firing.

Each documented rule of "Schedule expressions for rules" has cases here, with the
calendar facts they depend on spelled out beside them (2026-01-01 is a Thursday,
2026-08-01 a Saturday, ...), so a reader can check an expected time without running
anything. Independent oracles (plain predicates over dates) cross-check the field-by-field
search over whole ranges of days and minutes.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from infra.local.schedules import (
    CronSchedule,
    RateSchedule,
    Schedule,
    ScheduleError,
    parse_schedule,
)


def utc(text: str) -> datetime:
    """`2026-12-02T06:00` -> that minute in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def firings(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    found: list[datetime] = []
    moment: datetime | None = after
    for _ in range(count):
        assert moment is not None
        moment = schedule.next_after(moment)
        if moment is None:
            break
        found.append(moment)
    return found


# --- rate -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "interval"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(5 minutes)", timedelta(minutes=5)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(2 hours)", timedelta(hours=2)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(3 days)", timedelta(days=3)),
        ("rate(1440 minutes)", timedelta(days=1)),
    ],
)
def test_a_rate_fires_one_interval_after_the_moment_given(
    expression: str, interval: timedelta
) -> None:
    schedule = parse_schedule(expression)
    assert schedule == RateSchedule(expression, interval)
    created = utc("2026-12-02T10:17:42.5")
    assert schedule.next_after(created) == created + interval


def test_a_rate_counts_from_the_moment_given_not_from_whole_minutes() -> None:
    """EventBridge starts a rate when the rule is created; seconds are kept."""
    schedule = parse_schedule("rate(5 minutes)")
    assert firings(schedule, utc("2026-12-02T10:17:42"), 3) == [
        utc("2026-12-02T10:22:42"),
        utc("2026-12-02T10:27:42"),
        utc("2026-12-02T10:32:42"),
    ]


def test_a_rate_answers_in_utc_for_a_moment_in_another_zone() -> None:
    plus_two = timezone(timedelta(hours=2))
    result = parse_schedule("rate(1 hour)").next_after(datetime(2026, 3, 29, 3, 0, tzinfo=plus_two))
    assert result == utc("2026-03-29T02:00")
    assert result is not None and result.tzinfo is UTC


# --- cron: next firing ----------------------------------------------------------------------

CRON_CASES = [
    # Plain fields, strictly after the moment.
    ("cron(0 6 * * ? *)", "2026-12-02T05:59:59", "2026-12-02T06:00", "just before"),
    ("cron(0 6 * * ? *)", "2026-12-02T06:00:00", "2026-12-03T06:00", "exactly at: strictly after"),
    ("cron(0 6 * * ? *)", "2026-12-02T06:00:30", "2026-12-03T06:00", "inside the minute"),
    ("cron(0 6 * * ? *)", "2026-12-02T05:59:59.999999", "2026-12-02T06:00", "microseconds"),
    ("cron(15 12 * * ? *)", "2026-12-02T12:16", "2026-12-03T12:15", "daily 12:15"),
    ("cron(5,35 14 * * ? *)", "2026-12-02T14:05", "2026-12-02T14:35", "list of minutes"),
    ("cron(5,35 14 * * ? *)", "2026-12-02T14:35", "2026-12-03T14:05", "list wraps to a day"),
    ("cron(0/15 * * * ? *)", "2026-12-02T11:59", "2026-12-02T12:00", "*/15 from 0"),
    ("cron(0/15 * * * ? *)", "2026-12-02T12:00", "2026-12-02T12:15", "next quarter"),
    ("cron(*/15 * * * ? *)", "2026-12-02T12:46", "2026-12-02T13:00", "*/15"),
    ("cron(1/10 * * * ? *)", "2026-12-02T12:51", "2026-12-02T13:01", "1/10: 1, 11, .., 51"),
    ("cron(0 8-17/3 * * ? *)", "2026-12-02T14:00", "2026-12-02T17:00", "8-17/3: 8 11 14 17"),
    ("cron(0 8-17/3 * * ? *)", "2026-12-02T17:00", "2026-12-03T08:00", "range step ends"),
    ("cron(* * * * ? *)", "2026-12-02T12:00:01", "2026-12-02T12:01", "every minute"),
    # Year rollover.
    ("cron(* * * * ? *)", "2026-12-31T23:59", "2027-01-01T00:00", "minute into a new year"),
    ("cron(0 8 1 * ? *)", "2026-12-01T08:00", "2027-01-01T08:00", "monthly into a new year"),
    ("cron(0 0 1 1 ? *)", "2026-01-01T00:00", "2027-01-01T00:00", "yearly"),
    # Day of week: 1=SUN .. 7=SAT; 2026-12-04 is a Friday.
    ("cron(0 18 ? * MON-FRI *)", "2026-12-04T18:00", "2026-12-07T18:00", "weekdays: Fri->Mon"),
    ("cron(0 18 ? * 2-6 *)", "2026-12-04T18:00", "2026-12-07T18:00", "2-6 is MON-FRI"),
    ("cron(0 9 ? * 1,7 *)", "2026-12-02T00:00", "2026-12-05T09:00", "1,7 is SUN,SAT"),
    ("cron(0 9 ? * SUN *)", "2026-12-05T09:00", "2026-12-06T09:00", "Sunday is 1"),
    ("cron(0 9 ? * sat *)", "2026-12-02T00:00", "2026-12-05T09:00", "names in any case"),
    ("cron(0 12 ? * L *)", "2026-12-02T00:00", "2026-12-05T12:00", "L alone: Saturday"),
    # Months by number and name.
    ("cron(0 12 1 JAN,JUL ? *)", "2026-01-01T12:00", "2026-07-01T12:00", "month names"),
    ("cron(0 12 1 7 ? *)", "2026-12-02T00:00", "2027-07-01T12:00", "month number"),
    ("cron(0 12 ? JAN-MAR MON *)", "2026-03-30T12:00", "2027-01-04T12:00", "month range"),
    ("cron(0 0 1 */4 ? *)", "2026-01-01T00:00", "2026-05-01T00:00", "*/4 months: 1 5 9"),
    # Days a month lacks are skipped.
    ("cron(0 0 31 * ? *)", "2026-04-01T00:00", "2026-05-31T00:00", "no April 31"),
    ("cron(0 0 31 * ? *)", "2026-01-31T00:00", "2026-03-31T00:00", "no February 31"),
    ("cron(0 0 1/10 * ? *)", "2026-04-21T00:00", "2026-05-01T00:00", "1/10: 1 11 21 31"),
    ("cron(0 0 30 2 ? 2026-2030)", "2026-01-01T00:00", None, "February 30 never comes"),
    # Leap years: 2024 and 2000 are, 2025 and 2100 are not.
    ("cron(0 0 29 2 ? *)", "2025-01-01T00:00", "2028-02-29T00:00", "Feb 29: next leap year"),
    ("cron(0 0 29 2 ? *)", "2096-03-01T00:00", "2104-02-29T00:00", "2100 is no leap year"),
    ("cron(0 0 29 2 ? *)", "1999-01-01T00:00", "2000-02-29T00:00", "2000 is a leap year"),
    # L in day-of-month: the month's last day.
    ("cron(0 0 L 2 ? *)", "2024-01-15T00:00", "2024-02-29T00:00", "L in a leap February"),
    ("cron(0 0 L 2 ? *)", "2024-02-29T00:00", "2025-02-28T00:00", "L in a plain February"),
    ("cron(0 0 L 2 ? *)", "2100-01-01T00:00", "2100-02-28T00:00", "L in February 2100"),
    ("cron(0 10 L * ? *)", "2024-02-29T10:00", "2024-03-31T10:00", "L: 31 after 29"),
    ("cron(0 10 L * ? *)", "2026-04-29T10:00", "2026-04-30T10:00", "L: 30"),
    # W: nearest weekday, never crossing the month.
    ("cron(0 9 15W * ? *)", "2026-01-01T00:00", "2026-01-15T09:00", "15th a Thursday"),
    ("cron(0 9 15W * ? *)", "2026-02-01T00:00", "2026-02-16T09:00", "15th a Sunday: Monday"),
    ("cron(0 9 15W * ? *)", "2026-08-01T00:00", "2026-08-14T09:00", "15th a Saturday: Friday"),
    ("cron(0 9 1W * ? *)", "2026-07-15T00:00", "2026-08-03T09:00", "1st a Saturday: Mon 3rd"),
    ("cron(0 9 1W * ? *)", "2026-01-15T00:00", "2026-02-02T09:00", "1st a Sunday: Mon 2nd"),
    ("cron(0 9 31W * ? *)", "2026-01-01T00:00", "2026-01-30T09:00", "31st a Saturday: Friday"),
    ("cron(0 9 31W * ? *)", "2026-05-01T00:00", "2026-05-29T09:00", "last day a Sunday: Fri"),
    ("cron(0 9 31W * ? *)", "2026-04-01T00:00", "2026-05-29T09:00", "April has no 31st"),
    ("cron(0 9 30W * ? *)", "2026-01-31T00:00", "2026-03-30T09:00", "February has no 30th"),
    ("cron(0 9 LW * ? *)", "2026-01-01T00:00", "2026-01-30T09:00", "LW: 31st a Saturday"),
    ("cron(0 9 LW * ? *)", "2026-02-01T00:00", "2026-02-27T09:00", "LW: 28th a Saturday"),
    ("cron(0 9 LW * ? *)", "2026-05-01T00:00", "2026-05-29T09:00", "LW: 31st a Sunday"),
    ("cron(0 9 LW * ? *)", "2026-06-01T00:00", "2026-06-30T09:00", "LW: 30th a Tuesday"),
    # nL in day-of-week: the last such weekday of the month.
    ("cron(15 10 ? * 6L 2022-2030)", "2026-01-01T00:00", "2026-01-30T10:15", "last Friday"),
    ("cron(15 10 ? * 6L *)", "2026-01-30T10:15", "2026-02-27T10:15", "Feb 28 is a Saturday"),
    ("cron(15 10 ? * FRIL *)", "2026-12-01T00:00", "2026-12-25T10:15", "names work with L"),
    ("cron(0 9 ? * 1L *)", "2026-05-01T00:00", "2026-05-31T09:00", "last Sunday on the 31st"),
    # # in day-of-week: the nth such weekday; months without a fifth are skipped.
    ("cron(0 12 ? * 6#3 *)", "2026-01-01T00:00", "2026-01-16T12:00", "third Friday"),
    ("cron(0 12 ? * FRI#3 *)", "2026-01-16T12:00", "2026-02-20T12:00", "third Friday by name"),
    ("cron(0 12 ? * 2#1 *)", "2026-12-01T00:00", "2026-12-07T12:00", "first Monday"),
    ("cron(0 12 ? * 5#5 *)", "2026-01-01T00:00", "2026-01-29T12:00", "fifth Thursday"),
    ("cron(0 12 ? * 5#5 *)", "2026-01-29T12:00", "2026-04-30T12:00", "no fifth in Feb, Mar"),
    ("cron(0 12 ? * 1#5 *)", "2026-02-01T00:00", "2026-03-29T12:00", "fifth Sunday"),
    ("cron(0 12 ? * 5#5 2026)", "2026-12-31T12:00", None, "#5 after the last year"),
    # Years 1970-2199.
    ("cron(0 0 1 1 ? 2030)", "2026-06-01T00:00", "2030-01-01T00:00", "one year"),
    ("cron(0 0 1 1 ? 2030)", "2030-01-01T00:00", None, "its only firing is past"),
    ("cron(0 0 * * ? 2020)", "2026-06-01T00:00", None, "a past year"),
    ("cron(0 0 1 1 ? 2026/2)", "2026-01-01T00:00", "2028-01-01T00:00", "2026/2 years"),
    ("cron(0 0 1 1 ? */5)", "2026-01-01T00:00", "2030-01-01T00:00", "*/5 counts from 1970"),
    ("cron(0 0 1 1 ? 2199)", "2198-06-01T00:00", "2199-01-01T00:00", "the last year"),
    ("cron(0 0 1 1 ? 2199)", "2199-01-01T00:00", None, "nothing after 2199"),
    ("cron(0 0 * * ? *)", "2200-01-01T00:00", None, "a moment past 2199"),
    ("cron(0 0 1 1 ? *)", "1969-06-01T00:00", "1970-01-01T00:00", "a moment before 1970"),
    # UTC has no daylight saving time: 02:30 exists on Europe's spring-forward day.
    ("cron(30 2 * * ? *)", "2026-03-29T00:00", "2026-03-29T02:30", "EU spring forward"),
    ("cron(30 1 * * ? *)", "2026-10-25T01:30", "2026-10-26T01:30", "EU fall back: once"),
]


@pytest.mark.parametrize(
    ("expression", "moment", "expected"),
    [case[:3] for case in CRON_CASES],
    ids=[f"{case[0]} {case[3]}" for case in CRON_CASES],
)
def test_a_cron_fires_at_the_first_minute_after_the_moment_that_every_field_allows(
    expression: str, moment: str, expected: str | None
) -> None:
    result = parse_schedule(expression).next_after(utc(moment))
    assert result == (utc(expected) if expected else None)
    if result is not None:
        assert result.tzinfo is UTC


def test_the_example_apps_nightly_report_fires_every_day_at_six_utc() -> None:
    schedule = parse_schedule("cron(0 6 * * ? *)")
    assert firings(schedule, utc("2026-12-30T12:00"), 3) == [
        utc("2026-12-31T06:00"),
        utc("2027-01-01T06:00"),
        utc("2027-01-02T06:00"),
    ]


def test_a_moment_in_another_zone_is_read_as_the_same_instant_in_utc() -> None:
    """07:30 at UTC+2 is 05:30 UTC: a 06:00 UTC schedule fires half an hour later."""
    plus_two = timezone(timedelta(hours=2))
    result = parse_schedule("cron(0 6 * * ? *)").next_after(
        datetime(2026, 12, 2, 7, 30, tzinfo=plus_two)
    )
    assert result == utc("2026-12-02T06:00")
    assert result is not None and result.tzinfo is UTC


@pytest.mark.parametrize("day", ["2026-03-08", "2026-03-29", "2026-10-25", "2026-11-01"])
def test_an_hourly_cron_fires_24_times_on_the_days_clocks_change_elsewhere(day: str) -> None:
    """US and EU daylight saving days: UTC has 24 hours on each of them."""
    start = utc(f"{day}T00:00") - timedelta(seconds=1)
    times = firings(parse_schedule("cron(0 * * * ? *)"), start, 24)
    assert [t.hour for t in times] == list(range(24))
    assert {t.date() for t in times} == {date.fromisoformat(day)}


def test_a_naive_moment_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="has no time zone") as info:
        parse_schedule("cron(0 6 * * ? *)").next_after(datetime(2026, 12, 2, 6, 0))
    assert not isinstance(info.value, ScheduleError)  # a caller's bug, not a bad expression


def test_a_cron_that_never_fires_is_answered_quickly() -> None:
    """Field by field: 230 years of a February 30th cost far less than a second."""
    started = time.perf_counter()
    assert parse_schedule("cron(0 0 30 2 ? *)").next_after(utc("1970-01-01T00:00")) is None
    assert parse_schedule("cron(59 23 ? * 5#5 2199)").next_after(utc("1970-01-01T00:00")) == (
        utc("2199-01-31T23:59")
    )
    assert time.perf_counter() - started < 1


def test_parse_returns_the_fields_as_sorted_values() -> None:
    schedule = parse_schedule("cron(45,0/20 9-11 * JAN,MAR ? 2026-2027)")
    assert isinstance(schedule, CronSchedule)
    assert schedule.expression == "cron(45,0/20 9-11 * JAN,MAR ? 2026-2027)"
    assert schedule.minutes == (0, 20, 40, 45)
    assert schedule.hours == (9, 10, 11)
    assert schedule.months == (1, 3)
    assert schedule.years == (2026, 2027)


# --- cron: cross-checked against plain predicates -------------------------------------------

MINUTE_ORACLES: list[tuple[str, Callable[[datetime], bool]]] = [
    (
        "cron(0/15 9-17 ? * MON-FRI *)",
        lambda t: t.minute % 15 == 0 and 9 <= t.hour <= 17 and t.weekday() < 5,
    ),
    (
        "cron(5,35 */6 ? * SUN,SAT *)",
        lambda t: t.minute in (5, 35) and t.hour % 6 == 0 and t.weekday() >= 5,
    ),
    ("cron(58-59,0-1 23,0 * * ? *)", lambda t: t.minute in (58, 59, 0, 1) and t.hour in (23, 0)),
    ("cron(7/20 * 31,1 * ? *)", lambda t: t.minute in (7, 27, 47) and t.day in (31, 1)),
]


@pytest.mark.parametrize(
    ("expression", "oracle"), MINUTE_ORACLES, ids=[e for e, _ in MINUTE_ORACLES]
)
def test_every_minute_a_predicate_allows_is_a_firing_and_no_other(
    expression: str, oracle: Callable[[datetime], bool]
) -> None:
    """Eight days minute by minute, across a month and a year boundary."""
    start, end = utc("2026-12-28T00:00"), utc("2027-01-05T00:00")
    expected = []
    moment = start + timedelta(minutes=1)
    while moment <= end:
        if oracle(moment):
            expected.append(moment)
        moment += timedelta(minutes=1)
    assert expected, "the window must hold firings for the check to mean anything"
    schedule = parse_schedule(expression)
    found = [t for t in firings(schedule, start, len(expected) + 1) if t <= end]
    assert found == expected


def _nearest_weekday(year: int, month: int, day: int) -> int | None:
    last = calendar.monthrange(year, month)[1]
    if day > last:
        return None
    weekday = date(year, month, day).weekday()  # 5 Saturday, 6 Sunday
    if weekday == 5:
        return day - 1 if day > 1 else day + 2
    if weekday == 6:
        return day + 1 if day < last else day - 2
    return day


DAY_ORACLES: list[tuple[str, Callable[[date], bool]]] = [
    ("cron(0 9 L * ? *)", lambda d: d.day == calendar.monthrange(d.year, d.month)[1]),
    (
        "cron(0 9 ? * 6L *)",
        lambda d: d.weekday() == 4 and d.day + 7 > calendar.monthrange(d.year, d.month)[1],
    ),
    ("cron(0 9 ? * 6#3 *)", lambda d: d.weekday() == 4 and 15 <= d.day <= 21),
    ("cron(0 9 ? * 2#5 *)", lambda d: d.weekday() == 0 and d.day >= 29),
    ("cron(0 9 15W * ? *)", lambda d: d.day == _nearest_weekday(d.year, d.month, 15)),
    ("cron(0 9 1W * ? *)", lambda d: d.day == _nearest_weekday(d.year, d.month, 1)),
    ("cron(0 9 31W * ? *)", lambda d: d.day == _nearest_weekday(d.year, d.month, 31)),
    (
        "cron(0 9 LW * ? *)",
        lambda d: (
            d.day == _nearest_weekday(d.year, d.month, calendar.monthrange(d.year, d.month)[1])
        ),
    ),
    ("cron(0 9 29 2 ? *)", lambda d: (d.month, d.day) == (2, 29)),
]


@pytest.mark.parametrize(("expression", "oracle"), DAY_ORACLES, ids=[e for e, _ in DAY_ORACLES])
def test_every_day_a_predicate_allows_is_a_firing_and_no_other(
    expression: str, oracle: Callable[[date], bool]
) -> None:
    """Eight years day by day (2023-2030: two leap years, every weekday on every date)."""
    first, last = date(2023, 1, 1), date(2030, 12, 31)
    expected = [
        datetime(d.year, d.month, d.day, 9, tzinfo=UTC)
        for d in (first + timedelta(days=n) for n in range((last - first).days + 1))
        if oracle(d)
    ]
    assert expected, "the window must hold firings for the check to mean anything"
    schedule = parse_schedule(expression)
    start = datetime(2022, 12, 31, 23, 59, tzinfo=UTC)
    found = [t for t in firings(schedule, start, len(expected) + 1) if t.date() <= last]
    assert found == expected


# --- errors ---------------------------------------------------------------------------------

INVALID = [
    (
        "every 5 minutes",
        "'every 5 minutes' is not a schedule expression: write rate(value unit) or "
        "cron(minutes hours day-of-month month day-of-week year)",
    ),
    (
        "cron(0 6 * * ? *",
        "'cron(0 6 * * ? *' is not a schedule expression: write rate(value unit) or "
        "cron(minutes hours day-of-month month day-of-week year)",
    ),
    (
        "at(2026-12-02T06:00:00)",
        "'at(2026-12-02T06:00:00)' is not a schedule expression: write rate(value unit) or "
        "cron(minutes hours day-of-month month day-of-week year)",
    ),
    # rate
    ("rate(5)", "rate(5): a rate has two parts, a value and a unit"),
    ("rate(5 minutes now)", "rate(5 minutes now): a rate has two parts, a value and a unit"),
    ("rate()", "rate(): a rate has two parts, a value and a unit"),
    ("rate(0 minutes)", "rate(0 minutes): the value must be a whole number of at least 1"),
    ("rate(-1 minutes)", "rate(-1 minutes): the value must be a whole number of at least 1"),
    ("rate(1.5 hours)", "rate(1.5 hours): the value must be a whole number of at least 1"),
    ("rate(five minutes)", "rate(five minutes): the value must be a whole number of at least 1"),
    ("rate(1 minutes)", "rate(1 minutes): a value of 1 takes the singular unit 'minute'"),
    ("rate(1 hours)", "rate(1 hours): a value of 1 takes the singular unit 'hour'"),
    ("rate(1 days)", "rate(1 days): a value of 1 takes the singular unit 'day'"),
    ("rate(5 minute)", "rate(5 minute): a value over 1 takes the plural unit 'minutes'"),
    ("rate(5 hour)", "rate(5 hour): a value over 1 takes the plural unit 'hours'"),
    ("rate(3 day)", "rate(3 day): a value over 1 takes the plural unit 'days'"),
    (
        "rate(2 weeks)",
        "rate(2 weeks): the unit must be minute(s), hour(s) or day(s), not 'weeks'",
    ),
    (
        "rate(30 seconds)",
        "rate(30 seconds): the unit must be minute(s), hour(s) or day(s), not 'seconds'",
    ),
    (
        "rate(5 Minutes)",
        "rate(5 Minutes): the unit must be minute(s), hour(s) or day(s), not 'Minutes'",
    ),
    # cron: shape and the ? rule
    (
        "cron(0 6 * * ?)",
        "cron(0 6 * * ?): a cron has 6 fields (minutes hours day-of-month month day-of-week "
        "year), not 5",
    ),
    (
        "cron(0 0 6 * * ? *)",
        "cron(0 0 6 * * ? *): a cron has 6 fields (minutes hours day-of-month month "
        "day-of-week year), not 7",
    ),
    (
        "cron()",
        "cron(): a cron has 6 fields (minutes hours day-of-month month day-of-week year), not 0",
    ),
    ("cron(0 6 * * * *)", "cron(0 6 * * * *): one of day-of-month and day-of-week must be ?"),
    ("cron(0 6 1 * MON *)", "cron(0 6 1 * MON *): one of day-of-month and day-of-week must be ?"),
    (
        "cron(0 6 ? * ? *)",
        "cron(0 6 ? * ? *): only one of day-of-month and day-of-week can be ?",
    ),
    # cron: ranges of each field
    ("cron(60 6 * * ? *)", "cron(60 6 * * ? *): minutes: 60 is out of range 0-59"),
    ("cron(0 24 * * ? *)", "cron(0 24 * * ? *): hours: 24 is out of range 0-23"),
    ("cron(0 6 0 * ? *)", "cron(0 6 0 * ? *): day-of-month: 0 is out of range 1-31"),
    ("cron(0 6 32 * ? *)", "cron(0 6 32 * ? *): day-of-month: 32 is out of range 1-31"),
    ("cron(0 6 * 0 ? *)", "cron(0 6 * 0 ? *): month: 0 is out of range 1-12"),
    ("cron(0 6 * 13 ? *)", "cron(0 6 * 13 ? *): month: 13 is out of range 1-12"),
    ("cron(0 6 ? * 0 *)", "cron(0 6 ? * 0 *): day-of-week: 0 is out of range 1-7"),
    ("cron(0 6 ? * 8 *)", "cron(0 6 ? * 8 *): day-of-week: 8 is out of range 1-7"),
    ("cron(0 6 * * ? 1969)", "cron(0 6 * * ? 1969): year: 1969 is out of range 1970-2199"),
    ("cron(0 6 * * ? 2200)", "cron(0 6 * * ? 2200): year: 2200 is out of range 1970-2199"),
    ("cron(0 6 1-40 * ? *)", "cron(0 6 1-40 * ? *): day-of-month: 40 is out of range 1-31"),
    # cron: names, syntax, steps, ranges
    (
        "cron(0 6 * JANUARY ? *)",
        "cron(0 6 * JANUARY ? *): month: 'JANUARY' is not a number 1-12 or a name JAN-DEC",
    ),
    (
        "cron(0 6 ? * MONDAY *)",
        "cron(0 6 ? * MONDAY *): day-of-week: 'MONDAY' is not a number 1-7 or a name SUN-SAT",
    ),
    ("cron(0 MON * * ? *)", "cron(0 MON * * ? *): hours: 'MON' is not a number 0-23"),
    ("cron(L 6 * * ? *)", "cron(L 6 * * ? *): minutes: 'L' is not a number 0-59"),
    (
        "cron(1,,2 6 * * ? *)",
        "cron(1,,2 6 * * ? *): minutes: '' is not a number 0-59, a range or a step",
    ),
    (
        "cron(0 6 15# * ? *)",
        "cron(0 6 15# * ? *): day-of-month: '15#' is not a number 1-31, a range or a step",
    ),
    ("cron(0/0 6 * * ? *)", "cron(0/0 6 * * ? *): minutes: 0/0: the step must be at least 1"),
    ("cron(30-10 6 * * ? *)", "cron(30-10 6 * * ? *): minutes: range 30-10 runs backwards"),
    (
        "cron(0 6 ? * FRI-MON *)",
        "cron(0 6 ? * FRI-MON *): day-of-week: range FRI-MON runs backwards",
    ),
    (
        "cron(0 6 ? * 2/2 *)",
        "cron(0 6 ? * 2/2 *): day-of-week: 2/2: a step (/) is not allowed in day-of-week",
    ),
    (
        "cron(0 ? * * ? *)",
        "cron(0 ? * * ? *): hours: ? is only allowed in day-of-month or day-of-week",
    ),
    (
        "cron(0 6 * ? ? *)",
        "cron(0 6 * ? ? *): month: ? is only allowed in day-of-month or day-of-week",
    ),
    (
        "cron(0 6 * * ? ?)",
        "cron(0 6 * * ? ?): year: ? is only allowed in day-of-month or day-of-week",
    ),
    # cron: L, W and # stand alone
    ("cron(0 6 1,L * ? *)", "cron(0 6 1,L * ? *): day-of-month: 1,L: L must be the whole field"),
    (
        "cron(0 6 1W,15W * ? *)",
        "cron(0 6 1W,15W * ? *): day-of-month: 1W,15W: 1W must be the whole field",
    ),
    ("cron(0 6 32W * ? *)", "cron(0 6 32W * ? *): day-of-month: 32 is out of range 1-31"),
    (
        "cron(0 6 ? * 3#1,6#3 *)",
        "cron(0 6 ? * 3#1,6#3 *): day-of-week: 3#1,6#3: 3#1 must be the whole field",
    ),
    (
        "cron(0 6 ? * 5L,6L *)",
        "cron(0 6 ? * 5L,6L *): day-of-week: 5L,6L: 5L must be the whole field",
    ),
    (
        "cron(0 6 ? * 2-6,L *)",
        "cron(0 6 ? * 2-6,L *): day-of-week: 2-6,L: L must be the whole field",
    ),
    (
        "cron(0 6 ? * 6#6 *)",
        "cron(0 6 ? * 6#6 *): day-of-week: 6#6: the number after # must be 1-5",
    ),
    (
        "cron(0 6 ? * 6#0 *)",
        "cron(0 6 ? * 6#0 *): day-of-week: 6#0: the number after # must be 1-5",
    ),
    ("cron(0 6 ? * 8#1 *)", "cron(0 6 ? * 8#1 *): day-of-week: 8 is out of range 1-7"),
    ("cron(0 6 ? * 8L *)", "cron(0 6 ? * 8L *): day-of-week: 8 is out of range 1-7"),
]


@pytest.mark.parametrize(("expression", "message"), INVALID, ids=[e for e, _ in INVALID])
def test_an_expression_aws_would_refuse_is_one_line_naming_the_field(
    expression: str, message: str
) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_schedule(expression)
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_a_schedule_error_is_a_value_error() -> None:
    assert issubclass(ScheduleError, ValueError)
