from __future__ import annotations

from datetime import date

import pytest

from kiosk_server.core.workdays import add_workdays, is_workday, workdays_between


def test_national_day_and_make_up_saturday() -> None:
    # 2026: 1-7 October off, Saturday 10 October is a make-up working day.
    assert not is_workday(date(2026, 10, 5))  # a Monday inside the holiday
    assert is_workday(date(2026, 10, 10))  # Saturday, 调休 working day
    # Materials complete Wed 30 Sep: Thu 8, Fri 9, Sat 10 Oct are the three days.
    assert add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    # Complete Fri 9 Oct: Sat 10 (make-up), Mon 12, Tue 13.
    assert add_workdays(date(2026, 10, 9), 3) == date(2026, 10, 13)


def test_plain_weekend_is_skipped() -> None:
    # Thu 26 Nov 2026 -> Fri 27, Mon 30 Nov, Tue 1 Dec.
    assert add_workdays(date(2026, 11, 26), 3) == date(2026, 12, 1)
    assert add_workdays(date(2026, 11, 25), 1) == date(2026, 11, 26)


def test_zero_days_rolls_forward_to_a_working_day() -> None:
    assert add_workdays(date(2026, 10, 1), 0) == date(2026, 10, 8)
    assert add_workdays(date(2026, 11, 25), 0) == date(2026, 11, 25)


def test_between_counts_working_days() -> None:
    assert workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert workdays_between(date(2026, 10, 10), date(2026, 9, 30)) == -3
    assert workdays_between(date(2026, 11, 25), date(2026, 11, 25)) == 0


def test_year_without_calendar_data_falls_back_to_weekdays() -> None:
    # 2040 is beyond the package's data: Monday-Friday counting.
    assert add_workdays(date(2040, 1, 6), 1) == date(2040, 1, 9)  # Fri -> Mon


def test_refuses_negative() -> None:
    with pytest.raises(ValueError):
        add_workdays(date(2026, 1, 1), -1)
