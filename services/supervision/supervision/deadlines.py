"""Deadlines in Chinese working days and the red/yellow cards (红黄牌) against them.

Statutory holidays and adjusted working days come from ``chinese_calendar``. For a
year it does not cover yet (the State Council announces each year's arrangement late
in the year before), Monday to Friday are counted as working days until the library
is upgraded.

Cards: green until ``yellow_at``, the last working day before the due date; yellow
from then to the due date inclusive; red from the day after the due date.
"""

from __future__ import annotations

import functools
import logging
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Literal

import chinese_calendar

log = logging.getLogger(__name__)

# China has no daylight saving time, so a fixed offset is exact.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")

Card = Literal["green", "yellow", "red"]


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


def due_date(submitted_at: datetime, promised_days: int) -> date:
    """The last day of the time limit.

    A case received on a non-working day counts as received on the next working day;
    the limit ends ``promised_days`` working days after that day (so a limit of 0, an
    immediate matter, ends on the day of receipt).
    """
    day = next_working_day(china_date(submitted_at))
    for _ in range(promised_days):
        day = next_working_day(day + timedelta(days=1))
    return day


def yellow_at(due: date) -> date:
    return previous_working_day(due)


def card(due: date, yellow: date, today: date) -> Card:
    if today > due:
        return "red"
    if today >= yellow:
        return "yellow"
    return "green"
