"""Shared request parameters (kiosk_server/deps.py)."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import HallKit

pytestmark = pytest.mark.asyncio

# Every route with a calendar day in its query string.
DAY_ROUTES = [
    "/api/v1/halls/demo/audit?from={d}",
    "/api/v1/halls/demo/audit?to={d}",
    "/api/v1/halls/demo/figures?from={d}",
    "/api/v1/halls/demo/reports?date={d}",
    "/api/v1/halls/demo/followups?to={d}",
    "/api/v1/halls/demo/cases?from={d}",
    "/api/v1/halls/demo/appointments?date={d}",
    "/api/v1/halls/demo/appointments/stats?from={d}&to={d}",
    "/api/v1/halls/demo/slots?service=enrol&date={d}",
    "/api/v1/rollup?from={d}",
]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
async def test_a_day_at_the_calendars_edge_is_refused_with_the_range(
    client: httpx.AsyncClient, hall: HallKit, day: str
) -> None:
    """Year 1 in Shanghai is before year 1 in UTC, and the day after 9999-12-31
    does not exist: both overflowed into a 500 before days were bounded."""
    for route in DAY_ROUTES:
        r = await client.get(route.format(d=day), headers=hall.auth("admin"))
        assert r.status_code == 422, (route, r.status_code, r.text)
        assert "2000-01-01" in r.text or "2099-12-31" in r.text, (route, r.text)


async def test_days_inside_the_range_are_answered(client: httpx.AsyncClient, hall: HallKit) -> None:
    r = await client.get(
        "/api/v1/halls/demo/audit?from=2000-01-01&to=2099-12-30", headers=hall.auth("admin")
    )
    assert r.status_code == 200, r.text
