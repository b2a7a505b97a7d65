"""Chinese working days (工作日): statutory holidays and adjusted working days from
``chinese_calendar``, and the one rule for counting a limit in working days
(``add_working_days``). Services decide how long a limit is and when it starts.

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


def add_working_days(start: date, days: int) -> date:
    """The last day of a limit of ``days`` working days that starts on ``start``.

    The rule (one for every service): the start day itself is never counted and only
    working days count, so the limit counts from the next working day after ``start``
    and ends on the ``days``-th working day after it, whatever day ``start`` is.
    民法典 art. 201 (开始的当日不计入，自下一日开始计算) and 行政许可法 art. 82
    (期限以工作日计算，不含法定节假日). Accepted on Saturday with 1 day: Monday, as for
    Friday; moving a weekend start to Monday first and counting from Tuesday would
    give the authority a working day the law does not.

    A limit of 0 days (an immediate matter) ends on ``start`` when it is a working
    day, else on the next working day (a limit never ends on a rest day: 民法典 art. 203).
    """
    if days < 0:
        raise ValueError("a time limit cannot be negative")
    day = start
    for _ in range(days):
        day = next_working_day(day + timedelta(days=1))
    return next_working_day(day)
