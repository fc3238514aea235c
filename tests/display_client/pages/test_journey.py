"""A resident's whole visit across every page, in one real Chromium against a
real server: kiosk -> counter page -> hall screen -> rating pad -> phone."""

from __future__ import annotations

import time
from typing import Any

import pytest

from kiosk_server.clock import FixedClock
from tests.browser_conftest import PageFactory, save_screenshot
from tests.display_client.pages.conftest import Site
from tests.factories import PASSWORD

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def announcements(page: Any) -> list[str]:
    texts: list[str] = await page.evaluate("window.hallq.announcements.map(a => a.text)")
    return texts


async def open_counter(page_factory: PageFactory, site: Site, user: str, number: int) -> Any:
    page = await page_factory(width=1366, height=768)
    await page.goto(site.url("/counter"))
    await page.fill("#username", user)
    await page.fill("#password", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.click(f"#counters [data-counter='{number}']")
    await page.wait_for_selector("#desk:not(.hidden)")
    await page.wait_for_selector("#live:not(.off)")
    return page


async def test_green_ticket_from_kiosk_to_rating(
    page_factory: PageFactory, site: Site, clock: FixedClock
) -> None:
    kit = site.kit
    display = await page_factory(width=1920, height=1080)
    await display.goto(site.url("/display/demo"))
    await display.wait_for_selector(".d-counter[data-counter='1']")
    await display.wait_for_selector("#conn:not(.off)")

    pad = await page_factory(width=1280, height=800)
    await pad.goto(site.url(f"/rate/1?device_token={kit.tokens['pad']}"))
    await pad.wait_for_function("document.querySelector('#counter').textContent.includes('1')")
    await save_screenshot(pad, "rate-idle")

    # Kiosk: green channel, the item, take: three taps.
    kiosk = await page_factory(width=1080, height=1920)
    await kiosk.goto(site.url(f"/kiosk/demo?device_token={kit.tokens['kiosk']}"))
    await kiosk.click("#green")
    await kiosk.click("[data-service=enrol]")
    await kiosk.click("#take")
    await kiosk.wait_for_selector("#screen-ticket:not(.hidden)")
    number = await kiosk.inner_text("#t-number")
    status_url = await kiosk.evaluate("window.hallq.state.ticket.status_url")
    token = status_url.rsplit("/t/", 1)[1]

    phone = await page_factory(width=390, height=844, is_mobile=True, has_touch=True)
    await phone.goto(site.url(f"/t/{token}"))
    await phone.wait_for_selector("body[data-state=waiting]")
    assert await phone.inner_text("#number") == number
    assert await phone.is_visible("#channel")
    assert "0" in await phone.inner_text("#ahead")
    await save_screenshot(phone, "phone-waiting")

    # Counter page: the ticket is in the list, marked green; N calls it.
    counter = await open_counter(page_factory, site, "demo-staff1", 1)
    await counter.wait_for_selector(f"#queue tr.green[data-number='{number}']")
    await counter.keyboard.press("n")
    started = time.monotonic()
    await display.wait_for_function(
        f"document.querySelector(\".d-counter[data-counter='1'] .d-cnum\").textContent === '{number}'",
        timeout=1000,
    )
    shown_after = time.monotonic() - started
    assert shown_after < 1.0
    sentence = f"请 {number} 号 到 1 号窗口 办理"
    assert sentence in await announcements(display)
    await counter.wait_for_function(
        f"document.querySelector('#cur-number').textContent === '{number}'"
    )
    await phone.wait_for_selector("body[data-state=called]")
    assert "1" in await phone.inner_text("#called")
    await save_screenshot(phone, "phone-called")

    # A recall is announced again.
    await counter.keyboard.press("r")
    await display.wait_for_function(
        f"window.hallq.announcements.filter(a => a.text === '{sentence}').length === 2"
    )
    await save_screenshot(display, "display")

    # Start: the clock runs; 80 % of the 10-minute target turns it amber, past it red.
    await counter.keyboard.press("s")
    await counter.wait_for_selector("#cur-clock[data-level=ok]")
    clock.advance(minutes=8, seconds=30)
    await counter.reload()  # a reload loses nothing: state is the server's
    await counter.wait_for_selector("#cur-clock[data-level=amber]")
    assert await counter.inner_text("#cur-number") == number
    await save_screenshot(counter, "counter")
    clock.advance(minutes=2)
    await counter.reload()
    await counter.wait_for_selector("#cur-clock[data-level=red]")
    await phone.wait_for_selector("body[data-state=serving]")

    # Finish with an outcome by keyboard: F, then 2 (容缺受理).
    await counter.keyboard.press("f")
    await counter.wait_for_selector("[data-outcome=incomplete_papers]")
    await counter.keyboard.press("2")
    await counter.wait_for_function("document.querySelector('#today-served').textContent === '1'")
    assert "10" in await counter.inner_text("#today-avg")

    # The pad asks; a low score asks why; thanks.
    await pad.wait_for_selector("body[data-screen=ask]")
    assert number in await pad.inner_text("#ask-number")
    await save_screenshot(pad, "rate-ask")
    await pad.click("[data-score='2']")
    await pad.wait_for_selector("body[data-screen=reason]")
    await pad.click("[data-reason=wait]")
    await pad.wait_for_selector("body[data-screen=thanks]")

    # The phone shows the finished state, already rated, no second rating offered.
    await phone.wait_for_selector("body[data-state=done]")
    # Within seconds, from the hall's stream (the page's own poll is every 30 s).
    await phone.wait_for_selector("#rated:not(.hidden)", timeout=8000)
    assert await phone.is_hidden("#rate")
    status = (await site.api.get(f"/api/v1/tickets/{token}")).json()
    assert status["rated"] is True and status["state"] == "done"
    await save_screenshot(phone, "phone-done")
