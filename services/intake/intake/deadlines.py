"""Promised time limits (承诺时限) counted in Chinese working days.

Statutory holidays and adjusted working days come from ``chinese_calendar``. For a
year it does not cover yet (the State Council announces each year's arrangement late
in the year before), Monday to Friday are counted as working days until the library
is upgraded.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from yiwang_platform.workdays import china_date, is_working_day, next_working_day


def due_date(submitted_at: datetime, promised_days: int) -> date:
    """The last day of the time limit.

    An application received on a non-working day counts as received on the next
    working day; the limit ends ``promised_days`` working days after that day (so a
    limit of 0, an immediate matter, ends on the day of receipt).
    """
    day = next_working_day(china_date(submitted_at))
    for _ in range(promised_days):
        day = next_working_day(day + timedelta(days=1))
    return day


def add_working_days(start: date, days: int) -> date:
    """The day ``days`` working days after ``start`` (``start`` itself counts as day 0)."""
    day = next_working_day(start)
    for _ in range(days):
        day = next_working_day(day + timedelta(days=1))
    return day


def working_days_between(start: datetime, end: datetime) -> int:
    """Whole working days from ``start`` up to but not including ``end`` (China time):
    how long a 补正 pause stopped the clock."""
    first, last = china_date(start), china_date(end)
    count = 0
    day = first
    while day < last:
        if is_working_day(day):
            count += 1
        day += timedelta(days=1)
    return count
