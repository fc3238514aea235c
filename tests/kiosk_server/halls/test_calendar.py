"""A hall follows the official calendar: closed on public holidays (the kiosk
refuses walk-ins and says when it reopens), open on make-up working days with
its weekday hours, and a date the hall sets by hand wins over both."""

from __future__ import annotations

from datetime import date, datetime, time

import httpx
import pytest

from kiosk_server.clock import FixedClock
from kiosk_server.core.hours import DayKind, OpeningHours
from tests.factories import SHANGHAI, HallKit, login

WEEKDAYS_ONLY = {d: ["08:30-12:00", "13:30-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def at(d: date, hh: int, mm: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hh, mm, tzinfo=SHANGHAI)


def test_core_holiday_makeup_and_hand_set_dates() -> None:
    hours = OpeningHours.from_json(
        {**WEEKDAYS_ONLY, "2026-10-02": ["09:00-11:00"]}, official_calendar=True
    )
    national_day = date(2026, 10, 1)  # a Thursday
    assert hours.day_kind(national_day) is DayKind.HOLIDAY
    assert hours.spans_on(national_day) == ()
    assert not hours.is_open(at(national_day, 10))
    # Worked in lieu: Saturday 2026-10-10 gets a weekday's hours.
    makeup = date(2026, 10, 10)
    assert hours.day_kind(makeup) is DayKind.MAKEUP
    assert hours.spans_on(makeup) == [(time(8, 30), time(12)), (time(13, 30), time(17))]
    # Holiday duty the hall set by hand.
    assert hours.day_kind(date(2026, 10, 2)) is DayKind.SPECIAL
    assert hours.is_open(at(date(2026, 10, 2), 10))
    # After the holiday week the next opening is Thursday 8 October, 08:30.
    opens = hours.next_opening(at(national_day, 10).replace(tzinfo=None))
    assert opens == datetime(2026, 10, 2, 9, 0)
    plain = OpeningHours.from_json(WEEKDAYS_ONLY)  # not following the calendar
    assert plain.is_open(at(national_day, 10)) and plain.spans_on(makeup) == ()


@pytest.mark.asyncio
async def test_kiosk_on_a_holiday_and_a_makeup_day(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    kiosk = hall.auth("kiosk")
    clock.set(at(date(2026, 10, 1), 10))
    info = (await client.get("/api/v1/halls/demo")).json()
    assert info["official_calendar"] is True
    assert info["day_kind"] == "holiday" and info["open_now"] is False
    assert info["opens_at"].startswith("2026-10-08T08:30")
    r = await client.post("/api/v1/halls/demo/tickets", json={"service": "enrol"}, headers=kiosk)
    assert r.status_code == 409 and r.json()["error"]["code"] == "hall_closed"
    assert r.json()["error"]["details"]["opens_at"].startswith("2026-10-08T08:30")

    clock.set(at(date(2026, 10, 10), 9, 5))  # make-up Saturday
    info = (await client.get("/api/v1/halls/demo")).json()
    assert info["day_kind"] == "makeup" and info["open_now"] is True
    r = await client.post("/api/v1/halls/demo/tickets", json={"service": "enrol"}, headers=kiosk)
    assert r.status_code == 201, r.text


@pytest.mark.asyncio
async def test_admin_can_open_on_holidays_or_stop_following_the_calendar(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    clock.set(at(date(2026, 10, 1), 10))
    await login(client, hall, "demo-admin", "admin")  # a token from November is from the future
    kiosk, admin = hall.auth("kiosk"), hall.auth("admin")
    hours = (await client.get("/api/v1/halls/demo")).json()["opening_hours"]
    r = await client.patch(
        "/api/v1/halls/demo",
        json={"opening_hours": {**hours, "2026-10-01": ["09:00-11:00"]}},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["day_kind"] == "special" and r.json()["open_now"] is True
    r = await client.post("/api/v1/halls/demo/tickets", json={"service": "enrol"}, headers=kiosk)
    assert r.status_code == 201

    clock.set(at(date(2026, 10, 5), 10))  # a Monday inside the holiday week
    assert (await client.get("/api/v1/halls/demo")).json()["open_now"] is False
    admin = {"Authorization": f"Bearer {await login(client, hall, 'demo-admin', 'admin')}"}
    r = await client.patch("/api/v1/halls/demo", json={"official_calendar": False}, headers=admin)
    assert r.status_code == 200 and r.json()["official_calendar"] is False
    assert r.json()["open_now"] is True  # weekly hours alone now
