"""Working days follow the official calendar, adjusted weekends included."""

from __future__ import annotations

from datetime import date

import pytest

from tenders.calendar import (
    add_working_days,
    is_provisional,
    is_working_day,
    working_days_between,
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 10, 7), False),  # the Golden Week ends on the 7th
        (date(2026, 10, 10), True),  # a Saturday made a working day (调休)
        (date(2026, 9, 28), True),  # a plain Monday
        (date(2026, 9, 27), False),  # a plain Sunday
        (date(2026, 2, 17), False),  # Spring Festival
    ],
)
def test_official_holidays_and_adjusted_weekends(day, working):
    assert is_working_day(day) is working
    assert not is_provisional(day)


def test_working_days_skip_the_national_day_holiday():
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_working_days(date(2026, 9, 28), 5) == date(2026, 10, 10)  # a working Saturday
    assert working_days_between(date(2026, 9, 28), date(2026, 10, 12)) == 6


def test_zero_days_lands_on_the_next_working_day():
    assert add_working_days(date(2026, 10, 1), 0) == date(2026, 10, 8)
    assert add_working_days(date(2026, 9, 28), 0) == date(2026, 9, 28)


def test_a_year_without_official_data_counts_monday_to_friday():
    assert is_provisional(date(2099, 1, 5))
    assert is_working_day(date(2099, 1, 5))  # a Monday
    assert not is_working_day(date(2099, 1, 4))  # a Sunday


def test_negative_counts_are_refused():
    with pytest.raises(ValueError, match="must not be negative"):
        add_working_days(date(2026, 1, 5), -1)
