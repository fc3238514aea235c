"""The counter page's other buttons in a real browser: hold and call back (held
numbers from the server), transfer, pause/resume, no-show, call a chosen number,
and the 帮办 booking link. Each press is checked through the API."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk_server.clock import FixedClock
from tests.browser_conftest import PageFactory, save_screenshot
from tests.display_client.pages.conftest import Site
from tests.display_client.pages.test_journey import open_counter
from tests.factories import act, issue

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def counter_state(site: Site, at: int) -> dict[str, Any]:
    r = await site.api.get(
        f"/api/v1/counters/{site.kit.counter_ids[at]}", headers=site.kit.auth(f"staff{at}")
    )
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def shows_number(page: Any, number: str) -> None:
    await page.wait_for_function(
        f"document.querySelector('#cur-number').textContent === '{number}'"
    )


async def enabled(page: Any, action: str) -> None:
    await page.wait_for_selector(f"[data-action='{action}']:not([disabled])")


async def test_call_back_offers_holds_made_elsewhere_and_survives_a_reload(
    page_factory: PageFactory, site: Site, clock: FixedClock
) -> None:
    kit = site.kit
    for _ in range(3):
        await issue(site.api, kit, "enrol")
        clock.advance(seconds=5)
    # Counter 2 holds A001 through the API: another browser, or its keypad.
    assert (await act(site.api, kit, 2, "call-next")).json()["ticket"]["number"] == "A001"
    assert (await act(site.api, kit, 2, "hold")).status_code == 200

    page = await open_counter(page_factory, site, "demo-staff1", 1)
    await page.wait_for_selector("#held-count:not(.hidden)")
    assert await page.inner_text("#held-count") == "1"

    # N calls A002; H holds it (the transaction started first: S).
    await page.keyboard.press("n")
    await shows_number(page, "A002")
    await enabled(page, "start")
    await page.keyboard.press("s")
    await page.wait_for_function(
        "document.querySelector('#cur-state').textContent.includes('办理')"
    )
    await page.keyboard.press("h")
    await page.wait_for_function("document.querySelector('#held-count').textContent === '2'")
    snap = await counter_state(site, 1)
    assert snap["ticket"] is None
    assert [(h["number"], h["here"]) for h in snap["held"]] == [("A002", True), ("A001", False)]

    # A reload (or another browser) still offers both, this counter's own first.
    await page.reload()
    await page.wait_for_selector("#live:not(.off)")
    await enabled(page, "callback")
    await page.keyboard.press("b")
    await page.wait_for_selector("#dialog .c-suggest [data-number='A001']")
    buttons = await page.locator("#dialog .c-suggest button").all_inner_texts()
    assert [b.split("\n")[0] for b in buttons] == ["A002", "A001"]
    assert "2 号窗口挂起" in buttons[1]
    await save_screenshot(page, "counter-callback")

    # Calling back the other counter's hold brings it here.
    await page.click("#dialog [data-number='A001']")
    await shows_number(page, "A001")
    snap = await counter_state(site, 1)
    assert snap["ticket"]["number"] == "A001" and snap["ticket"]["state"] == "called"
    assert [h["number"] for h in snap["held"]] == ["A002"]
    await page.wait_for_function("document.querySelector('#held-count').textContent === '1'")


async def test_transfer_pause_no_show_and_call_a_chosen_number(
    page_factory: PageFactory, site: Site, clock: FixedClock
) -> None:
    kit = site.kit
    for svc in ("enrol", "enrol", "payment", "enrol"):
        await issue(site.api, kit, svc)
        clock.advance(seconds=5)
    page = await open_counter(page_factory, site, "demo-staff1", 1)

    # T: transfer A001 to the payment item, for counter 3 only.
    await page.keyboard.press("n")
    await shows_number(page, "A001")
    await page.keyboard.press("t")
    await page.wait_for_selector("#transfer-service")
    await page.select_option("#transfer-service", "payment")
    await page.fill("#transfer-counter", "3")
    await page.click("#dialog .btn:not(.secondary)")
    await page.wait_for_function("document.querySelector('#cur-number').textContent !== 'A001'")
    moved = (await act(site.api, kit, 3, "call-next")).json()["ticket"]
    assert moved["number"] == "A001" and moved["service"] == "payment"

    # P pauses: call buttons go grey and the server refuses calls; P again resumes.
    await page.keyboard.press("p")
    await page.wait_for_selector("#paused:not(.hidden)")
    assert (await counter_state(site, 1))["state"] == "paused"
    assert await page.is_disabled("[data-action='call-next']")
    await page.keyboard.press("p")
    await page.wait_for_selector("#paused", state="hidden")
    assert (await counter_state(site, 1))["state"] == "open"

    # X: a called resident who does not come, after the recalls, is a no-show.
    await page.keyboard.press("n")
    await shows_number(page, "A002")
    for n in (1, 2, 3):
        await page.keyboard.press("r")
        await page.wait_for_function(
            f"document.querySelector('#cur-state').textContent.includes('{n}')"
        )
    called = (await counter_state(site, 1))["ticket"]
    assert called["number"] == "A002" and called["recall_count"] == 3
    await page.keyboard.press("x")
    await page.wait_for_function("document.querySelector('#cur-number').textContent !== 'A002'")
    r = await site.api.get(f"/api/v1/tickets/by-id/{called['id']}", headers=kit.auth("staff"))
    assert r.json()["state"] == "no_show"
    assert (await counter_state(site, 1))["ticket"] is None

    # C: call a chosen number out of turn (A003 before C001), typed in.
    await enabled(page, "call")
    await page.keyboard.press("c")
    await page.wait_for_selector("#dialog-number")
    await page.fill("#dialog-number", "a003")
    await page.keyboard.press("Enter")
    await shows_number(page, "A003")
    snap = await counter_state(site, 1)
    assert snap["ticket"]["number"] == "A003" and snap["ticket"]["state"] == "called"
    queue = (await site.api.get("/api/v1/halls/demo/queue", headers=kit.auth("staff"))).json()
    assert [q["number"] for q in queue] == ["C001"]


async def test_book_for_a_resident_opens_the_staff_booking_page(
    page_factory: PageFactory, site: Site
) -> None:
    page = await open_counter(page_factory, site, "demo-staff1", 1)
    link = page.locator("#book-for")
    assert await link.inner_text() == "代为预约"
    assert await link.get_attribute("href") == "/book/demo?staff=1"
    async with page.context.expect_page() as popup_info:
        await link.click()
    book = await popup_info.value
    await book.wait_for_selector("body[data-ready='1']")
    assert book.url.endswith("/book/demo?staff=1")
    # Staff mode, already signed in from the counter page's session.
    await book.wait_for_selector("#staff-banner:not(.hidden)")
    assert "为居民预约" in await book.inner_text("#staff-banner")
    assert await book.is_hidden("#staff-login")
