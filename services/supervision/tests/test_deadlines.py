"""Working-day deadlines and red/yellow cards against the real 2026 calendar
(National Day 10-01..10-07, adjusted working Saturday 10-10)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from supervision.deadlines import (
    add_working_days,
    card,
    due_date,
    level,
    remaining_working_days,
    yellow_at,
    yellow_until,
)
from supervision.reviews import grade_of
from yiwang_platform.workdays import is_working_day


def at(day: str, hour: int = 10) -> datetime:
    """A moment in UTC on ``day`` (10:00 UTC is 18:00 the same day in China)."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("submitted", "promised_days", "due", "yellow"),
    [
        (at("2026-11-23"), 0, date(2026, 11, 23), date(2026, 11, 20)),  # immediate matter
        (at("2026-11-23"), 5, date(2026, 11, 30), date(2026, 11, 27)),  # over a weekend
        (at("2026-09-30"), 1, date(2026, 10, 8), date(2026, 9, 30)),  # over National Day
        (at("2026-10-03"), 1, date(2026, 10, 8), date(2026, 9, 30)),  # received in the holiday
        (at("2026-10-09"), 1, date(2026, 10, 10), date(2026, 10, 9)),  # working Saturday
        (at("2026-10-09"), 2, date(2026, 10, 12), date(2026, 10, 10)),  # yellow on that Saturday
        (at("2026-09-30", hour=17), 1, date(2026, 10, 8), date(2026, 9, 30)),  # 10-01 in China
        (at("2026-11-21"), 1, date(2026, 11, 23), date(2026, 11, 20)),  # Saturday: Monday
    ],
)
def test_due_date_and_yellow_day_count_chinese_working_days(submitted, promised_days, due, yellow):
    assert due_date(submitted, promised_days) == due
    assert yellow_at(due) == yellow


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 9, 29), "green"),
        (date(2026, 9, 30), "yellow"),  # the last working day before the due date
        (date(2026, 10, 4), "yellow"),  # still within the limit during the holiday
        (date(2026, 10, 8), "yellow"),  # the due date itself
        (date(2026, 10, 9), "red"),
    ],
)
def test_card_of_a_case_due_after_national_day(today, expected):
    assert card(date(2026, 10, 8), today) == expected


@pytest.mark.parametrize(
    ("today", "remaining", "one_day", "two_days"),
    [
        (date(2026, 9, 28), 2, "none", "yellow"),
        (date(2026, 9, 29), 1, "yellow", "yellow"),  # 09-30 is the only working day left
        (date(2026, 10, 3), 0, "red", "red"),  # overdue in the holiday: no working day past
        (date(2026, 10, 8), -1, "red", "red"),
        (date(2026, 10, 10), -3, "red", "red"),  # the working Saturday counts
    ],
)
def test_remaining_working_days_and_level_of_a_case_due_before_national_day(
    today, remaining, one_day, two_days
):
    due = date(2026, 9, 30)
    assert remaining_working_days(due, today) == remaining
    assert level(due, today, threshold=1) == one_day
    assert level(due, today, threshold=2) == two_days


def test_yellow_window_matches_the_level_rule():
    # For every day and due date in autumn 2026, a due date is yellow or red exactly when
    # it falls before yellow_until, the filter the lists use.
    start = date(2026, 9, 20)
    for threshold in (0, 1, 3):
        for offset in range(40):
            today = date.fromordinal(start.toordinal() + offset)
            until = yellow_until(today, threshold)
            for later in range(-5, 30):
                due = date.fromordinal(today.toordinal() + later)
                warned = level(due, today, threshold=threshold) != "none"
                assert warned == (due < until), (threshold, today, due)
                if due >= today and warned:
                    assert yellow_at(due, threshold) <= today


def test_working_days_are_added_over_the_holiday_and_the_working_saturday():
    assert add_working_days(date(2026, 9, 30), 0) == date(2026, 9, 30)
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert add_working_days(date(2026, 10, 3), 1) == date(2026, 10, 8)
    # A Saturday start counts as intake counts it: the next working day is day 1.
    assert add_working_days(date(2026, 11, 21), 1) == date(2026, 11, 23)
    assert add_working_days(date(2026, 11, 21), 0) == date(2026, 11, 23)


def test_years_without_calendar_data_count_monday_to_friday():
    assert is_working_day(date(2027, 1, 4)) is True  # a Monday
    assert is_working_day(date(2027, 1, 9)) is False  # a Saturday
    assert due_date(at("2026-12-31"), 2) == date(2027, 1, 4)
    assert yellow_at(date(2027, 1, 4)) == date(2027, 1, 1)


def test_a_rating_of_two_or_less_is_a_bad_review():
    assert [grade_of(r) for r in (1, 2, 3, 4, 5)] == ["bad", "bad", "good", "good", "good"]
