"""Printer out of paper: the kiosk shows the whole ticket on screen, then warns
before the next tap; that resident later rates on the phone (no pad at counter 2)."""

from __future__ import annotations

import pytest

from hardware_sim.printer import PrinterEmulator
from kiosk_server.settings import Settings
from tests.browser_conftest import PageFactory, save_screenshot
from tests.display_client.pages.conftest import Site
from tests.factories import printing_to

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


@pytest.fixture
def settings(settings: Settings, emu_url: str) -> Settings:
    return printing_to(settings, emu_url)


async def test_paper_out_ticket_on_screen_then_warning_and_phone_rating(
    page_factory: PageFactory, site: Site, emu: PrinterEmulator
) -> None:
    emu.set_state("paper_out")
    kiosk = await page_factory(width=1080, height=1920)
    await kiosk.goto(site.url(f"/kiosk/demo?device_token={site.kit.tokens['kiosk']}"))
    await kiosk.click("[data-service=reimbursement]")
    await kiosk.click("#take")
    await kiosk.wait_for_selector("#screen-ticket:not(.hidden)")
    assert await kiosk.is_visible("#t-unprinted")
    assert "缺纸" in await kiosk.inner_text("#t-unprinted")
    assert await kiosk.is_hidden("#t-printed")
    # Everything a paper ticket carries is on screen to photograph: number, wait, QR, materials.
    number = await kiosk.inner_text("#t-number")
    assert number.startswith("E")
    assert await kiosk.is_visible("#t-materials-box")
    services = (await site.api.get("/api/v1/halls/demo/services")).json()
    materials = next(s for s in services if s["code"] == "reimbursement")["materials"]
    assert materials and materials[0] in await kiosk.inner_text("#t-materials")
    assert await kiosk.evaluate("document.querySelector('#t-qr').naturalWidth") > 0
    await save_screenshot(kiosk, "kiosk-paper-out")
    status_url = await kiosk.evaluate("window.hallq.state.ticket.status_url")

    # Back at the start, the next resident is warned before tapping anything.
    await kiosk.click("#done")
    await kiosk.wait_for_selector("#printer-warning:not(.hidden)")
    assert "缺纸" in await kiosk.inner_text("#printer-warning")

    # Served at counter 2, which has no rating pad: the phone offers the rating.
    phone = await page_factory(width=390, height=844, is_mobile=True, has_touch=True)
    await phone.goto(site.url("/t/" + status_url.rsplit("/t/", 1)[1]))
    await phone.wait_for_selector("body[data-state=waiting]")
    kit = site.kit
    for action in ("call-next", "start", "finish"):
        r = await site.api.post(
            f"/api/v1/counters/{kit.counter_ids[2]}/{action}",
            json={} if action == "finish" else None,
            headers=kit.auth("staff2"),
        )
        assert r.status_code == 200, r.text
    await phone.wait_for_selector("#rate:not(.hidden)")
    await save_screenshot(phone, "phone-rate")
    await phone.click("#scores [data-score='4']")
    await phone.wait_for_selector("#rated:not(.hidden)")
    assert await phone.is_hidden("#rate")
    status = (await site.api.get("/api/v1/tickets/" + status_url.rsplit("/t/", 1)[1])).json()
    assert status["rated"] is True and status["can_rate"] is False
