"""Hall screen: a burst of calls while disconnected is announced in full after
reconnecting; the TTS fallback serves audio; the phone rates when the pad did not."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest

from kiosk_server.clock import FixedClock
from tests.browser_conftest import PageFactory, save_screenshot
from tests.display_client.pages.conftest import Site
from tests.factories import SHANGHAI, HallKit

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def post(site: Site, counter: int, action: str, **body: object) -> dict[str, object]:
    kit: HallKit = site.kit
    r = await site.api.post(
        f"/api/v1/counters/{kit.counter_ids[counter]}/{action}",
        json=body or None,
        headers=kit.auth(f"staff{counter}"),
    )
    assert r.status_code == 200, r.text
    data: dict[str, object] = r.json()
    return data


async def take(site: Site, service: str, **body: object) -> dict[str, object]:
    r = await site.api.post(
        "/api/v1/halls/demo/tickets",
        json={"service": service, **body},
        headers=site.kit.auth("kiosk"),
    )
    assert r.status_code == 201, r.text
    data: dict[str, object] = r.json()
    return data


async def test_calls_made_while_disconnected_are_all_announced_in_order(
    page_factory: PageFactory, site: Site
) -> None:
    tickets = [await take(site, s) for s in ("enrol", "payment", "record_query", "enrol")]
    await take(site, "chronic_disease", channel="green")
    screen = await page_factory(width=1920, height=1080)
    await screen.goto(site.url(f"/display/demo?device_token={site.kit.tokens['display']}"))
    await screen.wait_for_selector("#conn:not(.off)")
    first = await post(site, 1, "call-next")
    await screen.wait_for_function("window.hallq.announcements.length === 1")

    # The screen loses its connection; three calls happen meanwhile.
    await screen.context.set_offline(True)
    await screen.evaluate("window.hallq.stream.ws.close()")
    await screen.wait_for_selector("#conn.off")
    called = [first] + [await post(site, n, "call-next") for n in (2, 3, 4)]
    await screen.context.set_offline(False)

    expected = [
        f"请 {c['ticket']['number']} 号 到 {n} 号窗口 办理"  # type: ignore[index]
        for c, n in zip(called, (1, 2, 3, 4), strict=True)
    ]
    await screen.wait_for_function("window.hallq.announcements.length === 4", timeout=8000)
    texts = await screen.evaluate("window.hallq.announcements.map(a => a.text)")
    assert texts == expected  # none dropped, none doubled, in call order
    # Every counter tile shows its number; the waiting list counts the rest.
    for c, n in zip(called, (1, 2, 3, 4), strict=True):
        tile = await screen.inner_text(f".d-counter[data-counter='{n}'] .d-cnum")
        assert tile == c["ticket"]["number"]  # type: ignore[index]
    await screen.wait_for_function(
        "document.querySelector('#waiting-total').textContent === '共 1 人'"
    )
    # Queued, not cut off: one is spoken at a time, the rest wait their turn.
    states = await screen.evaluate("window.hallq.announcements.map(a => a.state)")
    assert states.count("speaking") <= 1
    assert states[-1] in ("pending", "speaking", "done")
    await screen.wait_for_function("window.hallq.announcements[0].mode !== null", timeout=15000)
    mode = await screen.evaluate("window.hallq.announcements[0].mode")
    # Headless Chromium has no zh-CN voice: the server's espeak-ng audio or chime+flash.
    assert mode in ("speech", "audio", "flash")
    if shutil.which("espeak-ng"):
        assert mode in ("speech", "audio")
    # Nothing personal or secret on the public screen: no status-link tokens.
    html = await screen.content()
    for t in tickets:
        assert str(t["status_url"]).rsplit("/", 1)[1] not in html
    await save_screenshot(screen, "display-busy")


async def test_closed_hall_screen_says_so_and_when_it_opens(
    page_factory: PageFactory, site: Site, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI))  # National Day
    page = await page_factory(width=1920, height=1080)
    await page.goto(site.url("/display/demo"))
    await page.wait_for_selector(".d-counter[data-counter='1']")
    assert await page.inner_text(".d-counter[data-counter='1'] .d-cnum") == "休息"
    notice = await page.inner_text("#notice")
    assert "法定节假日" in notice and "10月8日" in notice
    assert "请取号" not in notice  # no invitation to take a ticket

    # Next morning it opens: the minute refresh shows the counters without an event.
    clock.set(datetime(2026, 10, 8, 8, 31, tzinfo=SHANGHAI))
    await page.evaluate("window.hallq.refresh()")
    await page.wait_for_function(
        "document.querySelector(\".d-counter[data-counter='1'] .d-cnum\").textContent === '—'"
    )
    assert "法定节假日" not in await page.inner_text("#notice")
