"""The phone booking page and the kiosk check-in in a real browser."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
import pytest_asyncio
import zxingcpp
from PIL import Image

from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from tests.browser_conftest import PageFactory, save_screenshot
from tests.conftest import LiveServer
from tests.factories import SHANGHAI, HallKit, make_hall

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


@pytest_asyncio.fixture
async def kit(live: LiveServer, ctx: AppContext) -> AsyncIterator[HallKit]:
    yield await make_hall(ctx)


async def test_book_on_the_phone_then_check_in_at_the_kiosk(
    live: LiveServer, kit: HallKit, page_factory: PageFactory, clock: FixedClock
) -> None:
    page = await page_factory(**PHONE)
    await page.goto(f"{live.url}/book/demo")
    await page.wait_for_selector("body[data-ready='1']")
    assert "demo医保服务站" in await page.inner_text("#hall-name")

    # Large text and targets for elderly residents.
    sizes = await page.evaluate(
        """() => [...document.querySelectorAll('#items button')].map(b => ({
             h: b.getBoundingClientRect().height,
             f: parseFloat(getComputedStyle(b).fontSize)}))"""
    )
    assert sizes and all(s["h"] >= 56 and s["f"] >= 20 for s in sizes), sizes

    await page.click("[data-service=enrol]")
    materials = await page.inner_text("#materials")
    assert materials.strip()
    # Saturday is not bookable; Thursday is.
    assert await page.is_disabled("[data-date='2026-11-28']")
    await page.click("[data-date='2026-11-26']")
    slot = "[data-start^='2026-11-26T09:00']"
    await page.wait_for_selector(slot)
    assert "余2个" in await page.inner_text(slot)
    await page.click(slot)

    await page.fill("#name", "张三丰")
    await page.fill("#phone", "1381234")
    await page.click("#submit")
    await page.wait_for_selector("#error:not(.hidden)")
    assert "11位手机号码" in await page.inner_text("#error")
    await page.fill("#phone", "138 1234 1234")
    await page.click("#submit")
    await page.wait_for_selector("#step-view:not(.hidden)")
    code = (await page.inner_text("#v-code")).strip()
    assert code.startswith("YY") and len(code) == 10
    assert await page.inner_text("#v-who") == "张*丰 138****1234"
    assert "已预约" in await page.inner_text("#v-state")
    assert "08:30 至 09:15" in await page.inner_text("#v-window")
    await page.wait_for_function("document.getElementById('v-qr').naturalWidth > 0")
    # The QR as shown decodes to the code, which the kiosk scanner takes as a check-in.
    shot = Image.open(io.BytesIO(await page.locator("#v-qr").screenshot()))
    assert [b.text for b in zxingcpp.read_barcodes(shot)] == [code]
    assert "张三丰" not in await page.content()
    await save_screenshot(page, "book-done")

    # Next morning at the kiosk: key in the digits, get an appointment ticket.
    clock.set(datetime(2026, 11, 26, 8, 45, tzinfo=SHANGHAI))
    kiosk = await page_factory(width=1080, height=1920)
    await kiosk.goto(f"{live.url}/kiosk/demo?device_token={kit.tokens['kiosk']}")
    await kiosk.wait_for_selector(".k-service")
    await kiosk.click("#checkin")
    for digit in code[2:]:
        await kiosk.click(f"#keypad [data-key='{digit}']")
    await kiosk.click("#checkin-go")
    await kiosk.wait_for_selector("#screen-ticket:not(.hidden), #error:not(.hidden)")
    assert await kiosk.is_hidden("#error"), await kiosk.inner_text("#error")
    number = (await kiosk.inner_text("#t-number")).strip()
    assert number.startswith("A")
    await save_screenshot(kiosk, "book-kiosk-checkin")

    # The phone page now shows the booking checked in, with the queue number.
    await page.goto(f"{live.url}/book/demo?code={code}")
    await page.wait_for_selector("#step-view:not(.hidden)")
    assert "已签到" in await page.inner_text("#v-state")
    assert await page.inner_text("#v-ticket") == number


async def test_cancel_from_the_phone_and_find_by_name_and_mobile(
    live: LiveServer, kit: HallKit, page_factory: PageFactory
) -> None:
    async with httpx.AsyncClient(base_url=live.url) as api:
        r = await api.post(
            "/api/v1/halls/demo/appointments",
            json={
                "service": "payment",
                "slot_start": "2026-11-27T14:00:00+08:00",
                "name": "李四",
                "phone": "13900000000",
            },
        )
        assert r.status_code == 201, r.text
        code = r.json()["code"]
    page = await page_factory(**PHONE)
    page.on("dialog", lambda d: d.accept())
    await page.goto(f"{live.url}/book/demo")
    await page.wait_for_selector("body[data-ready='1']")
    await page.fill("#find-name", "李四")
    await page.fill("#find-phone", "13900000000")
    await page.click("#find-go")
    await page.click(f"#found [data-code='{code}']")
    await page.wait_for_selector("#step-view:not(.hidden)")
    await page.click("#cancel")
    await page.wait_for_selector("#cancel.hidden", state="attached")
    assert "已取消" in await page.inner_text("#v-state")
    async with httpx.AsyncClient(base_url=live.url) as api:
        assert (await api.get(f"/api/v1/appointments/{code}")).json()["state"] == "cancelled"
    # English switch.
    await page.click("#step-view [data-back=item]")
    await page.click("#lang")
    assert "Step 1" in await page.inner_text("#step-item h2")
