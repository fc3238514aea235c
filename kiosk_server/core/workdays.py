"""Working-day arithmetic over the official Chinese calendar (pure, no I/O).

Deadlines such as "submitted upward within 3 working days" count public
holidays as days off and make-up Saturdays/Sundays (调休) as working days; the
``chinese_calendar`` package carries the State Council's yearly notices, so no
list of dates is kept here.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

from kiosk_server.core.hours import FIXED_HOLIDAYS

# Guard against a runaway loop on a bad argument: no real deadline needs more.
MAX_WORKING_DAYS = 366


def is_workday(day: date) -> bool:
    """True on an official working day.

    For a year the calendar package has no data for yet (it is published each
    winter), fall back to Monday-Friday less the fixed-date holidays rather
    than refusing to compute.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS


def add_workdays(start: date, n: int) -> date:
    """The date that is ``n`` working days after ``start`` (``start`` itself not counted).

    ``add_workdays(d, 0)`` is ``d`` itself when it is a working day, else the
    next working day.
    """
    if n < 0 or n > MAX_WORKING_DAYS:
        raise ValueError(f"working days must be between 0 and {MAX_WORKING_DAYS}, got {n}")
    day = start
    if n == 0:
        while not is_workday(day):
            day += timedelta(days=1)
        return day
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_workday(day):
            counted += 1
    return day


def workdays_between(start: date, end: date) -> int:
    """Working days in the half-open range (start, end]; negative if end < start."""
    if end < start:
        return -workdays_between(end, start)
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_workday(day):
            count += 1
    return count
