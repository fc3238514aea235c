"""The kiosk follows the hall's public event socket: waiting counts and the
catalogue change on screen at once, not at the next 10-second poll.

The page's clock is frozen (install + pause_at), so the poll cannot fire: only
an event can have refreshed the screen. Run timers forward a second at a time
to let the page's short debounce pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.browser_conftest import PageFactory
from tests.display_client.pages.conftest import Site
from tests.factories import issue

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def freeze(page: Any) -> None:
    """Stop the page's time (timers run only on run_for); Playwright's installed clock
    otherwise flows at real speed, and the 10 s poll would fire in a slow run."""
    start = datetime.now(UTC).replace(microsecond=0)
    await page.clock.install(time=start)
    await page.clock.pause_at(start + timedelta(seconds=1))


async def until(page: Any, script: str) -> None:
    """Advance the page's frozen timers by at most 5 s (half a poll) until ``script`` holds."""
    for _ in range(5):
        if await page.evaluate(script):
            return
        await page.clock.run_for(1000)
        # The refresh's fetches are real I/O: give them a moment of real time.
        try:
            await page.wait_for_function(script, timeout=1000)
            return
        except PlaywrightTimeout:  # not yet: advance the clock again
            continue
    raise AssertionError(f"not within 5 s of page time: {script}")


async def test_waiting_counts_and_items_follow_events(
    page_factory: PageFactory, site: Site
) -> None:
    page = await page_factory(width=1080, height=1920)
    await freeze(page)
    await page.goto(site.url(f"/kiosk/demo?device_token={site.kit.tokens['kiosk']}"))
    await page.wait_for_selector(".k-service")
    await page.wait_for_selector("body[data-live='1']")
    enrol = "document.querySelector('[data-service=enrol] .waiting').textContent"
    assert await page.evaluate(enrol) == "等候 0 人"

    # Tickets taken at another kiosk or the counter: the count goes up.
    await issue(site.api, site.kit, "enrol")
    await issue(site.api, site.kit, "enrol")
    await until(page, f"{enrol} === '等候 2 人'")

    # An admin renames one item and switches another off.
    headers = site.kit.auth("admin")
    r = await site.api.patch(
        "/api/v1/halls/demo/services/enrol", json={"name_zh": "居民参保登记"}, headers=headers
    )
    assert r.status_code == 200, r.text
    r = await site.api.patch(
        "/api/v1/halls/demo/services/payment", json={"enabled": False}, headers=headers
    )
    assert r.status_code == 200, r.text
    await until(page, "!document.querySelector('[data-service=payment]')")
    assert "居民参保登记" in await page.inner_text("[data-service=enrol]")


async def test_a_resident_mid_choice_is_not_disturbed(
    page_factory: PageFactory, site: Site
) -> None:
    page = await page_factory(width=1080, height=1920)
    await freeze(page)
    await page.goto(site.url(f"/kiosk/demo?device_token={site.kit.tokens['kiosk']}"))
    await page.wait_for_selector(".k-service")
    await page.wait_for_selector("body[data-live='1']")
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if r.url.endswith("/services") else None)
    await page.click("[data-service=enrol]")
    await page.wait_for_selector("#screen-materials:not(.hidden)")
    await issue(site.api, site.kit, "enrol")
    await page.clock.run_for(2000)
    assert fetched == []
    # Back at the start, the count is current.
    await page.click("#back")
    await page.wait_for_function(
        "document.querySelector('[data-service=enrol] .waiting').textContent === '等候 1 人'"
    )
