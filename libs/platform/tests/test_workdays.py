"""The one working-day rule (``add_working_days``) over the real 2025–2026 calendar:
National Day 2025 (10-01..10-08, adjusted working Sunday 09-28 and Saturday 10-11) and
Spring Festival 2026 (02-15..02-23, adjusted working Saturdays 02-14 and 02-28)."""

from __future__ import annotations

from datetime import date

import pytest

from yiwang_platform.workdays import add_working_days


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # The start day is never counted: Saturday and Friday give the same Monday.
        (date(2025, 11, 22), 1, date(2025, 11, 24)),  # Saturday
        (date(2025, 11, 21), 1, date(2025, 11, 24)),  # Friday
        (date(2025, 11, 23), 1, date(2025, 11, 24)),  # Sunday
        (date(2025, 11, 24), 0, date(2025, 11, 24)),  # immediate matter on a working day
        (date(2025, 11, 22), 0, date(2025, 11, 24)),  # ... never ends on a rest day
        (date(2025, 11, 24), 5, date(2025, 12, 1)),
        # National Day 2025.
        (date(2025, 9, 27), 1, date(2025, 9, 28)),  # the adjusted working Sunday counts
        (date(2025, 9, 30), 1, date(2025, 10, 9)),  # skips the eight holidays
        (date(2025, 10, 3), 1, date(2025, 10, 9)),  # accepted in the holiday
        (date(2025, 10, 3), 3, date(2025, 10, 11)),  # the adjusted working Saturday counts
        (date(2025, 10, 10), 2, date(2025, 10, 13)),  # Sunday 10-12 is a rest day
        (date(2025, 9, 26), 20, date(2025, 10, 30)),  # 09-28, 09-29, 09-30, 10-09 ...
        # Spring Festival 2026.
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # the adjusted working Saturday
        (date(2026, 2, 14), 1, date(2026, 2, 24)),  # then nine days off
        (date(2026, 2, 18), 1, date(2026, 2, 24)),  # accepted in the holiday
        (date(2026, 2, 18), 0, date(2026, 2, 24)),
        (date(2026, 2, 24), 4, date(2026, 2, 28)),  # ends on the second working Saturday
        (date(2026, 2, 12), 5, date(2026, 2, 26)),  # 02-13, 02-14, 02-24, 02-25, 02-26
    ],
)
def test_a_limit_counts_from_the_next_working_day_after_its_start(start, days, due):
    assert add_working_days(start, days) == due


def test_a_negative_limit_is_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), -1)
