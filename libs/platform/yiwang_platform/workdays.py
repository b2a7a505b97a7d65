"""Chinese working days (工作日): statutory holidays and adjusted working days from
``chinese_calendar``. A calendar utility, not a rule: services decide what a time limit is.

For a year the library does not cover yet (the State Council announces each year's
arrangement late in the year before), Monday to Friday count as working days, with a
warning, until the library is upgraded.
"""

from __future__ import annotations

import functools
import logging
from datetime import UTC, date, datetime, timedelta, timezone

import chinese_calendar

log = logging.getLogger(__name__)

# China has no daylight saving time, so a fixed offset is exact.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def china_date(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


def china_today() -> date:
    return china_date(datetime.now(UTC))


@functools.cache
def _warn_uncovered(year: int) -> None:
    log.warning("chinese_calendar has no data for %d; counting Monday to Friday", year)


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _warn_uncovered(day.year)
        return day.weekday() < 5


def next_working_day(day: date) -> date:
    """``day`` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def previous_working_day(day: date) -> date:
    """The last working day strictly before ``day``."""
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day
