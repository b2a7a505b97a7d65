"""Deadlines in Chinese working days and the red/yellow cards (红黄牌) against them.

Statutory holidays and adjusted working days come from ``chinese_calendar``. For a
year it does not cover yet (the State Council announces each year's arrangement late
in the year before), Monday to Friday are counted as working days until the library
is upgraded.

Cards: green until ``yellow_at``, the last working day before the due date; yellow
from then to the due date inclusive; red from the day after the due date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from yiwang_platform.workdays import (
    china_date,
    next_working_day,
    previous_working_day,
)

Card = Literal["green", "yellow", "red"]


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
