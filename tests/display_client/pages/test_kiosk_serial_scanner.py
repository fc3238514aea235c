"""A serial scanner at the kiosk: ScannerSim (a real pty) -> `hallq scanner-bridge`'s
relay -> the kiosk page in Chromium, which treats each line like a keyboard scan."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from display_client.serial_bridge.scanner import ScannerRelay
from hardware_sim.serial.scanner import ScannerSim
from kiosk_server.clock import FixedClock
from kiosk_server.devices.link import SerialLink
from tests.browser_conftest import PageFactory, save_screenshot
from tests.display_client.pages.conftest import Site
from tests.factories import ID_ELDERLY_1949

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

KIOSK = {"width": 1080, "height": 1920}


@dataclass
class Bridge:
    sim: ScannerSim
    relay: ScannerRelay
    url: str


@pytest_asyncio.fixture
async def bridge(tmp_path: Path) -> AsyncIterator[Bridge]:
    with ScannerSim(link_path=str(tmp_path / "ttyACM0")) as sim:
        link = SerialLink(sim.path, read_timeout=0.05, backoff_initial=0.01, backoff_max=0.05)
        relay = ScannerRelay(link)
        port = await relay.start("127.0.0.1", 0)
        task = asyncio.create_task(relay.run())
        try:
            yield Bridge(sim, relay, f"ws://127.0.0.1:{port}")
        finally:
            await relay.close()
            await asyncio.wait_for(task, 5)


async def test_serial_scans_drive_the_kiosk_page(
    page_factory: PageFactory, site: Site, bridge: Bridge, clock: FixedClock
) -> None:
    page = await page_factory(**KIOSK)
    posted: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: (
            posted.append(json.loads(r.post_data))
            if r.method == "POST" and r.url.endswith("/tickets")
            else None
        ),
    )
    token = site.kit.tokens["kiosk"]
    await page.goto(site.url(f"/kiosk/demo?device_token={token}&scanner={bridge.url}"))
    await page.wait_for_selector(".k-service")
    await page.wait_for_selector("#scanner-status[data-state=ok]")
    assert bridge.relay.clients  # the page is connected to the bridge
    assert "scanner=" not in page.url
    assert await page.evaluate("localStorage.getItem('hallq.kiosk.scanner')") == bridge.url

    # An elderly resident's ID card on the serial scanner: green channel, number masked.
    bridge.sim.scan(ID_ELDERLY_1949)
    await page.wait_for_selector("#green[aria-pressed=true]")
    info = await page.inner_text("#scan-info")
    assert "110***********002X" in info and "绿色通道" in info
    assert ID_ELDERLY_1949 not in await page.content()
    await save_screenshot(page, "kiosk-serial-scan")

    # Two taps: the ticket request carries the ID number, and the ticket is green.
    await page.click("[data-service=enrol]")
    await page.click("#take")
    await page.wait_for_selector("#screen-ticket:not(.hidden)")
    assert await page.is_visible("#t-channel")
    assert posted == [{"service": "enrol", "channel": "green", "id_number": ID_ELDERLY_1949}]
    number = await page.inner_text("#t-number")
    queue = (await site.api.get("/api/v1/halls/demo/queue", headers=site.kit.auth("staff"))).json()
    assert [(q["number"], q["channel"]) for q in queue] == [(number, "green")]
    await page.click("#done")
    await page.wait_for_selector("#green[aria-pressed=false]")

    # An appointment QR on the serial scanner checks in straight away.
    r = await site.api.post(
        "/api/v1/halls/demo/appointments",
        json={
            "service": "payment",
            "slot_start": "2026-11-25T10:30:00+08:00",
            "name": "李四",
            "phone": "13900000000",
        },
    )
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    clock.advance(minutes=15)  # inside the check-in window of the 10:30 slot
    bridge.sim.scan(code.lower())
    await page.wait_for_selector("#screen-ticket:not(.hidden)")
    assert posted[-1] == {"appointment_code": code}
    appointment = (await site.api.get(f"/api/v1/appointments/{code}")).json()
    assert appointment["state"] == "checked_in"
    assert appointment["ticket_number"] == await page.inner_text("#t-number")
    await page.click("#done")

    # Reloaded without the parameter, the page remembers its scanner.
    await page.goto(site.url("/kiosk/demo"))
    await page.wait_for_selector("#scanner-status[data-state=ok]")
    # Scanner unplugged, then the bridge stopped: only the staff dot changes.
    bridge.sim.unplug()
    await page.wait_for_selector("#scanner-status[data-state=port-down]")
    await bridge.relay.close()
    await page.wait_for_selector("#scanner-status[data-state=down]")
    assert await page.is_hidden("#error")
    assert await page.is_visible(".k-service")
