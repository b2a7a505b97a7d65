"""Deadlines in Chinese working days and the red/yellow cards (红黄牌) against them.

Statutory holidays, adjusted working days and the rule for counting a limit come
from the platform (``yiwang_platform.workdays``).

Cards: yellow when ``threshold`` working days or fewer are left before the due date
(the working days after today up to and including the due date), red from the day
after the due date. Items that are closed or whose clock is stopped get no card.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from yiwang_platform.deps import NowDep
from yiwang_platform.workdays import add_working_days as add_working_days
from yiwang_platform.workdays import china_date, is_working_day, previous_working_day

Card = Literal["green", "yellow", "red"]
Level = Literal["none", "yellow", "red"]


async def china_today(now: NowDep) -> date:
    """Today in China by the service's clock, the day cards are computed for."""
    return china_date(now)


def due_date(submitted_at: datetime, promised_days: int) -> date:
    """The last day of a limit counted from ``submitted_at`` (China time) by the
    platform's one working-day rule; only for events that do not carry their due date."""
    return add_working_days(china_date(submitted_at), promised_days)


def remaining_working_days(due: date, today: date) -> int:
    """Working days after today up to the due date; negative (working days past) when overdue."""
    if today <= due:
        return _working_days_in(today, due)
    return -_working_days_in(due, today)


def _working_days_in(start: date, end: date) -> int:
    """Working days in (start, end]."""
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        count += is_working_day(day)
        day += timedelta(days=1)
    return count


def yellow_at(due: date, threshold: int = 1) -> date:
    """The first day on which at most ``threshold`` working days are left."""
    day = due if is_working_day(due) else previous_working_day(due)
    for _ in range(threshold):
        day = previous_working_day(day)
    return day


def yellow_until(today: date, threshold: int) -> date:
    """Due dates before this day are yellow or red today: it is the (threshold + 1)-th
    working day after today, so a due date before it has at most ``threshold`` left."""
    return add_working_days(today, threshold + 1)


def level(due: date, today: date, *, threshold: int) -> Level:
    if today > due:
        return "red"
    if remaining_working_days(due, today) <= threshold:
        return "yellow"
    return "none"


def card(due: date, today: date, *, threshold: int = 1) -> Card:
    found = level(due, today, threshold=threshold)
    return "green" if found == "none" else found
