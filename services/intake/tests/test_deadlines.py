"""Working-day deadlines against the real 2026 calendar (National Day 10-01..10-07,
adjusted working Saturday 10-10)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from intake.deadlines import due_date
from yiwang_platform.workdays import is_working_day


def at(day: str, hour: int = 10) -> datetime:
    """A moment in UTC on ``day`` (10:00 UTC is 18:00 the same day in China)."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("submitted", "promised_days", "due"),
    [
        (at("2026-11-23"), 0, date(2026, 11, 23)),  # Monday, immediate matter
        (at("2026-11-23"), 5, date(2026, 11, 30)),  # skips a weekend
        (at("2026-09-30"), 1, date(2026, 10, 8)),  # skips the whole National Day holiday
        (at("2026-10-03"), 1, date(2026, 10, 8)),  # received in the holiday: 10-08 is day 1
        (at("2026-11-21"), 1, date(2026, 11, 23)),  # Saturday: Monday, as for Friday
        (at("2026-11-20"), 1, date(2026, 11, 23)),
        (at("2026-11-21"), 0, date(2026, 11, 23)),  # an immediate matter ends on a working day
        (at("2026-10-09"), 1, date(2026, 10, 10)),  # the adjusted working Saturday
        (at("2026-10-09"), 2, date(2026, 10, 12)),  # then Sunday 10-11 is a rest day
        (at("2026-09-30", hour=17), 1, date(2026, 10, 8)),  # 01:00 on 10-01 in China
    ],
)
def test_due_date_counts_chinese_working_days(submitted, promised_days, due):
    assert due_date(submitted, promised_days) == due


def test_years_without_calendar_data_count_monday_to_friday():
    assert is_working_day(date(2027, 1, 4)) is True  # a Monday
    assert is_working_day(date(2027, 1, 9)) is False  # a Saturday
    assert due_date(at("2026-12-31"), 2) == date(2027, 1, 4)
