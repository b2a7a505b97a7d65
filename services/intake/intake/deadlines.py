"""Promised time limits (承诺时限) counted in Chinese working days, by the rule and
calendar of ``yiwang_platform.workdays``."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from yiwang_platform.workdays import add_working_days as add_working_days
from yiwang_platform.workdays import china_date, is_working_day


def due_date(submitted_at: datetime, promised_days: int) -> date:
    """The last day of the time limit counted from receipt (China time), by the
    platform's one working-day rule (``add_working_days``)."""
    return add_working_days(china_date(submitted_at), promised_days)


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
