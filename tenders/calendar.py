"""Working days on the official PRC calendar (pure; no database).

Holidays and adjusted working weekends (调休) come from the maintained ``chinese_calendar``
package, which follows the State Council's yearly notice. A year the package does not
cover yet (the notice comes out in November or December for the next year) is counted
Monday to Friday and reported by ``is_provisional`` so that pages can say so; upgrading
the package fixes it.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


def is_provisional(day: date) -> bool:
    """Whether ``day`` lies in a year the official calendar does not cover yet."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return True
    return False


def is_working_day(day: date) -> bool:
    """Mondays to Fridays that are not public holidays, plus adjusted working weekends."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(day: date, count: int) -> date:
    """The date ``count`` working days after ``day`` (``day`` itself not counted).

    With ``count == 0``, ``day`` when it is a working day, else the next working day.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    current = day
    if count == 0:
        while not is_working_day(current):
            current += timedelta(days=1)
        return current
    remaining = count
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count
