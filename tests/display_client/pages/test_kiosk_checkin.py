"""Appointment check-in at the kiosk outside its window: too early says when to
come back; too late offers a normal ticket for the same item, one tap away."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from kiosk_server.clock import FixedClock
from tests.browser_conftest import PageFactory, save_screenshot
from tests.display_client.pages.conftest import Site
from tests.factories import SHANGHAI, booked

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

KIOSK = {"width": 1080, "height": 1920}
TOMORROW = date(2026, 11, 26)  # a Thursday; the clock stands at Wed 2026-11-25 10:00
SLOT = datetime(TOMORROW.year, TOMORROW.month, TOMORROW.day, 10, 0, tzinfo=SHANGHAI)


async def book(site: Site) -> dict[str, Any]:
    return await booked(site.api, site.kit, SLOT)


async def open_checkin(page_factory: PageFactory, site: Site) -> Any:
    page = await page_factory(**KIOSK)
    await page.goto(site.url(f"/kiosk/demo?device_token={site.kit.tokens['kiosk']}"))
    await page.wait_for_selector(".k-service")
    await page.click("#checkin")
    await page.wait_for_selector("#screen-checkin:not(.hidden)")
    return page


async def booking_state(site: Site, code: str) -> str:
    state: str = (await site.api.get(f"/api/v1/appointments/{code}")).json()["state"]
    return state


async def test_too_early_says_when_to_come_back(
    page_factory: PageFactory, site: Site, clock: FixedClock
) -> None:
    booking = await book(site)
    clock.set(SLOT - timedelta(minutes=50))  # check-in opens 30 minutes before the slot
    page = await open_checkin(page_factory, site)
    await page.keyboard.type(booking["code"] + "\n", delay=5)
    await page.wait_for_selector("#error:not(.hidden)")
    message = await page.inner_text("#error")
    assert "签到时间未到" in message and "09:30" in message and "11月26日" in message
    assert "too early" not in message  # the resident's language, not the server's English half
    assert await page.is_hidden("#checkin-late")
    assert await page.is_visible("#screen-checkin")
    assert await booking_state(site, booking["code"]) == "booked"
    await save_screenshot(page, "kiosk-checkin-early")


async def test_too_late_offers_a_normal_ticket_for_the_same_item(
    page_factory: PageFactory, site: Site, clock: FixedClock
) -> None:
    booking = await book(site)
    clock.set(SLOT + timedelta(minutes=20))  # check-in closed at 10:15
    page = await open_checkin(page_factory, site)
    sent: list[Any] = []
    page.on(
        "request",
        lambda r: (
            sent.append(r.post_data_json)
            if r.method == "POST" and r.url.endswith("/tickets")
            else None
        ),
    )
    await page.keyboard.type(booking["code"] + "\n", delay=5)
    await page.wait_for_selector("#checkin-late:not(.hidden)")
    assert "10:15" in await page.inner_text("#late-text")
    offer = await page.inner_text("#take-normal")
    assert "取普通号" in offer and "城乡居民参保登记" in offer
    assert await page.is_hidden("#error")
    await save_screenshot(page, "kiosk-checkin-late")

    # One tap: a normal ticket for the booked item.
    await page.click("#take-normal")
    await page.wait_for_selector("#screen-ticket:not(.hidden)")
    assert sent[-1] == {"service": "enrol"}
    number = await page.inner_text("#t-number")
    ticket = await page.evaluate("window.hallq.state.ticket")
    assert ticket["number"] == number and ticket["channel"] == "normal"
    assert ticket["service"] == "enrol"
    token = ticket["status_url"].rsplit("/t/", 1)[1]
    status = (await site.api.get(f"/api/v1/tickets/{token}")).json()
    assert (status["number"], status["state"], status["channel"]) == (number, "waiting", "normal")
    # The booking itself was not checked in.
    assert await booking_state(site, booking["code"]) != "checked_in"

    # The next resident starts clean: no offer left on the check-in screen.
    await page.click("#done")
    await page.click("#checkin")
    assert await page.is_hidden("#checkin-late")
