"""Working-day deadlines and red/yellow cards against the real 2026 calendar
(National Day 10-01..10-07, adjusted working Saturday 10-10)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from supervision.deadlines import card, due_date, yellow_at
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
        (at("2026-10-03"), 1, date(2026, 10, 9), date(2026, 10, 8)),  # received in the holiday
        (at("2026-10-09"), 1, date(2026, 10, 10), date(2026, 10, 9)),  # working Saturday
        (at("2026-10-09"), 2, date(2026, 10, 12), date(2026, 10, 10)),  # yellow on that Saturday
        (at("2026-09-30", hour=17), 1, date(2026, 10, 9), date(2026, 10, 8)),  # 10-01 in China
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
    assert card(date(2026, 10, 8), date(2026, 9, 30), today) == expected


def test_years_without_calendar_data_count_monday_to_friday():
    assert is_working_day(date(2027, 1, 4)) is True  # a Monday
    assert is_working_day(date(2027, 1, 9)) is False  # a Saturday
    assert due_date(at("2026-12-31"), 2) == date(2027, 1, 4)
    assert yellow_at(date(2027, 1, 4)) == date(2027, 1, 1)


def test_a_rating_of_two_or_less_is_a_bad_review():
    assert [grade_of(r) for r in (1, 2, 3, 4, 5)] == ["bad", "bad", "good", "good", "good"]
