from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from kiosk_server.core import slots as core
from kiosk_server.core.hours import DEFAULT_HOURS, OpeningHours

TZ = ZoneInfo("Asia/Shanghai")
HOURS = OpeningHours.from_json(DEFAULT_HOURS)


def test_national_day_week_has_no_slots_and_the_makeup_saturday_has_weekday_slots() -> None:
    # 2026: 1-7 Oct are the National Day holiday; Sat 10 Oct is worked in lieu.
    counts = {
        date(2026, 9, 30) + timedelta(days=i): len(
            core.slots_on(HOURS, date(2026, 9, 30) + timedelta(days=i), TZ, 30)
        )
        for i in range(12)
    }
    assert counts[date(2026, 9, 30)] == 14  # Wednesday: 7 + 7 half-hours
    for d in range(1, 8):
        assert counts[date(2026, 10, d)] == 0, d
    assert counts[date(2026, 10, 8)] == 14  # Thursday, back to work
    assert counts[date(2026, 10, 10)] == 14  # make-up Saturday
    assert counts[date(2026, 10, 11)] == 0  # an ordinary Sunday
    assert core.day_kind(HOURS, date(2026, 10, 10)) is core.DayKind.MAKEUP
    assert core.day_kind(HOURS, date(2026, 10, 5)) is core.DayKind.HOLIDAY
    assert core.day_kind(HOURS, date(2026, 10, 11)) is core.DayKind.NORMAL


def test_holiday_beats_weekly_hours_but_not_hours_set_for_the_date() -> None:
    everyday = {d: ["09:00-10:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    hours = OpeningHours.from_json({**everyday, "2026-10-02": ["09:00-09:30"]})
    assert core.slots_on(hours, date(2026, 10, 1), TZ, 30) == []
    assert core.slots_on(hours, date(2026, 10, 3), TZ, 30) == []  # Saturday within the holiday
    special = core.slots_on(hours, date(2026, 10, 2), TZ, 30)
    assert [s.label for s in special] == ["09:00-09:30"]
    # An open Sunday that is not a holiday keeps the hall's own Sunday hours.
    assert [s.label for s in core.slots_on(hours, date(2026, 10, 11), TZ, 30)] == [
        "09:00-09:30",
        "09:30-10:00",
    ]


def test_slots_are_cut_from_each_span_and_a_short_tail_is_dropped() -> None:
    hours = OpeningHours.from_json({"wed": ["08:30-10:00", "13:30-14:40"]})
    got = core.slots_on(hours, date(2026, 11, 25), TZ, 40)
    assert [s.label for s in got] == ["08:30-09:10", "09:10-09:50", "13:30-14:10"]
    assert got[0].start == datetime(2026, 11, 25, 8, 30, tzinfo=TZ)
    assert got[0].end - got[0].start == timedelta(minutes=40)
    whole = OpeningHours.from_json({"wed": ["22:00-24:00"]})
    assert [s.label for s in core.slots_on(whole, date(2026, 11, 25), TZ, 60)] == [
        "22:00-23:00",
        "23:00-00:00",
    ]
    with pytest.raises(ValueError):
        core.slots_on(hours, date(2026, 11, 25), TZ, 0)


def test_year_without_calendar_data_falls_back_to_weekly_hours() -> None:
    # chinesecalendar ships data up to the current year; far future years raise inside.
    assert len(core.slots_on(HOURS, date(2099, 1, 2), TZ, 30)) == 14  # a Friday
    assert core.day_kind(HOURS, date(2099, 1, 3)) is core.DayKind.NORMAL
    # Holidays fixed by date are still known: no slots on New Year's Day.
    assert core.day_kind(HOURS, date(2099, 1, 1)) is core.DayKind.HOLIDAY
    assert core.slots_on(HOURS, date(2099, 1, 1), TZ, 30) == []


def test_horizon_and_past() -> None:
    today = date(2026, 11, 25)
    assert core.bookable_days(today, 2) == [today, date(2026, 11, 26), date(2026, 11, 27)]
    assert core.in_horizon(date(2026, 12, 2), today, 7)
    assert not core.in_horizon(date(2026, 12, 3), today, 7)
    assert not core.in_horizon(date(2026, 11, 24), today, 7)
    start = datetime(2026, 11, 25, 10, 0, tzinfo=TZ)
    assert core.is_bookable(start, start - timedelta(seconds=1))
    assert not core.is_bookable(start, start)


def test_check_in_window_edges() -> None:
    start = datetime(2026, 11, 25, 10, 0, tzinfo=TZ)
    w = core.check_in_window(start)
    assert w.verdict(start - timedelta(minutes=30, seconds=1)) is core.CheckIn.EARLY
    assert w.verdict(start - timedelta(minutes=30)) is core.CheckIn.OK
    assert w.verdict(start + timedelta(minutes=15)) is core.CheckIn.OK
    assert w.verdict(start + timedelta(minutes=15, seconds=1)) is core.CheckIn.LATE
    end = start + timedelta(minutes=30)
    assert core.no_show_after(start, end) == end
    # A slot shorter than the grace: not a no-show while check-in is still open.
    assert core.no_show_after(start, start + timedelta(minutes=10)) == start + timedelta(minutes=15)


def test_personal_data_masking_and_normalising() -> None:
    assert core.mask_name("张三丰") == "张*丰"
    assert core.mask_name("欧阳娜娜") == "欧**娜"
    assert core.mask_name("李四") == "李*"
    assert core.mask_name(" 王 ") == "王"
    assert core.mask_phone("13812341234") == "138****1234"
    assert core.normalise_phone("138 1234-1234") == "13812341234"
    assert core.normalise_phone("+8613812341234") == "13812341234"
    assert core.normalise_phone("8613812341234") == "13812341234"
    for bad in ("1381234123", "23812341234", "12812341234", "1381234123a", ""):
        assert core.normalise_phone(bad) is None, bad


def test_codes() -> None:
    assert core.normalise_code("yy 1234-5678") == "YY12345678"
    assert core.normalise_code("12345678") == "YY12345678"  # prefix left off on the keypad
    assert core.normalise_code("YY123456") == "YYYY123456"  # 8 characters are always the body
    assert core.valid_code("YY12345678")
    assert not core.valid_code("YY1234567A")
    assert not core.valid_code("XX12345678")
    assert not core.valid_code("YY1234567")
    assert len(core.CODE_PREFIX) + core.CODE_LENGTH <= 16
    # What the kiosk scanner classifies as an appointment code.
    from kiosk_server.devices.scanner import ScanKind, classify

    assert classify("YY12345678").kind is ScanKind.APPOINTMENT


def test_spans_of_a_makeup_day_for_a_hall_open_on_saturdays_are_its_own() -> None:
    hours = OpeningHours.from_json({"mon": ["08:00-09:00"], "sat": ["10:00-11:00"]})
    assert list(core.bookable_spans(hours, date(2026, 10, 10))) == [(time(10), time(11))]
    assert list(core.bookable_spans(hours, date(2026, 9, 20))) == [(time(8), time(9))]  # Sunday
