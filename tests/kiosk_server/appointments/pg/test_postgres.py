"""Capacity and one-booking-per-person under real concurrency: on PostgreSQL
transactions run side by side (SQLite serialises writers)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.factories import HallKit
from tests.kiosk_server.appointments.test_api import TOMORROW, at, book, set_capacity

pytestmark = pytest.mark.asyncio


async def test_pg_same_person_twice_at_once_gets_one_booking(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    await set_capacity(client, hall, 50)
    results = await asyncio.gather(
        *(book(client, hall, at(TOMORROW, 9 + i % 3)) for i in range(10))
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * 9, [r.text for r in results]
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {
        "already_booked"
    }


async def test_pg_many_people_first_bookings_of_fresh_slots(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    # Every request may be the one that creates the slot row: ON CONFLICT DO
    # NOTHING lets them all land on one row, and capacity still holds.
    await set_capacity(client, hall, 3)
    results = await asyncio.gather(
        *(
            book(
                client,
                hall,
                at(TOMORROW, 14),
                name=f"居民{chr(0x4E00 + i)}",
                phone=f"1390000{i:04d}",
            )
            for i in range(12)
        )
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [201] * 3 + [409] * 9, [r.text for r in results]
